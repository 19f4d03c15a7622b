"""What a step page says about its step: the engine's plan before it runs, its result after.

Rendered from the typed values only: the verb comes from the plan's :class:`~wizard.model.Action`
(never from comparing the detail's words), the detail, differences and warnings are the engine's
sentences, and the API calls are the ones the plan lists. Also says, instead of a plan, which step
must be done first or which answer must be fixed first.
"""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import Static

from ...wizard.model import Action, StepPlan, StepResult
from ...wizard.registry import StepInfo
from ...wizard.validation import Problem

#: What the plan's action means for the operator, before anything runs.
PLAN_VERB: dict[Action, str] = {
    Action.CREATE: "Will create",
    Action.REPAIR: "Will repair",
    Action.UPDATE: "Will update (asks first)",
    Action.EXISTS: "Already done: nothing to change",
    Action.SKIP: "Nothing for the wizard to do here",
    Action.CONFLICT: "Conflict: the wizard will not touch it",
    Action.BLOCKED: "Cannot run yet",
}
#: What a result's action says the step did.
RESULT_MARK: dict[Action, str] = {
    Action.CREATE: "✓ Done",
    Action.REPAIR: "✓ Repaired",
    Action.UPDATE: "✓ Updated",
    Action.EXISTS: "✓ Already done",
    Action.SKIP: "– Skipped",
    Action.FAILED: "✗ Failed",
    Action.STOPPED: "✗ Stopped",
}
#: The panel's CSS class for each action (its border colour).
KIND: dict[Action, str] = {
    Action.CREATE: "create", Action.REPAIR: "update", Action.UPDATE: "update",
    Action.EXISTS: "exists", Action.SKIP: "skip", Action.CONFLICT: "stopped",
    Action.BLOCKED: "stopped",
}
_KINDS = ("create", "update", "exists", "skip", "stopped", "checking", "invalid", "error")


class PlanPanel(Static):
    """"What will happen", in the engine's words."""

    def _show(self, kind: str, lines: list[str]) -> None:
        self.update("\n".join(["[b]What will happen[/b]", *lines]))
        for name in _KINDS:
            self.set_class(name == kind, f"-{name}")

    def checking(self) -> None:
        self._show("checking", ["Checking what already exists…"])

    def plan(self, plan: StepPlan) -> None:
        lines = [f"[b]{PLAN_VERB.get(plan.action, plan.action.value)}[/b]: {escape(plan.detail)}"]
        # As the CLI's plan prints them: the engine marks its own lines ("+ restrict context…",
        # "- delete …"), so they are shown as written.
        lines += [f"  {escape(d)}" for d in plan.differences]
        lines += [f"[b]![/b] {escape(w)}" for w in plan.warnings]
        if plan.calls:
            lines.append(f"[dim]API calls:[/dim] {escape(', '.join(plan.calls))}")
        self._show(KIND.get(plan.action, "create"), lines)

    def ran(self, result: StepResult) -> None:
        """After the step ran and the page stays: what it did."""
        self.update("\n".join(["[b]What happened[/b]", escape(result_line(result)),
                                "Press Enter to continue."]))
        for name in _KINDS:
            self.set_class(name == "exists", f"-{name}")

    def missing(self, steps: list[StepInfo], numbers: dict[str, int]) -> None:
        names = ", ".join(f"{s.title} (step {numbers[s.key]})" for s in steps)
        self._show("stopped", [f"First do: {escape(names)}. This step needs "
                               f"{'it' if len(steps) == 1 else 'them'} to exist.",
                               f"Enter goes to {escape(steps[0].title)}."])

    def invalid(self, problems: list[Problem], where: str) -> None:
        lines = [f"✗ {escape(where)}"]
        lines += [f"  {escape(p.rule)}" for p in problems]
        lines.append("Nothing is checked or run until it is fixed.")
        self._show("invalid", lines)

    def failed(self, sentence: str) -> None:
        self._show("error", [f"✗ Could not check what exists: {escape(sentence)}",
                             "Press ctrl+r to try again."])


def result_line(result: StepResult) -> str:
    """``✓ Done: Created bucket …`` for a result (plain text)."""
    return f"{RESULT_MARK.get(result.action, result.action.value)}: {result.detail}"
