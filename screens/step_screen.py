"""What every AWS step page does: explain, show the plan, run the step in a thread, report.

A step page checks on entry (``Step.check`` in a thread worker) and shows exactly what would
happen: the plan in words and the API calls. Enter validates the inputs with the engine's rules,
then runs ``Step.apply`` in a thread worker while a spinner shows; the result, or the AWS error
in plain words, replaces it, and Enter retries a failure or moves on after a success. Subclasses
add inputs and details; none of them talks to AWS except through the engine's step.
"""

from __future__ import annotations

from typing import Any, ClassVar

from rich.markup import escape
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.widgets import Button, Input, LoadingIndicator, OptionList, Static

from screens.confirm_screen import ConfirmScreen
from screens.flow import NEXT
from screens.page import PageScreen
from screens.widgets.field import Field
from wizard.config import SetupConfig
from wizard.context import RunContext
from wizard.errors import ConflictError, explain
from wizard.steps.base import Action, Step, StepCheck, StepResult

#: Seconds of quiet typing before the plan is checked again against AWS.
RECHECK_DELAY = 0.4

_VERBS = {
    Action.CREATE: "Will create",
    Action.EXISTS: "Already done",
    Action.UPDATE: "Will update (asks first)",
    Action.CONFLICT: "Conflict",
    Action.SKIP: "Skipped",
    Action.BLOCKED: "Blocked",
}


_WORST_FIRST = (Action.BLOCKED, Action.CONFLICT, Action.UPDATE, Action.CREATE, Action.EXISTS,
                Action.SKIP)


def _worst(actions: list[Action]) -> Action:
    return next((a for a in _WORST_FIRST if a in actions), actions[0])


def combine_checks(checks: list[tuple[Step, StepCheck]]) -> StepCheck:
    """One plan for a page that runs several steps (the CircleCI page in OIDC mode)."""
    if len(checks) == 1:
        return checks[0][1]
    worst = _worst([c.action for _, c in checks])
    if worst in (Action.BLOCKED, Action.CONFLICT):
        # Only what stops the page, each reason once: one failed CircleCI lookup blocks every
        # step of the page with the same sentence, and the operator needs to read it once.
        reasons = list(dict.fromkeys(c.detail for _, c in checks if c.action is worst))
        return StepCheck(worst, "\n".join(reasons))
    return StepCheck(
        worst,
        "\n".join(f"{s.title}: {c.detail}" for s, c in checks),
        tuple(call for _, c in checks for call in c.calls),
    )


def combine_results(results: list[tuple[Step, StepResult]]) -> StepResult:
    if len(results) == 1:
        return results[0][1]
    outputs: dict[str, Any] = {}
    for _, r in results:
        outputs.update(r.outputs)
    actions = [r.action for _, r in results]
    action = next((a for a in (Action.CREATE, Action.UPDATE, Action.EXISTS) if a in actions),
                  actions[-1])
    return StepResult(action, "\n".join(f"{s.title}: {r.detail}" for s, r in results),
                      outputs)


class StepScreen(PageScreen):
    """A page for one engine step (``KEY`` is the step's key)."""

    BINDINGS = [
        Binding("enter", "run", "Run step", priority=True, id="run"),
        Binding("enter", "next", "Next", priority=True, id="next"),
        Binding("ctrl+r", "recheck", "Re-check", show=False, id="recheck"),
    ]

    #: Why this step matters, beyond the step's own ``why`` (for F1).
    HELP: ClassVar[str] = ""
    #: What the operator can do about a conflict or a blocked step, under its reason.
    BLOCKED_ADVICE: ClassVar[str] = ("Change the answers above, or fix it in AWS and press "
                                     "ctrl+r to check again.")

    def __init__(self) -> None:
        super().__init__()
        #: checking | ready | running | applied | failed
        self.state = "checking"
        self.last_check: StepCheck | None = None
        self.checked_config: SetupConfig | None = None
        self.applied_config: SetupConfig | None = None
        self.result: StepResult | None = None
        self._run_when_checked = False
        self._recheck_timer: Timer | None = None

    # -- composition -----------------------------------------------------------------------

    @property
    def step(self) -> Step:
        return self.wizard.step(self.KEY)

    def steps_to_run(self) -> list[Step]:
        """The engine steps this page runs, in order (one, except on the CircleCI page)."""
        return [self.step]

    def compose_page(self) -> ComposeResult:
        yield Static(self.step.why, classes="why")
        yield from self.compose_inputs()
        yield Static("", id="plan", classes="panel")
        yield from self.compose_details()
        yield LoadingIndicator(id="busy")
        yield Static("", id="outcome", classes="outcome")

    def compose_inputs(self) -> ComposeResult:
        """The step's inputs (``Field``s and choices); none by default."""
        yield from ()

    def compose_details(self) -> ComposeResult:
        """Extra panels after the plan (e.g. the policy document)."""
        yield from ()

    def help_text(self) -> str:
        return f"{self.step.why}\n\n{self.HELP}".strip()

    def on_mount(self) -> None:
        self.query_one("#busy").display = False
        self.recheck()
        fields = list(self.query(Field))
        if fields:
            fields[0].input.focus()

    # -- inputs ----------------------------------------------------------------------------

    def fields(self) -> list[Field]:
        """The inputs on show (a page may hide those its mode does not use)."""
        return [f for f in self.query(Field) if f.display]

    def input_errors(self) -> list[tuple[Field | None, str]]:
        """Every error in the inputs, as the engine words it."""
        return [(f, error) for f in self.fields() for error in f.errors()]

    def save(self, **changes: Any) -> None:
        """Keep an answer in the app's config (so Escape never loses it) and re-plan."""
        config = self.wizard.config.with_changes(**changes)
        if config != self.wizard.config:
            self.wizard.config = config
            self.answers_changed()

    def answers_changed(self) -> None:
        if self.state in ("applied", "failed"):
            self.set_state("ready")
        if self._recheck_timer is not None:
            self._recheck_timer.stop()
        if self.input_errors():
            self.recheck()  # says at once that there is nothing to plan until it is fixed
        else:
            self._recheck_timer = self.set_timer(RECHECK_DELAY, self.recheck)

    def on_input_changed(self, event: Input.Changed) -> None:
        field = next((f for f in self.fields() if f.input is event.input), None)
        if field is None:
            return
        event.stop()
        field.show_problems()
        self.save(**{field.config_field: field.config_value})

    def final_changes(self) -> dict[str, Any]:
        """Answers to normalise just before running (e.g. the prefix's trailing slash)."""
        return {}

    # -- state -----------------------------------------------------------------------------

    def set_state(self, state: str) -> None:
        self.state = state
        busy = state in ("checking", "running")
        if self.is_mounted:
            self.query_one("#busy").display = state == "running"
            self.set_class(busy, "-busy")
            self.refresh_bindings()

    def busy(self) -> bool:
        return self.state == "running"

    def is_current(self) -> bool:
        """Has this step been applied with the answers as they are now?"""
        return self.state == "applied" and self.applied_config == self.wizard.config

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return not self.is_current()
        if action == "next":
            return self.is_current()
        return True

    # -- the plan (check) ------------------------------------------------------------------

    def action_recheck(self) -> None:
        self.recheck()

    def recheck(self) -> None:
        """Check what exists, in a thread; skipped while the answers are invalid."""
        self._recheck_timer = None
        if self.state == "running":
            return
        ctx = self.wizard.context()
        calls = ", ".join(c for s in self.steps_to_run() for c in s.describe_calls(ctx))
        if self.input_errors():
            self.show_plan("Fix the answer above to see what will happen.", calls, "invalid")
            self.set_state("ready")
            return
        self.show_plan("Checking what already exists…", calls, "checking")
        if not self.is_current():
            self.set_state("checking")
        self._check(self.wizard.context())

    @work(thread=True, exclusive=True, group="check", exit_on_error=False,
          description="checking a step")
    def _check(self, ctx: RunContext) -> None:
        try:
            check = combine_checks([(s, s.check(ctx)) for s in self.steps_to_run()])
            extra = self.gather(ctx)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence with the AWS code
            self._from_thread(self._check_failed, explain(exc, f"checking {self.step.title}"),
                              ctx.config)
            return
        self._from_thread(self._checked, check, extra, ctx.config)

    def gather(self, ctx: RunContext) -> Any:
        """Extra facts for the page, read in the check's thread (e.g. the policy JSON)."""
        return None

    def show_gathered(self, extra: Any) -> None:
        """Show what :meth:`gather` found (UI thread)."""

    def _from_thread(self, callback: Any, *args: Any) -> None:
        """Run ``callback`` on the UI thread, unless the app is already gone."""
        self.wizard.call_ui(callback, *args)

    def _checked(self, check: StepCheck, extra: Any, config: SetupConfig) -> None:
        if not self.is_attached or config != self.wizard.config:
            return  # the answers changed meanwhile; a newer check is on its way
        self.last_check = check
        self.checked_config = config
        self.show_gathered(extra)
        self.show_plan(f"{_VERBS.get(check.action, check.action.value)}: {check.detail}",
                       ", ".join(check.calls),
                       check.action.value)
        settled = self.state in ("applied", "failed", "running")
        if check.action is Action.EXISTS and self.state != "applied":
            self.wizard.set_status(self.KEY, "exists")
            self.show_outcome("Already done: nothing to change. Enter continues.", "info")
        elif check.action in (Action.CONFLICT, Action.BLOCKED):
            self.wizard.set_status(self.KEY, "failed")
            self.show_outcome(f"{check.detail}\n{self.BLOCKED_ADVICE}", "error")
        elif not settled:
            # A plan that no longer exists or is blocked: its old verdict must not linger.
            if self.wizard.page_status.get(self.KEY) in ("exists", "failed"):
                self.wizard.page_status.pop(self.KEY)
                self.wizard.refresh_step_list()
            self.show_outcome("", "info")
        if self.state == "checking":
            self.set_state("ready")
        if self._run_when_checked:
            self._run_when_checked = False
            self.action_run()

    def _check_failed(self, error: Exception, config: SetupConfig) -> None:
        if not self.is_attached or config != self.wizard.config:
            return
        self.last_check = None
        self.show_plan("Could not check what exists.", "", "error")
        self.show_outcome(f"{error}\nPress Enter to try again.", "error")
        self._run_when_checked = False
        if self.state == "checking":
            self.set_state("ready")

    def show_plan(self, text: str, calls: str, kind: str) -> None:
        plan = self.query_one("#plan", Static)
        lines = ["[b]What will happen[/b]", escape(self.wizard.shown(text))]
        if calls:
            lines.append(f"[dim]API calls:[/dim] {escape(calls)}")
        plan.update("\n".join(lines))
        for name in ("create", "exists", "update", "conflict", "blocked", "skip", "error",
                     "checking", "invalid"):
            plan.set_class(name == kind, f"-{name}")

    def show_outcome(self, text: str, kind: str) -> None:
        outcome = self.query_one("#outcome", Static)
        outcome.update(Text(self.wizard.shown(text)))
        if kind in ("success", "error"):
            self.call_after_refresh(outcome.scroll_visible)
        for name in ("success", "error", "info", "warning"):
            outcome.set_class(name == kind, f"-{name}")

    # -- running (apply) -------------------------------------------------------------------

    def action_next(self) -> None:
        self.dismiss(NEXT)

    def action_run(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()
            return
        if isinstance(focused, OptionList) and focused.highlighted is not None:
            focused.action_select()
            return
        if self.state == "running":
            return
        errors = self.input_errors()
        if errors:
            field, first = errors[0]
            self.show_outcome(f"✗ {first}\nNothing was run: fix the answer first.", "error")
            if field is not None:
                field.input.focus()
            self.app.bell()
            return
        changes = self.final_changes()
        if changes:
            self.wizard.config = self.wizard.config.with_changes(**changes)
            for field in self.fields():
                value = getattr(self.wizard.config, field.config_field)
                if field.input.value != (value or ""):
                    with field.input.prevent(Input.Changed):
                        field.input.value = value or ""
        if self.state == "checking" or self.checked_config != self.wizard.config:
            self._run_when_checked = True
            if self.state != "checking":
                self.recheck()
            return
        if self.last_check is not None and self.last_check.action is Action.UPDATE:
            self.ask_update(self.last_check.detail)
            return
        self.start_apply(allow_update=False)

    def ask_update(self, detail: str) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.start_apply(allow_update=True)
            else:
                self.show_outcome("Nothing was changed. Choose other names above, or press "
                                  "Enter to be asked again.", "warning")

        self.app.push_screen(
            ConfirmScreen("Update what exists?", f"{detail}\n\nUpdate it now?", yes="Update",
                          no="Keep it"),
            answered,
        )

    def start_apply(self, *, allow_update: bool) -> None:
        self.set_state("running")
        self.show_outcome(f"Running: {self.step.title}…", "info")
        self._apply(self.wizard.context(), allow_update)

    @work(thread=True, exclusive=True, group="apply", exit_on_error=False,
          description="running a step")
    def _apply(self, ctx: RunContext, allow_update: bool) -> None:
        try:
            done = []
            for step in self.steps_to_run():
                done.append((step, step.apply(ctx, allow_update=allow_update)))
            result = combine_results(done)
            extra = self.after_apply(ctx, result)
        except Exception as exc:  # noqa: BLE001 - routed to the page as a sentence
            self._from_thread(self._apply_failed, exc, allow_update)
            return
        self._from_thread(self._applied, result, extra, ctx.config)

    def after_apply(self, ctx: RunContext, result: StepResult) -> Any:
        """Read anything the page shows after a success (runs in the worker thread)."""
        return None

    def _applied(self, result: StepResult, extra: Any, config: SetupConfig) -> None:
        self.result = result
        self.wizard.record(self.KEY, result)
        if not self.is_attached:
            return
        self.applied_config = config
        self.set_state("applied")
        mark = "✓" if result.action is not Action.SKIP else "–"
        self.show_outcome(f"{mark} {result.detail}\nPress Enter to continue.", "success")
        self.show_applied(result, extra)

    def show_applied(self, result: StepResult, extra: Any) -> None:
        """Show what the step produced (UI thread)."""

    def _apply_failed(self, error: Exception, allow_update: bool) -> None:
        if not self.is_attached:
            return
        if isinstance(error, ConflictError) and not allow_update and \
                self.last_check is not None and self.last_check.action is Action.UPDATE:
            self.set_state("ready")
            self.ask_update(str(error))
            return
        if self.handle_error(error):
            return
        self.wizard.set_status(self.KEY, "failed")
        self.set_state("failed")
        sentence = str(explain(error, f"running {self.step.title}"))
        self.show_outcome(f"✗ {sentence}\nPress Enter to retry, or Escape to go back.", "error")

    def handle_error(self, error: Exception) -> bool:
        """A page's own handling of a failure; True if it was handled."""
        return False
