"""The engine: the tutorial's steps in order, planned, applied and undone as one run.

The headless CLI calls :class:`Engine` directly; the TUI drives the same step objects one screen
at a time. ``apply`` plans first and refuses to touch anything if a step is in conflict or
blocked, so a bad answer never leaves half a setup behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wizard.config import AuthMode, SetupConfig
from wizard.context import RunContext
from wizard.errors import ConflictError, WizardError, explain
from wizard.steps.base import Action, Step, StepCheck, StepResult


def build_steps(config: SetupConfig) -> list[Step]:
    """Every step of the tutorial, in order. Steps that do not apply to a mode say SKIP."""
    from wizard.circleci.delivery_step import CircleCIDeliveryStep
    from wizard.circleci.oidc_steps import OidcProviderStep, OidcRoleStep
    from wizard.steps.access_key_step import AccessKeyStep
    from wizard.steps.attach_step import AttachStep
    from wizard.steps.bucket_step import BucketStep
    from wizard.steps.folder_step import FolderStep
    from wizard.steps.group_step import GroupStep
    from wizard.steps.policy_step import PolicyStep
    from wizard.steps.user_step import UserStep

    steps: list[Step] = [BucketStep(), FolderStep(), GroupStep(), PolicyStep(), AttachStep(),
                         UserStep(), AccessKeyStep()]
    if config.auth is AuthMode.OIDC:
        steps += [OidcProviderStep(), OidcRoleStep()]
    steps.append(CircleCIDeliveryStep())
    return steps


@dataclass(frozen=True, slots=True)
class Planned:
    step: Step
    check: StepCheck


@dataclass(frozen=True, slots=True)
class Done:
    step: Step
    result: StepResult


class PlanRefused(WizardError):
    """Applying would hit a conflict or a blocked step; nothing was changed."""

    def __init__(self, message: str, plan: list[Planned]):
        super().__init__(message)
        self.plan = plan


class NeedsConfirmation(ConflictError):
    """Something exists but differs; it may be updated only with confirmation (--yes)."""

    def __init__(self, message: str, plan: list[Planned]):
        super().__init__(message, hint="Re-run with --yes to update it, or choose other names.")
        self.plan = plan


Progress = Callable[[Step, str], None]


class Engine:
    """Plans, applies and destroys the whole setup for one :class:`RunContext`."""

    def __init__(self, ctx: RunContext, steps: list[Step] | None = None):
        self.ctx = ctx
        self.steps = steps if steps is not None else build_steps(ctx.config)

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    def _guard(self, step: Step, doing: str, call: Callable[[], object]) -> object:
        try:
            return call()
        except WizardError:
            raise
        except Exception as exc:  # noqa: BLE001 - turned into a sentence with the AWS code
            raise explain(exc, f"{doing} ({step.title})") from exc

    def plan(self) -> list[Planned]:
        """What apply would do, step by step. Only reads."""
        return [Planned(s, self._guard(s, "planning", lambda s=s: s.check(self.ctx)))
                for s in self.steps]

    def apply(self, *, allow_update: bool = False, progress: Progress | None = None,
              plan: list[Planned] | None = None) -> list[Done]:
        """Plan, refuse on conflicts, then apply each step in order."""
        plan = plan if plan is not None else self.plan()
        stuck = [p for p in plan if p.check.action in (Action.CONFLICT, Action.BLOCKED)]
        if stuck:
            raise PlanRefused("Nothing was changed: " + " ".join(p.check.detail for p in stuck),
                              plan)
        updates = [p for p in plan if p.check.action is Action.UPDATE]
        if updates and not allow_update:
            raise NeedsConfirmation(
                "Nothing was changed: " + " ".join(p.check.detail for p in updates), plan)
        done: list[Done] = []
        for item in plan:
            if progress:
                progress(item.step, "running")
            result = self._guard(item.step, "applying",
                                 lambda s=item.step: s.apply(self.ctx, allow_update=allow_update))
            done.append(Done(item.step, result))
            if progress:
                progress(item.step, "done")
        return done

    def plan_destroy(self) -> list[Planned]:
        """What destroy would remove (DELETE) or leave (KEEP/ABSENT), in the order it would."""
        return [Planned(s, self._guard(s, "planning removal", lambda s=s: s.plan_destroy(self.ctx)))
                for s in reversed(self.steps)]

    def destroy(self, *, progress: Progress | None = None) -> list[Done]:
        """Undo in reverse order; only what the wizard made. The bucket is always kept."""
        done: list[Done] = []
        for step in reversed(self.steps):
            if progress:
                progress(step, "running")
            result = self._guard(step, "removing", lambda s=step: s.undo(self.ctx))
            done.append(Done(step, result))
            if progress:
                progress(step, "done")
        return done
