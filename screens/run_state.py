"""What the TUI knows about this run, with no Textual in it: the answers as typed, the config the
engine built from them, the one RunContext for that config, and what the engine said since.

A screen never builds a :class:`~wizard.config.SetupConfig` itself: every keystroke goes into
:attr:`RunState.answers`, and :func:`wizard.answers.build_config` (the CLI's builder) turns them
into a config or into problems. So a prefix typed ``builds`` is ``builds/`` on every page, and a
wrong answer stops every page, not only the one it was typed on. When the config changes, the
context follows with :meth:`~wizard.context.RunContext.with_config` (same session, clients and
identity), and the plans and results of the old answers stop counting.

Plans carry the *epoch* they were made in: every step run starts a new one, so a plan read before
a write is known to be stale and asked again (cheaply: the context's read memo keeps every answer
the write did not change).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..wizard.answers import BadAnswers, answers_of, build_config
from ..wizard.config import SetupConfig
from ..wizard.model import Action, Plan, SecretHandoff, StepPlan, StepResult
from ..wizard.overview import Overview
from ..wizard.registry import StepInfo, info, missing_before, steps_for
from ..wizard.validation import Problem

if TYPE_CHECKING:
    from ..wizard.clipboard import CopyOnce
    from ..wizard.context import RunContext


class RunState:
    """Answers, config, context, plans and results of one TUI run."""

    def __init__(self, answers: Mapping[str, Any]) -> None:
        #: Every answer as the operator typed it (or the command line gave it; else the default).
        self.answers: dict[str, Any] = {**answers_of(SetupConfig()), **answers}
        #: Errors and warnings of the latest build, each naming its answer.
        self.problems: tuple[Problem, ...] = ()
        #: The config for the answers, or None while one of them is wrong.
        self.config: SetupConfig | None = None
        #: The last config that was right (the page order while an answer is being fixed).
        self.last_good = SetupConfig()
        #: The bucket may be empty only until the app has suggested one.
        self.bucket_required = bool(self.answers.get("bucket"))
        self.ctx: RunContext | None = None
        #: Bumped by every step run: plans made before it may be out of date.
        self.epoch = 0
        self._plans: dict[str, tuple[int, StepPlan]] = {}
        self._results: dict[str, tuple[SetupConfig, StepResult]] = {}
        self._copies: dict[str, CopyOnce] = {}
        #: A secret the engine could not keep and the operator must take, once.
        self.handoff: SecretHandoff | None = None
        self._build()

    # -- answers ---------------------------------------------------------------------------

    def _build(self) -> bool:
        """Build the config from the answers; True if it changed (the context follows)."""
        try:
            built = build_config(self.answers, bucket_required=self.bucket_required)
        except BadAnswers as bad:
            self.problems = bad.problems
            changed = self.config is not None
            self.config = None
            return changed
        self.problems = built.warnings
        if built.config == self.config:
            return False
        self.config = self.last_good = built.config
        if self.ctx is not None and self.ctx.config != built.config:
            self.ctx = self.ctx.with_config(built.config)
            self._plans.clear()
        return True

    def set_answer(self, name: str, value: Any) -> bool:
        """Keep one answer as typed; True if the config changed."""
        self.answers[name] = value
        return self._build()

    def set_answers(self, **values: Any) -> bool:
        self.answers.update(values)
        return self._build()

    def problems_for(self, *fields: str) -> list[Problem]:
        return [p for p in self.problems if p.field in fields]

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def flow_config(self) -> SetupConfig:
        """The config that decides which pages there are (the last good one while fixing)."""
        return self.config or self.last_good

    # -- the connection --------------------------------------------------------------------

    def attach(self, ctx: RunContext) -> None:
        """Use ``ctx`` (just opened) from now on, for the answers as they are."""
        self.ctx = ctx
        if self.config is not None and ctx.config != self.config:
            self.ctx = ctx.with_config(self.config)
        self._plans.clear()

    def refresh_context(self) -> None:
        """A new context for the same answers (e.g. after a CircleCI sign-in): fresh reads."""
        if self.ctx is not None:
            self.ctx = self.ctx.with_config(self.ctx.config)
            self._plans.clear()

    def current(self, ctx: RunContext | None) -> bool:
        """Is ``ctx`` still the run's context (answers unchanged since work started with it)?"""
        return ctx is not None and ctx is self.ctx

    # -- pages -----------------------------------------------------------------------------

    def steps(self) -> tuple[StepInfo, ...]:
        return steps_for(self.flow_config)

    def step_number(self, key: str) -> tuple[int, int] | None:
        """(n, of) for a step's page, None for the pages around the steps."""
        keys = [s.key for s in self.steps()]
        return (keys.index(key) + 1, len(keys)) if key in keys else None

    # -- plans and results -----------------------------------------------------------------

    def record_plan(self, ctx: RunContext, plan: StepPlan, epoch: int) -> bool:
        """Keep a plan made with ``ctx`` in ``epoch``; False if the answers changed since."""
        if not self.current(ctx):
            return False
        known = self._plans.get(plan.key)
        if known is None or known[0] <= epoch:
            self._plans[plan.key] = (epoch, plan)
        return True

    def plan(self, key: str) -> StepPlan | None:
        """The latest plan of step ``key`` for the current answers (maybe stale: see fresh)."""
        known = self._plans.get(key)
        return known[1] if known else None

    def fresh(self, key: str) -> bool:
        """Was the plan of ``key`` made after the last step run?"""
        known = self._plans.get(key)
        return known is not None and known[0] == self.epoch

    def overview(self) -> Overview | None:
        """Every step's plan summed up, once each is in and current (None until then, and
        while an answer is wrong)."""
        ctx = self.ctx
        if self.errors or ctx is None or not all(self.fresh(s.key) for s in self.steps()):
            return None
        plans = tuple(p for s in self.steps() if (p := self.plan(s.key)) is not None)
        return Overview(Plan("setup", ctx.config, ctx.identity, ctx.region, plans))

    def record_result(self, ctx: RunContext, result: StepResult) -> None:
        """A step ran: keep what it did, and call every plan made before it out of date."""
        self._results[result.key] = (ctx.config, result)
        self.epoch += 1

    def invalidate(self) -> None:
        """Something may have changed (a failed run, a re-check asked for): plan again."""
        self.epoch += 1

    def result(self, key: str) -> StepResult | None:
        """What step ``key`` did in this run, for the answers as they are now."""
        known = self._results.get(key)
        if known is None or known[0] != self.config:
            return None
        return known[1]

    def done(self) -> set[str]:
        """Steps that need nothing more: run in this run, or found as wanted by their plan."""
        found = {k for k, (_, p) in self._plans.items() if p.action is Action.EXISTS}
        ran = {s.key for s in self.steps() if (r := self.result(s.key)) is not None and r.ok}
        return found | ran

    def missing_before(self, key: str) -> list[StepInfo] | None:
        """The steps to do before page ``key`` can run (the registry's rule), or None while
        one of them has not been planned yet (it may well be done already)."""
        if self.config is None or key not in {s.key for s in self.steps()}:
            return []
        missing = missing_before(key, self.done(), self.config)
        if any(self.plan(s.key) is None for s in missing):
            return None
        return missing

    def unplanned_before(self, key: str) -> list[str]:
        """The steps before ``key`` whose plan is not known yet."""
        if self.config is None:
            return []
        return [s.key for s in missing_before(key, self.done(), self.config)
                if self.plan(s.key) is None]

    def known_results(self) -> dict[str, StepResult]:
        """Every step's result as far as known: what ran, else a plan that had nothing to do,
        turned into a result as :meth:`wizard.engine.Engine.apply` does for such a step."""
        known: dict[str, StepResult] = {}
        for step in self.steps():
            result = self.result(step.key)
            plan = self.plan(step.key)
            if result is None and plan is not None and self.ctx is not None and \
                    plan.action in (Action.EXISTS, Action.SKIP):
                result = StepResult(plan.key, plan.action, plan.detail,
                                    info(plan.key).step().outputs(self.ctx, plan),
                                    title=plan.title)
            if result is not None:
                known[step.key] = result
        return known

    def outputs(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for result in self.known_results().values():
            merged.update({k: v for k, v in result.outputs.items() if v is not None})
        return merged

    # -- the secret, copied once -----------------------------------------------------------

    def copy_once(self, key_id: str, secret: Callable[[], str]) -> CopyOnce:
        """The one copy-once guard of access key ``key_id`` for the whole run."""
        if key_id not in self._copies:
            from ..wizard.clipboard import CopyOnce

            self._copies[key_id] = CopyOnce(secret)
        return self._copies[key_id]

    def copied(self, key_id: str) -> bool:
        guard = self._copies.get(key_id)
        return guard is not None and guard.used
