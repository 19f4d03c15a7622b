"""What every step is: explain, check, apply, undo.

A step is one tutorial instruction turned into code. ``check`` only reads and says what ``apply``
would do (the plan); ``apply`` performs it and is a no-op when ``check`` says the thing already
exists; ``undo`` removes only what the wizard itself made. Screens and the headless CLI drive the
same objects, so a plan shown on screen is the plan a script gets.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wizard.context import RunContext


class Action(StrEnum):
    """What a step would do, or did."""

    CREATE = "create"  # nothing there yet: apply will create it
    EXISTS = "exists"  # already as wanted: apply changes nothing
    UPDATE = "update"  # there but different in a way apply may fix (needs confirmation or --yes)
    CONFLICT = "conflict"  # there but different in a way the wizard will not touch
    SKIP = "skip"  # does not apply to this setup (e.g. the user step in OIDC mode)
    DELETE = "delete"  # destroy will remove it
    KEEP = "keep"  # destroy leaves it (not made by the wizard, or never deleted: the bucket)
    ABSENT = "absent"  # destroy has nothing to remove
    BLOCKED = "blocked"  # cannot proceed until something else is fixed (e.g. an insecure keyring)


@dataclass(frozen=True, slots=True)
class StepCheck:
    """The answer of ``check``: what would happen and why, in words an operator can read."""

    action: Action
    detail: str
    #: The AWS API calls apply would make, e.g. ``["iam:CreateGroup"]``.
    calls: tuple[str, ...] = ()
    #: For UPDATE/CONFLICT: a short description of what differs.
    difference: str | None = None


@dataclass(slots=True)
class StepResult:
    """The answer of ``apply`` or ``undo``: what happened and what it produced."""

    action: Action
    detail: str
    #: Resource identifiers the summary shows, e.g. ``{"group_arn": "arn:aws:iam::..."}``.
    #: Never a secret.
    outputs: dict[str, Any] = field(default_factory=dict)


class Step(ABC):
    """One step of the tutorial."""

    #: A short stable identifier used by the CLI's JSON and the TUI's step list.
    key: str = ""
    #: The title on screen and in the plan.
    title: str = ""
    #: Two or three plain sentences: what the step does and why (least privilege in practice).
    why: str = ""

    @abstractmethod
    def check(self, ctx: RunContext) -> StepCheck:
        """Read what exists and say what ``apply`` would do. Never writes."""

    @abstractmethod
    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        """Make it so. Idempotent: a second call changes nothing."""

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        """What ``undo`` would do (DELETE, KEEP or ABSENT). Default: nothing to undo."""
        return StepCheck(Action.KEEP, f"{self.title}: nothing to remove.")

    def undo(self, ctx: RunContext) -> StepResult:
        """Remove what this step made, and only if the wizard made it."""
        return StepResult(Action.KEEP, f"{self.title}: nothing to remove.")

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        """The API calls this step may make, for the 'exactly what will happen' panel."""
        return ()
