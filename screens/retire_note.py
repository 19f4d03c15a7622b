"""What the engine's Retire static keys step says, for the CircleCI page and for Done.

In OIDC mode the registry's ``retire_keys`` step is the one place that decides what becomes of a
static key an access-key setup left behind (in CircleCI, IAM and the keyring). Its own page runs
it; the CircleCI page says beforehand what it will do, and Done says what is still to do or to
know. Both show its plan as the engine wrote it (verb, detail, differences, warnings) and only
when it has something to say: a change, a refusal, or a warning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..wizard.model import NextStep
from ..wizard.registry import info
from .widgets.plan_panel import PLAN_VERB

if TYPE_CHECKING:
    from .app import WizardApp

STEP = "retire_keys"


def retire_note(app: WizardApp) -> NextStep | None:
    """The Retire static keys plan as one note with its lines, or None (not this setup's step,
    not planned since the last step ran: then it is asked for, or nothing to say)."""
    state = app.state
    if STEP not in {s.key for s in state.steps()}:
        return None
    if not state.fresh(STEP):
        if app.connected:
            app.plan_step(STEP)  # at most once per run state (the app's guard)
        return None
    plan = state.plan(STEP)
    if plan is None or not (plan.action.changes or plan.action.stops or plan.warnings):
        return None
    number = state.step_number(STEP)
    where = f" (step {number[0]})" if number else ""
    verb = PLAN_VERB.get(plan.action, plan.action.value)
    return NextStep(f"{info(STEP).title}{where}: {verb}: {plan.detail}",
                    (*plan.differences, *(f"! {w}" for w in plan.warnings)))
