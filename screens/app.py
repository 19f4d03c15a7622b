"""The Textual app: drives the registry's pages in order and runs every engine call off the UI.

``make_app`` takes every dependency (an AWS session, a keyring store, a clipboard), so tests
hand in moto and fakes. The first frame waits for nothing: the Welcome page asks the app to
connect once it has been painted (sandbox, session, who-am-i, keyring, CircleCI, in a thread),
and as soon as that is done the whole plan is fetched in the background, so every step page
shows what exists at once. Every engine call is a thread worker on the app that returns a typed
answer (:mod:`screens.messages`, harlequin's pattern). One router,
:meth:`WizardApp.on_worker_state_changed`, posts a finished worker's answer to the app, whose
``on_<answer>`` handler records it in the :class:`~screens.run_state.RunState` and hands it to the
page on show; the same router makes a failed worker's error a sentence with a retry key on that
page, never a traceback and never a frozen page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from importlib.resources import files
from pathlib import Path
from typing import Any

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.worker import Worker, WorkerState

from ..wizard.answers import answers_of
from ..wizard.clipboard import CLEAR_AFTER_SECONDS
from ..wizard.config import SetupConfig
from .clipboard_exit import ClipboardExitGuard, quit_note
from .clipboard_jobs import ClipboardJobs
from .commands import PageCommands
from .confirm_screen import ConfirmScreen
from .engine_jobs import EngineJobs
from .flow import following, jump
from .messages import (
    Answer,
    AwsWaiting,
    BucketsListed,
    ClipboardCleared,
    Connected,
    Job,
    KeyringChecked,
    KeyViewed,
    PlanReady,
    PlansFetched,
    RunChanged,
    SecretCopied,
    SignedIn,
    StepApplied,
    TextCopied,
    Verified,
    WordsReady,
    WorkFailed,
)
from .page import PageScreen
from .run_state import RunState


def stylesheet() -> Path:
    """``assets/wizard.tcss`` from the installed package, wherever it is installed."""
    return Path(str(files(f"{__package__.rpartition('.')[0]}.assets").joinpath("wizard.tcss")))


class WizardApp(EngineJobs, ClipboardJobs, App[int]):
    """The wizard. The run's answers, plans and results live in :attr:`state`."""

    TITLE = "circleci-s3-wizard"
    CSS_PATH = stylesheet()
    COMMANDS = App.COMMANDS | {PageCommands}
    #: Below 80 columns the step list gives its room to the page.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True, id="app-quit",
                tooltip="Leave the wizard (asks first in the middle of the setup)"),
    ]

    def __init__(
        self,
        answers: Mapping[str, Any],
        *,
        sandbox: bool = False,
        session: Any = None,
        secret_store: Any = None,
        clipboard: Any = None,
        clear_after: float = CLEAR_AFTER_SECONDS,
    ) -> None:
        super().__init__()
        self.state = RunState(answers)
        self.use_sandbox = sandbox
        self._session = session
        self._secrets = secret_store
        self._clipboard = clipboard
        #: Seconds after which a copied secret is wiped from the clipboard if still there.
        self.clear_after = clear_after
        #: connecting | ready | failed
        self.connection = "idle"
        self.connection_error: str | None = None
        self.sandbox: Any = None
        self.circleci_note: str | None = None
        #: Why the keyring cannot hold the secret (keys mode), once checked.
        self.keyring_problem: str | None = None
        self.keyring_checked = False
        self.current_page = "welcome"
        #: Pages the operator went on from (the step list ticks Welcome and Verify with it).
        self.passed: set[str] = set()
        #: Running every step in one go (Welcome's "Run all"): each step page runs itself on
        #: arrival, and the run-through ends wherever a page needs the operator.
        self.run_through = False
        #: key id -> (last four characters of its secret), read from the keyring in a worker.
        self.key_views: dict[str, str] = {}
        #: key id -> what happened to its secret on the clipboard, in words.
        self.copy_notes: dict[str, str] = {}
        #: what was copied (``config.yml``, a key id) -> how, in words.
        self.text_notes: dict[str, str] = {}
        #: The engine's words computed in workers (config.yml, next steps), by job.
        self._said = {}
        self._stack = ExitStack()
        self._in_flight: dict[str, tuple[Any, int]] = {}
        #: Work that failed, by name, with the context and epoch it failed in: not asked again
        #: on its own (a page re-rendering must not hammer AWS), only when the operator asks.
        self._failed_at: dict[str, tuple[tuple[Any, int], str]] = {}
        #: Wipes a copied secret from the clipboard on quit, crash and exit signals.
        self.clipboard_guard = ClipboardExitGuard(self)

    # -- the pages -------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.clipboard_guard.start()
        self.run_flow()

    @work(exclusive=True, group="flow", description="the wizard's pages in order")
    async def run_flow(self) -> None:
        from .pages import page_screen

        key: str | None = "welcome"
        ran = None
        while key is not None:
            self.current_page = key
            nav = await self.push_screen_wait(page_screen(key)(ran))
            if nav.kind in ("next", "finish"):
                self.passed.add(key)
            else:  # back, or a jump: the operator has taken the wheel
                self.run_through = False
            ran = nav.ran
            key = following(key, nav, self.state.flow_config)
            if key is None or self.state.step_number(key) is None:
                self.run_through = False  # Verify and Done are read, never run through
        self.leave(0)

    @property
    def page(self) -> PageScreen | None:
        """The page on show (under any dialog)."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, PageScreen)), None)

    def tell_page(self, message: Any) -> None:
        page = self.page
        if page is not None:
            page.post_message(message)

    def jump_to(self, key: str) -> None:
        """Leave the page on show for page ``key`` (the command palette)."""
        page = self.page
        if page is None or key == page.KEY:
            return
        if key != "welcome" and not self.connected:
            self.notify("Still connecting to AWS; wait a moment.", severity="warning")
            return
        if page.busy():
            self.notify("Wait for the step to finish first.", severity="warning")
            return
        page.dismiss(jump(key))

    # -- answers ---------------------------------------------------------------------------

    def set_answer(self, name: str, value: Any) -> None:
        """Keep an answer as typed; the page plans again once typing pauses."""
        auth_before = self.state.flow_config.auth
        self.state.set_answer(name, value)
        if self.state.flow_config.auth is not auth_before:
            self.check_keyring()

    def replan(self) -> None:
        """Fetch every step's plan again for the answers as they are (in the background)."""
        self.prefetch()
        self.tell_page(RunChanged())

    # -- connecting ------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        return self.connection == "ready"

    def connect(self) -> None:
        """(Re)connect in the background; called once the first page is on screen."""
        if self.connection == "connecting":
            return
        self.connection = "connecting"
        self.connection_error = None
        self.tell_page(RunChanged())
        self._worker(self._connect, Job.CONNECT, description="connecting to AWS")

    def _connect(self) -> Connected:
        from ..wizard.connect import circleci_client, open_run
        from ..wizard.engine import Engine

        opened = open_run(self.state.flow_config, sandbox=self.use_sandbox, stack=self._stack,
                          session=self._session, secrets=self._secrets)
        ctx = opened.ctx
        ctx.identity  # noqa: B018 - asked now, once: every page needs it
        if ctx.circleci is None and opened.circleci_note is None:
            ctx.circleci, opened.circleci_note = circleci_client(ctx.secrets)
            if ctx.circleci is not None:
                self._stack.callback(ctx.circleci.close)
        suggestion = None if self.state.answers.get("bucket") else Engine(ctx).suggested_bucket()
        return Connected(opened, suggestion)

    def _waiting(self, sentence: str) -> None:
        """A step's call waits for AWS to show something new (told from the step's thread,
        which must not wait for the screen: it posts, and goes on waiting for AWS)."""
        self.post_message(AwsWaiting(sentence))

    def on_aws_waiting(self, message: AwsWaiting) -> None:
        """The page on show says it under its running step (a fresh message: one posted
        message is handled once)."""
        self.tell_page(AwsWaiting(message.sentence))

    def on_connected(self, answer: Connected) -> None:
        opened, suggestion = answer.opened, answer.suggestion
        self.sandbox = opened.sandbox
        self.circleci_note = opened.circleci_note
        self._session, self._secrets = opened.ctx.session, opened.ctx.secrets
        # The engine's waits for AWS to show what it just made, said as they begin (from the
        # step's thread; every context of this run shares the one Propagation).
        opened.ctx.propagation.on_wait = self._waiting
        state = self.state
        state.attach(opened.ctx)
        state.bucket_required = True
        if suggestion:
            state.set_answers(bucket=suggestion, create_bucket=True)
        else:
            state.set_answers()
        self.connection = "ready"
        self.check_keyring()
        self.prefetch()
        self.tell_page(RunChanged())

    # -- background work -------------------------------------------------------------------

    def _worker(self, call: Callable[[], Any], name: str, *, description: str,
                exclusive: bool = False) -> Worker[Any]:
        return self.run_worker(call, name=name, group=name, description=description,
                               thread=True, exclusive=exclusive, exit_on_error=False)

    def _once(self, name: str, ctx: Any, *, again: bool = False) -> bool:
        """Start ``name`` for this context and epoch only if it is not already running, and
        (unless ``again``: the operator asked) has not already failed."""
        marker = (ctx, self.state.epoch)
        if self._in_flight.get(name) == marker or \
                (not again and self._failed_at.get(name, (None, ""))[0] == marker):
            return False
        self._in_flight[name] = marker
        return True

    # -- the router ------------------------------------------------------------------------

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place background work comes back: a worker's answer goes to its handler
        below, a worker's error becomes a sentence for the page (:meth:`_failed`)."""
        worker = event.worker
        name, _, key = worker.name.partition(":")
        try:
            job = Job(name)
        except ValueError:
            return  # not a job of the engine's (the flow of pages)
        marker = None
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            marker = self._in_flight.pop(worker.name, None)
        if event.state is WorkerState.SUCCESS:
            self._failed_at.pop(worker.name, None)
            assert isinstance(worker.result, Answer), worker.name
            self._record(worker.result)
        elif event.state is WorkerState.ERROR:
            assert worker.error is not None
            sentence = self._failed(job, key or None, worker.error, worker.description)
            if marker is not None:
                self._failed_at[worker.name] = (marker, sentence)

    def failure(self, name: str) -> str | None:
        """Why work ``name`` (``plan:group``) failed for the answers as they are, if it did."""
        marker, sentence = self._failed_at.get(name, (None, ""))
        return sentence if marker == (self.state.ctx, self.state.epoch) else None

    def _record(self, answer: Answer) -> None:
        """Hand ``answer`` to its handler below (``on_<answer>``, Textual's name for it) at once.

        Called, not posted: a post would leave a hop in which the work is neither in flight
        nor recorded, and a page re-rendering then would ask for it again.
        """
        getattr(self, answer.handler_name)(answer)

    def show(self, answer: Answer | None = None) -> None:
        """Hand ``answer`` (now recorded) to the page on show, and have it show the run again."""
        if answer is not None:
            self.tell_page(answer)
        self.tell_page(RunChanged())

    # -- the answers, recorded ---------------------------------------------------------------

    def on_keyring_checked(self, answer: KeyringChecked) -> None:
        if self.state.current(answer.ctx):
            self.keyring_problem, self.keyring_checked = answer.problem, True
        self.show()

    def on_plans_fetched(self, answer: PlansFetched) -> None:
        for step_plan in answer.plan.steps:
            self.state.record_plan(answer.ctx, step_plan, answer.epoch)
        self.show()

    def on_plan_ready(self, answer: PlanReady) -> None:
        if self.state.record_plan(answer.ctx, answer.plan, answer.epoch):
            self.show(answer)

    def on_step_applied(self, answer: StepApplied) -> None:
        self.state.record_result(answer.ctx, answer.result)
        self.prefetch()
        self.show(answer)

    def on_signed_in(self, answer: SignedIn) -> None:
        state = self.state
        if state.ctx is not None:
            state.ctx.circleci = answer.client
            self._stack.callback(answer.client.close)
            state.refresh_context()
            self.circleci_note = None
            self.prefetch()
        self.show(answer)

    def on_words_ready(self, answer: WordsReady) -> None:
        if self.state.current(answer.ctx):
            self._said[answer.job] = ((answer.ctx, answer.epoch), answer.said)
            self.show()

    def on_key_viewed(self, answer: KeyViewed) -> None:
        if answer.last_four:
            self.key_views[answer.key_id] = answer.last_four
        self.show()

    def on_secret_copied(self, answer: SecretCopied) -> None:
        self.secret_copied(answer)
        self.show(answer)

    def on_clipboard_cleared(self, answer: ClipboardCleared) -> None:
        if answer.cleared:
            self.copy_notes[answer.key_id] = ("The secret was copied once, and cleared from "
                                              "the clipboard.")
        self.show()

    def on_text_copied(self, answer: TextCopied) -> None:
        self.text_notes[answer.what] = answer.note
        self.show(answer)

    def on_buckets_listed(self, answer: BucketsListed) -> None:
        self.show(answer)  # only the page shows it

    def on_verified(self, answer: Verified) -> None:
        self.show(answer)  # only the page shows it

    # -- the failures, routed ----------------------------------------------------------------

    def _failed(self, job: Job, key: str | None, error: BaseException, doing: str) -> str:
        from ..wizard.clipboard import AlreadyCopied, ClipboardUnavailable
        from ..wizard.errors import explain
        from ..wizard.model import HandoffNeeded

        if isinstance(error, AlreadyCopied | ClipboardUnavailable):
            sentence = str(error)
        else:
            sentence = str(explain(error, doing))
        if job is Job.CONNECT:
            self.connection, self.connection_error = "failed", sentence
        elif job is Job.APPLY:
            self.state.invalidate()  # what it did before failing is read again
            if isinstance(error, HandoffNeeded):
                self.state.handoff = error.handoff
        elif job is Job.PREFETCH:
            return sentence  # each page asks for its own step, and shows that step's failure
        self.tell_page(WorkFailed(job, key, sentence))
        self.tell_page(RunChanged())
        return sentence

    # -- leaving ---------------------------------------------------------------------------

    async def action_quit(self) -> None:
        if self.current_page in ("welcome", "done") or isinstance(self.screen, ConfirmScreen):
            self.leave(0)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.leave(0)

        warning = " ".join(filter(None, (self.quit_warning(), quit_note())))
        self.push_screen(ConfirmScreen("Quit the wizard?", warning, yes="Quit", no="Stay"),
                         answered)

    def quit_warning(self) -> str:
        """What quitting now means for this run (the dialog adds
        :func:`screens.clipboard_exit.quit_note` when a copied secret is still on the
        clipboard)."""
        from ..wizard.sandbox import PER_PROCESS

        if self.sandbox is not None:
            if self.sandbox.lifetime == PER_PROCESS:
                return ("Quitting ends the sandbox: everything made in it vanishes, and nothing "
                        "was ever created in AWS.")
            return ("The sandbox keeps what was made while `circleci-s3-wizard sandbox` runs; "
                    "nothing was ever created in AWS.")
        return ("The setup is not finished. What was already created stays in AWS (and the "
                "secret in your keyring); run the wizard again to continue where you left off.")

    def leave(self, code: int = 0) -> None:
        """The one way the wizard ends on its own terms (finish, quit confirmed)."""
        self.exit(code)

    def on_unmount(self) -> None:
        # Quit, finish and crash all pass here: a copied secret leaves the clipboard first.
        self.clipboard_guard.stop()
        self._stack.close()  # the sandbox, the CircleCI connections

    def _fatal_error(self) -> None:
        """A crash report without local variables: a frame may hold the secret.

        Textual's own report renders every frame's locals and has no public switch for it, so
        this hook hands the public :meth:`panic` a traceback with ``show_locals=False``.
        """
        from rich.traceback import Traceback

        self.bell()
        self.panic(Traceback(show_locals=False, width=None))


def make_app(
    config: SetupConfig | Mapping[str, Any],
    *,
    sandbox: bool = False,
    session: Any = None,
    secret_store: Any = None,
    clipboard: Any = None,
    clear_after: float = CLEAR_AFTER_SECONDS,
) -> WizardApp:
    """The app for these answers (a config from the CLI's builder, or answers as typed)."""
    answers = answers_of(config) if isinstance(config, SetupConfig) else dict(config)
    return WizardApp(answers, sandbox=sandbox, session=session, secret_store=secret_store,
                     clipboard=clipboard, clear_after=clear_after)


def run_tui(config: SetupConfig, sandbox: bool = False) -> int:
    """Run the wizard in the terminal; the exit status for the CLI."""
    app = make_app(config, sandbox=sandbox)
    code = app.run()
    return int(code or app.return_code or 0)
