"""Welcome: who you are in AWS (or the SANDBOX banner) and how CircleCI will sign in."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Label, LoadingIndicator, RadioButton, RadioSet, Static

from screens.flow import NEXT
from screens.page import PageScreen
from wizard.config import AuthMode

INTRO = (
    "This wizard gives one CircleCI project access to one folder of one S3 bucket, and nothing "
    "else. Each step explains itself, shows the AWS calls it will make, and checks what already "
    "exists first, so running it again is safe."
)
MODES = (
    "OIDC means CircleCI gets short-lived credentials for each job by assuming an IAM role: no "
    "key is stored anywhere, so there is nothing to leak or rotate. It needs a CircleCI API "
    "token and the project. Access keys are the tutorial's way: an IAM user whose key lives in "
    "CircleCI's settings (and in your OS keyring)."
)


class WelcomeScreen(PageScreen):
    KEY = "welcome"
    HELP = f"{INTRO}\n\n{MODES}\n\nThe wizard asks AWS who you are (sts:GetCallerIdentity) " \
        "before anything else; Enter retries if that failed."
    BINDINGS = [
        Binding("enter", "start", "Start", priority=True, id="start"),
        Binding("ctrl+r", "reconnect", "Reconnect", show=False, id="reconnect"),
    ]

    def compose_page(self) -> ComposeResult:
        yield Static(INTRO, classes="why")
        yield Static("", id="banner", classes="banner")
        yield Static("Connecting to AWS…", id="whoami", classes="panel")
        yield LoadingIndicator(id="connecting")
        yield Label("How will CircleCI get AWS access?", classes="field-label")
        oidc = self.wizard.config.auth is AuthMode.OIDC
        with RadioSet(id="auth", compact=True):
            yield RadioButton("OIDC role, no stored secret (recommended)", value=oidc, id="oidc")
            yield RadioButton("Access key of an IAM user (the tutorial's way)", value=not oidc,
                              id="keys")
        yield Static(MODES, classes="note")

    def on_mount(self) -> None:
        self.query_one("#banner").display = False
        self.watch(self.app, "connection", self._connection_changed, init=True)
        self.query_one(RadioSet).focus()

    def _connection_changed(self, state: str) -> None:
        app = self.wizard
        whoami = self.query_one("#whoami", Static)
        self.query_one("#connecting").display = state == "connecting"
        if state == "connecting":
            whoami.update("Connecting to AWS… (asking who you are)")
            whoami.set_classes("panel")
        elif state == "failed":
            whoami.update(Text(f"✗ {app.connection_error}\nPress Enter to try again."))
            whoami.set_classes("panel -error")
        else:
            identity = app.identity
            assert identity is not None
            ctx = app.context()
            whoami.update(
                "[b]You are[/b]\n"
                f"Account    {identity.account}\n"
                f"Identity   {escape(identity.arn)}\n"
                f"Partition  {identity.partition}    Region  {ctx.region}    "
                f"Profile  {app.profile_name}\n"
                "Press Enter to start."
            )
            whoami.set_classes("panel -ready")
            if app.sandbox is not None:
                banner = self.query_one("#banner", Static)
                banner.update(Text(app.shown(app.sandbox.banner)))
                banner.display = True
        self.refresh_bindings()

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        mode = AuthMode.OIDC if event.pressed.id == "oidc" else AuthMode.KEYS
        self.wizard.config = self.wizard.config.with_changes(auth=mode)
        self.refresh_steps()

    def action_start(self) -> None:
        app = self.wizard
        if app.connection == "failed":
            app.connect()
        elif app.connected:
            self.dismiss(NEXT)
        else:
            self.notify("Still connecting to AWS…")

    def action_reconnect(self) -> None:
        self.wizard.connect()

    def action_back(self) -> None:
        """The first page has nothing before it."""
