"""A page for one registry step: its answers, the engine's plan, and Enter to run it.

On arrival the page shows the plan the app fetched in the background (so "exists" or "will
create" is there at once), and asks the engine again only if a step ran since. Enter runs the
step through the app (``Engine.apply_step`` under the run lock) and, when there is nothing to
review afterwards, goes straight on: the next page says what this one did. A plan that would
change something that exists (UPDATE) asks first; a step whose earlier steps are not done says
which to do first, and Enter goes there. In a run-through (Welcome's "Run all") the page presses
its own Enter on arrival, and the run-through ends wherever that Enter would not simply go on:
an error, a refusal, a question declined, a failure. Subclasses add inputs and panels; none of
them decides anything: every verdict is the engine's.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import LoadingIndicator, Static

from ..wizard.answers import label_of
from ..wizard.model import StepPlan, StepResult
from .confirm_screen import ConfirmScreen
from .flow import Nav, jump
from .messages import AwsWaiting, Job, PlanReady, StepApplied
from .page import PageScreen
from .widgets.field import AnswerField
from .widgets.plan_panel import PlanPanel


class StepScreen(PageScreen):
    """A page for the registry step ``KEY``."""

    BINDINGS = [
        Binding("enter", "run", "Run step", priority=True, id="run",
                tooltip="Run this step (asks first before changing what exists), then go on"),
        Binding("enter", "pass_by", "Continue", priority=True, id="pass-by",
                tooltip="Nothing to change here: go on to the next page"),
        Binding("enter", "next", "Continue", priority=True, id="next",
                tooltip="Go on to the next page"),
        Binding("ctrl+r", "recheck", "Check again", id="recheck",
                tooltip="Ask AWS again what exists (after fixing something outside the wizard)"),
    ]
    #: The answers this page edits (``SetupConfig`` field names), shown as inputs.
    ANSWERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, ran: StepResult | None = None) -> None:
        super().__init__(ran)
        #: planning | ready | running | ran | failed
        self.phase = "planning"
        self._run_when_planned = False
        #: Shown after a run that stays on the page (the result and what it made).
        self.result: StepResult | None = None

    # -- layout ----------------------------------------------------------------------------

    def compose_page(self) -> ComposeResult:
        # What will happen comes first, so it is in view on an 80x24 terminal; the answers
        # that change it follow.
        yield Static(self.info.step.why if self.info.step else "", classes="why")
        yield PlanPanel("", id="plan", classes="panel")
        yield from self.compose_inputs()
        yield from self.compose_details()
        yield LoadingIndicator(id="busy")
        yield Static("", id="outcome", classes="outcome")

    def compose_inputs(self) -> ComposeResult:
        """The page's inputs; by default one field per name in :attr:`ANSWERS`."""
        for name in self.ANSWERS:
            yield AnswerField(name, self.answer_text(name))

    def compose_details(self) -> ComposeResult:
        """Panels after the plan (e.g. the policy document)."""
        yield from ()

    def mounted(self) -> None:
        self.query_one("#busy").display = False
        self.show_answer_problems()
        self.refresh_page()
        fields = list(self.query(AnswerField))
        if fields:
            fields[0].input.focus(scroll_visible=False)
        if self.wizard.run_through:
            self.call_after_refresh(self.action_run)

    def hand_back(self) -> None:
        """This page needs the operator: a run-through stops here."""
        self.wizard.run_through = False

    # -- answers ---------------------------------------------------------------------------

    def answers_changed(self) -> None:
        if self.phase in ("ran", "failed"):
            self.phase = "ready"
            self.result = None
            self.show_outcome("", "info")
        super().answers_changed()

    # -- what the page says ----------------------------------------------------------------

    def numbers(self) -> dict[str, int]:
        return {s.key: i for i, s in enumerate(self.state.steps(), 1)}

    def refresh_page(self) -> None:
        super().refresh_page()
        if not self.shown:
            return
        panel = self.query_one("#plan", PlanPanel)
        state = self.state
        own = {f.answer for f in self.query(AnswerField)}
        errors = state.errors
        plan = state.plan(self.KEY)
        if errors:
            mine = [p for p in errors if p.field in own]
            where = ("Fix the answer below to see what will happen." if mine else
                     "An answer on another page is wrong: "
                     + ", ".join(sorted({label_of(p.field) for p in errors})) + ".")
            panel.invalid(mine or list(errors), where)
            if self.phase == "planning":
                self.set_phase("ready")
        elif self.phase == "ran" and self.result is not None:
            panel.ran(self.result)
        elif plan is None and (failed := self.wizard.failure(f"{Job.PLAN}:{self.KEY}")):
            panel.failed(failed)  # not asked again until the operator says so
            if self.phase == "planning":
                self.set_phase("failed")
        elif (missing := state.missing_before(self.KEY)) is None:
            panel.checking()  # the steps before this one are still being checked
            if self._replan_timer is None and self.wizard.connected:
                for key in state.unplanned_before(self.KEY):
                    self.wizard.plan_step(key)
        elif missing:
            panel.missing(missing, self.numbers())
            if self.phase == "planning":
                self.set_phase("ready")
        elif plan is not None:
            panel.plan(plan)
            if not state.fresh(self.KEY) and self.phase == "planning":
                self.wizard.plan_step(self.KEY)
        elif self.wizard.connected:
            panel.checking()
            if self._replan_timer is None:  # else: once typing pauses
                self.wizard.plan_step(self.KEY)
        else:
            panel.checking()
        if self.phase == "planning" and plan is not None and state.fresh(self.KEY):
            self.set_phase("ready")
        self.show_details()
        self.refresh_bindings()

    def show_details(self) -> None:
        """Refresh the page's own panels from the run's state."""

    def show_outcome(self, text: str, kind: str) -> None:
        outcome = self.query_one("#outcome", Static)
        outcome.update(Text(text))
        for name in ("success", "error", "info", "warning"):
            outcome.set_class(name == kind, f"-{name}")
        if text and kind in ("success", "error", "warning"):
            self.call_after_refresh(outcome.scroll_visible)

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        if self.shown:
            self.query_one("#busy").display = phase == "running"
            self.refresh_bindings()

    def busy(self) -> bool:
        return self.phase == "running"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("run", "pass_by"):
            plan = self.state.plan(self.KEY)
            nothing = plan is not None and not plan.action.changes and not plan.action.stops
            return self.phase != "ran" and (nothing == (action == "pass_by"))
        if action == "next":
            return self.phase == "ran"
        return True

    def action_pass_by(self) -> None:
        """Enter on a page with nothing to change: the engine records it, and on we go."""
        self.action_run()

    # -- the engine's answers --------------------------------------------------------------

    def on_plan_ready(self, answer: PlanReady) -> None:
        if answer.key != self.KEY:
            return
        if self.phase == "planning":
            self.set_phase("ready")
        self.refresh_page()
        self.run_if_waiting()

    def on_step_applied(self, answer: StepApplied) -> None:
        if answer.key == self.KEY:
            self.applied(answer.result)

    def run_changed(self) -> None:
        super().run_changed()
        self.run_if_waiting()

    def run_if_waiting(self) -> None:
        """Enter was pressed before the plans were in: run now that they are."""
        state = self.state
        if self._run_when_planned and state.fresh(self.KEY) and \
                state.missing_before(self.KEY) is not None:
            self._run_when_planned = False
            self.action_run()

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        if key != self.KEY:
            return super().work_failed(job, key, sentence)
        self._run_when_planned = False
        self.hand_back()
        if job is Job.PLAN:
            self.query_one("#plan", PlanPanel).failed(sentence)
            self.set_phase("failed")
            self.show_outcome(f"✗ {sentence}\nPress ctrl+r to try again.", "error")
        elif job is Job.APPLY:
            self.set_phase("failed")
            self.show_outcome(f"✗ {sentence}\nPress Enter to try again (the wizard checks "
                              "again first), or Escape to go back.", "error")
            self.refresh_page()

    def applied(self, result: StepResult) -> None:
        self.result = result
        if self.stays_after(result):
            self.set_phase("ran")
            self.show_outcome("", "success")
            self.refresh_page()
        else:
            self.dismiss(Nav("next", ran=result))

    def stays_after(self, result: StepResult) -> bool:
        """Does the page have something new to show after this result (default: no)?"""
        return False

    # -- keys ------------------------------------------------------------------------------

    def action_next(self) -> None:
        self.dismiss(Nav("next", ran=self.result))

    def action_recheck(self) -> None:
        if self.busy():
            return
        self.state.invalidate()
        self.set_phase("planning")
        self.show_outcome("", "info")
        self.wizard.replan()

    def action_run(self) -> None:
        state = self.state
        if self.busy():
            return
        if state.errors:
            first = state.errors[0]
            self.show_outcome(f"✗ {label_of(first.field)} {first.rule}\nNothing was run: fix "
                              "the answer first.", "error")
            self.app.bell()
            self.hand_back()
            return
        missing = state.missing_before(self.KEY)
        if missing:
            self.dismiss(jump(missing[0].key))
            return
        plan = state.plan(self.KEY)
        if plan is None or not state.fresh(self.KEY) or missing is None:
            self._run_when_planned = True
            self.show_outcome("Checking what exists first…", "info")
            self.wizard.plan_step(self.KEY, again=True)
            return
        if plan.action.stops:
            self.show_outcome(f"✗ {plan.detail}\nNothing was run. Change the answers above, "
                              "or put it right and press ctrl+r to check again.", "error")
            self.app.bell()
            self.hand_back()
            return
        if plan.action.asks_first:
            self.ask_consent(plan)
            return
        self.start(plan, consent=False)

    def ask_consent(self, plan: StepPlan) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.start(plan, consent=True)
            else:
                self.hand_back()
                self.show_outcome("Nothing was changed. Choose other names above, or press "
                                  "Enter to be asked again.", "warning")

        differences = "".join(f"\n  {d}" for d in plan.differences)
        self.app.push_screen(ConfirmScreen("Change what exists?",
                                           f"{plan.detail}{differences}\n\nUpdate it now?",
                                           yes="Update", no="Keep it"), answered)

    def on_aws_waiting(self, message: AwsWaiting) -> None:
        """The running step waits for AWS to show what it just made: say so under it."""
        if self.busy():
            self.show_outcome(f"Running: {self.info.title}… {message.sentence}", "info")

    def start(self, plan: StepPlan, *, consent: bool) -> None:
        self.set_phase("running")
        self.show_outcome(f"Running: {self.info.title}…", "info")
        self.wizard.apply_step(plan, consent=consent)
