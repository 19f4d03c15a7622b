"""What every step is: plan (read, then decide), apply (converge), and the same for destroy.

A step is one tutorial instruction turned into code. ``plan`` only reads, through the run's
shared :class:`~wizard.reads.Reads`, and compares what exists with what the setup wants; the
answer says what ``apply`` would do and carries the facts it read, so ``apply`` does not ask
again. ``apply`` converges: it creates what is missing and repairs what drifted on things the
wizard manages. ``destroy`` removes only what the wizard itself made.

Titles, explanations and the calls a step may make live in :mod:`wizard.registry`; the TUI and
the CLI drive the same objects, so a plan shown on screen is the plan a script gets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any, ClassVar

from ..model import Action, StepPlan, StepResult

if TYPE_CHECKING:
    from ..context import RunContext
    from ..graph import Work


class Step(ABC):
    """One step of the tutorial."""

    #: The registry key (``wizard.registry.STEPS``).
    key: ClassVar[str] = ""

    def __init__(self, title: str) -> None:
        #: The registry's title for the step (the registry makes each step, and gives it).
        self.title = title

    # -- helpers for subclasses ----------------------------------------------------------------

    def planned(self, action: Action, detail: str, *, calls: tuple[str, ...] = (),
                differences: tuple[str, ...] = (), warnings: tuple[str, ...] = (),
                facts: Any = None) -> StepPlan:
        return StepPlan(self.key, action, detail, calls, differences, warnings, facts,
                        title=self.title)

    def result(self, action: Action, detail: str, **outputs: Any) -> StepResult:
        return StepResult(self.key, action, detail, outputs, title=self.title)

    def skip(self, detail: str) -> StepPlan:
        return self.planned(Action.SKIP, detail)

    # -- the interface -------------------------------------------------------------------------

    @abstractmethod
    def plan(self, ctx: RunContext) -> StepPlan:
        """Read what exists and say what ``apply`` would do. Never writes."""

    @abstractmethod
    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        """Make it so, from ``plan``'s facts; each write passes ``work.checkpoint()`` first.

        Called only for plans whose action changes something; steps needing another's result
        wait with ``work.need(key)``, and announce their own milestone with ``work.ready()``.
        """

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        """What ``destroy`` would do (DELETE, KEEP or ABSENT). Default: nothing to remove."""
        return self.planned(Action.KEEP, f"{self.title}: nothing to remove.")

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        """Remove what ``plan_destroy`` said; only what the wizard made."""
        return self.result(plan.action, plan.detail)

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        """Identifiers to show for a step that had nothing to do (its resource's ARN...)."""
        return {}
