"""Welcome: how CircleCI signs in, who you are in AWS, and whether the keyring can keep a secret.

The sign-in choice comes first, so it is in view on an 80x24 terminal. In keys mode the OS
keyring is checked here, before any step runs: a keyring that cannot hold the secret is shown
with how to fix it (or choose OIDC, which keeps no secret), and the wizard does not start on it.

Once every step is planned, the page shows the whole plan in a few lines (the engine's
:class:`~wizard.overview.Overview`): Enter then goes step by step, ctrl+a shows that plan in a
dialog and, on y, runs every step in one go; a setup that is already complete goes straight to
Verify with one Enter.
"""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import LoadingIndicator, RadioSet, Static

from ..wizard.answers import label_of
from ..wizard.config import AuthMode
from ..wizard.overview import Overview
from .confirm_screen import ConfirmScreen
from .flow import NEXT, jump
from .page import PageScreen
from .widgets.auth_choice import CHOICES, auth_choice
from .widgets.field import AnswerField

INTRO = (
    "This wizard gives one CircleCI project access to one folder of one S3 bucket, and nothing "
    "else. Each step explains itself, shows the AWS calls it will make, and checks what already "
    "exists first, so running it again is safe."
)
MODES = (
    "OIDC: each CircleCI job gets short-lived credentials by assuming an IAM role, so no key is "
    "stored anywhere and there is nothing to leak or rotate; it needs the CircleCI project. "
    "Access key: the tutorial's way, an IAM user whose key lives in CircleCI's settings and in "
    "your OS keyring."
)


class WelcomeScreen(PageScreen):
    KEY = "welcome"
    HELP = (f"{INTRO}\n\n{MODES}\n\nThe wizard asks AWS who you are (sts:GetCallerIdentity) "
            "before anything else, and in access-key mode proves the OS keyring can keep a "
            "secret (it writes, reads back and deletes a test entry).")
    WIDGET_KEYS = (
        ("↑ / ↓", "Change the sign-in mode: OIDC or an access key"),
        ("tab", "OIDC: move to the CircleCI project slug"),
    )
    BINDINGS = [
        Binding("enter", "primary", "Start", priority=True, id="primary",
                tooltip="Start with the first step (a complete setup: go to Verify)"),
        Binding("ctrl+a", "run_all", "Run all", priority=True, id="run-all",
                tooltip="Run every step shown below in one go, stopping wherever one needs you"),
        Binding("ctrl+r", "reconnect", "Check again", id="reconnect",
                tooltip="Connect to AWS and check the keyring again"),
    ]

    def __init__(self, ran: object = None) -> None:
        super().__init__(None)
        self._start_when_ready = False

    def compose_page(self) -> ComposeResult:
        yield Static("", id="banner", classes="banner")
        yield from auth_choice(self.state.flow_config.auth, id="auth")
        yield Static("", id="chosen", classes="chosen")
        yield AnswerField("circleci_projects", self.answer_text("circleci_projects"),
                          placeholder="gh/your-org/your-repo")
        yield Static("", id="keyring", classes="panel")
        yield Static("", id="whoami", classes="panel")
        yield LoadingIndicator(id="connecting")
        yield Static("", id="overview", classes="panel")
        yield Static(INTRO, classes="why")
        yield Static(MODES, classes="note")

    def mounted(self) -> None:
        self.query_one(RadioSet).focus(scroll_visible=False)
        self.refresh_page()
        # Connect only once this page is painted: importing boto3 in a thread competes with
        # the first frame for the GIL.
        self.call_after_refresh(self.wizard.connect)

    def refresh_page(self) -> None:
        super().refresh_page()
        if not self.shown:
            return
        app = self.wizard
        auth = AuthMode(self.state.answers["auth"])  # as chosen, even before the slug is right
        self.query_one("#chosen", Static).update(Text(f"Chosen: {CHOICES[auth][1]}"))
        # OIDC trusts one project's tokens: it is asked at once, with the choice.
        self.query_one("#field-circleci_projects").display = auth is AuthMode.OIDC
        self.show_answer_problems()
        banner = self.query_one("#banner", Static)
        banner.display = app.sandbox is not None
        if app.sandbox is not None:
            banner.update(Text(app.sandbox.banner("wizard")))
        self._show_keyring(auth)
        self._show_whoami()
        self._show_overview()
        self.refresh_bindings()

    def _overview(self) -> Overview | None:
        """The whole plan, once connected and every step is planned."""
        return self.state.overview() if self.wizard.connected else None

    def _show_overview(self) -> None:
        box = self.query_one("#overview", Static)
        overview = self._overview()
        box.display = overview is not None
        if overview is not None:
            box.update(Text("\n".join([overview.headline(), *overview.refusals(),
                                       *overview.lines()])))
            box.set_class(overview.complete, "-ready")
            box.set_class(bool(overview.plan.refused), "-error")

    def _prompt(self) -> str:
        overview = self._overview()
        if overview is None:
            return "Press Enter to start."
        if overview.complete:
            return "Press Enter to verify it: there is nothing to run."
        return "Press Enter to go step by step, or ctrl+a to run all steps."

    def _show_keyring(self, auth: AuthMode) -> None:
        app = self.wizard
        box = self.query_one("#keyring", Static)
        box.display = auth is AuthMode.KEYS and app.connected
        box.set_class(bool(app.keyring_problem), "-error")
        if not app.keyring_checked:
            box.update("OS keyring: checking that it can keep the secret…")
        elif app.keyring_problem:
            box.update(Text(f"✗ {app.keyring_problem}\nFix it, then press ctrl+r to check "
                            "again; or choose OIDC above, which keeps no secret."))
        else:
            secrets = app.state.ctx.secrets if app.state.ctx else None
            backend = secrets.backend_label() if secrets else "?"
            box.update(Text(f"✓ {backend} can keep the secret."))  # keyring's own name

    def _show_whoami(self) -> None:
        app = self.wizard
        whoami = self.query_one("#whoami", Static)
        self.query_one("#connecting").display = app.connection == "connecting"
        if app.connection == "failed":
            whoami.update(Text(f"✗ {app.connection_error}\nPress ctrl+r to try again."))
            whoami.set_classes("panel -error")
        elif not app.connected or app.state.ctx is None:
            whoami.update("Connecting to AWS… (asking who you are)")
            whoami.set_classes("panel")
        else:
            ctx = app.state.ctx
            identity = ctx.identity  # asked while connecting
            profile = "sandbox" if app.sandbox else "profile " + (ctx.config.profile or getattr(
                ctx.session, "profile_name", None) or "default")
            # Three lines, so that at 80x24 the prompt is on screen with the keyring's line.
            whoami.update(
                f"[b]You are[/b]  {escape(identity.arn)}\n"
                f"Account {identity.account} · {ctx.region} · {escape(profile)}\n"
                f"[b]{self._prompt()}[/b]")
            whoami.set_classes("panel -ready")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        if event.pressed.id is not None:
            self.wizard.set_answer("auth", AuthMode(event.pressed.id))
        self.wizard.replan()
        self.refresh_page()

    def run_changed(self) -> None:
        super().run_changed()
        app = self.wizard
        if self._start_when_ready and app.connected and (
                not self.state.flow_config.keys or app.keyring_checked):
            self.action_primary()

    def action_primary(self) -> None:
        self._start_when_ready = False
        if self.ready_to_start():
            overview = self._overview()
            self.dismiss(jump("verify") if overview and overview.complete else NEXT)

    def action_run_all(self) -> None:
        overview = self._overview()
        if overview is None:
            self.notify("The whole plan is still being read; a moment.")
        elif overview.complete:
            self.action_primary()
        elif self.ready_to_start():
            def answered(yes: bool | None) -> None:
                if yes:
                    self.wizard.run_through = True
                    self.dismiss(NEXT)

            # The plan in full, where it cannot be scrolled out of view, before anything runs.
            self.app.push_screen(ConfirmScreen(
                "Run every step?",
                "\n".join([overview.headline(), *overview.lines(),
                           "Each page says what it did; the run stops where a step needs you."]),
                yes="Run all", no="Not now"), answered)

    def ready_to_start(self) -> bool:
        """Can the steps begin (connected, answers right, the keyring able to keep a secret)?
        If not, say why (or wait for what is a moment away) and say no."""
        app = self.wizard
        if app.connection == "failed":
            app.connect()
        elif not app.connected:
            self._start_when_ready = True  # Enter pressed early still counts
            self.notify("Starting as soon as AWS has answered…")
        elif self.state.errors:
            first = self.state.errors[0]
            self.notify(f"{label_of(first.field)} {first.rule}", severity="error", timeout=8)
            self.app.bell()
        elif self.state.flow_config.keys and not app.keyring_checked:
            self._start_when_ready = True  # the keyring check is a moment away
        elif self.state.flow_config.keys and app.keyring_problem:
            self.notify("The OS keyring cannot keep the secret yet: fix it (see above) or "
                        "choose OIDC.", severity="error", timeout=8)
            self.app.bell()
        else:
            return True
        return False

    def action_reconnect(self) -> None:
        app = self.wizard
        if app.connection == "failed":
            app.connect()
        else:
            app.keyring_checked, app.keyring_problem = False, None
            app.state.refresh_context()
            app.check_keyring()
            app.replan()
        self.refresh_page()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run_all":
            overview = self._overview()
            return overview is not None and not overview.complete
        return action != "back"  # the first page has nothing before it
