"""Step 8: CircleCI. OIDC (recommended) or keys; deliver through the API, or by hand.

With a CircleCI token (CIRCLE_TOKEN, the keyring, or typed here into a hidden input and kept in
the keyring) the engine sets the project's (or a context's) variables through the API; in OIDC
mode it first makes the identity provider and the role. Without a token the page shows where to
paste each value and offers the same copy-once secret as the access key page. Either way it
shows a ready ``.circleci/config.yml`` that can be copied.
"""

from __future__ import annotations

import os
from typing import Any

from rich.syntax import Syntax
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, RadioButton, RadioSet, Static

from screens.step_screen import StepScreen
from screens.validators import EngineValidator, iam_validator
from screens.widgets.field import Field
from wizard.config import AuthMode
from wizard.context import RunContext
from wizard.errors import explain
from wizard.steps.base import Step, StepResult
from wizard.validation import validate_branch, validate_circleci_slug, validate_config

OIDC_ONLY = ("circleci_branch", "role_name")
MODE_NOTE = {
    AuthMode.OIDC: "OIDC (recommended): each job gets short-lived credentials by assuming a "
    "role that trusts only this project's tokens. Nothing long-lived is stored anywhere.",
    AuthMode.KEYS: "Access key: CircleCI keeps the IAM user's key in its settings. It works "
    "everywhere, but it is a long-lived secret to protect and rotate; consider OIDC.",
}


class CircleCIScreen(StepScreen):
    KEY = "circleci"
    HELP = ("Token: a CircleCI personal API token (User Settings > Personal API Tokens). It is "
            "read from CIRCLE_TOKEN, or typed here (hidden) and kept in your OS keyring. Without "
            "one, the wizard tells you where to paste each value. Project slug: "
            "gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id>.")
    BINDINGS = [
        Binding("ctrl+y", "copy_snippet", "Copy yml", id="copy-snippet"),
        Binding("ctrl+k", "copy_key_id", "Copy id", id="cci-copy-key-id"),
        Binding("ctrl+s", "copy_secret", "Copy secret", id="cci-copy-secret"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snippet = ""
        self.key_id: str | None = None
        self.once: Any = None

    # -- layout ----------------------------------------------------------------------------

    def compose_inputs(self) -> ComposeResult:
        config = self.wizard.config
        oidc = config.auth is AuthMode.OIDC
        yield Label("How will CircleCI get AWS access?", classes="field-label")
        with RadioSet(id="cci-mode", compact=True):
            yield RadioButton("OIDC role, no stored secret (recommended)", value=oidc, id="oidc")
            yield RadioButton("Access key of the IAM user", value=not oidc, id="keys")
        yield Static(MODE_NOTE[config.auth], id="mode-note", classes="note")
        yield Field("CircleCI project slug", "circleci_project", config.circleci_project or "",
                    EngineValidator(validate_circleci_slug, "Project slug"), optional=True,
                    placeholder="gh/your-org/your-repo")
        yield Field("Context (optional, instead of project variables)", "circleci_context",
                    config.circleci_context or "",
                    EngineValidator(self._context_problems, "Context"), optional=True)
        yield Field("Only this branch (optional)", "circleci_branch",
                    config.circleci_branch or "", EngineValidator(validate_branch, "Branch"),
                    optional=True, placeholder="main")
        yield Field("IAM role name", "role_name", config.role_name,
                    iam_validator("role_name", "role", "Role name"))
        with Vertical(id="token-box"):
            yield Label("CircleCI API token (hidden; kept in your OS keyring)",
                        classes="field-label")
            yield Input(password=True, id="token", placeholder="paste the token, then Enter",
                        compact=True)
            yield Static("No CIRCLE_TOKEN is set. Without a token the wizard shows where to "
                         "paste each value instead.", id="token-note", classes="note")

    def compose_details(self) -> ComposeResult:
        yield Static("", id="manual", classes="panel")
        with Horizontal(id="manual-buttons", classes="buttons"):
            yield Button("Copy key id (ctrl+k)", id="cci-copy-id")
            yield Button("Copy secret once (ctrl+s)", id="cci-copy-secret", variant="warning")
        yield Label("Your .circleci/config.yml (ctrl+y copies it):", classes="field-label")
        yield Static("", id="snippet", classes="code")

    def _context_problems(self, value: str) -> list[Any]:
        config = self.wizard.config.with_changes(circleci_context=value or None)
        return [p for p in validate_config(config) if p.field == "circleci_context"]

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False
        self._show_mode()
        self.query_one("#manual").display = False
        self.query_one("#manual-buttons").display = False
        super().on_mount()

    def _show_mode(self) -> None:
        config = self.wizard.config
        oidc = config.auth is AuthMode.OIDC
        for name in OIDC_ONLY:
            self.query_one(f"#field-{name}").display = oidc
        self.query_one("#mode-note", Static).update(MODE_NOTE[config.auth])
        self.query_one("#token-box").display = self.wizard.circleci is None

    def steps_to_run(self) -> list[Step]:
        keys = ["circleci"]
        if self.wizard.config.auth is AuthMode.OIDC:
            keys = ["oidc_provider", "oidc_role", "circleci"]
        return [self.wizard.step(key) for key in keys]

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        mode = AuthMode.OIDC if event.pressed.id == "oidc" else AuthMode.KEYS
        self.save(auth=mode)
        self._show_mode()
        self.refresh_steps()
        if mode is AuthMode.KEYS and self.wizard.page_status.get("access_key") not in (
                "done", "exists"):
            self.notify("Access keys need the IAM user and access key steps first: press "
                        "Escape to go back to them.", timeout=8)

    # -- the plan's extras -----------------------------------------------------------------

    def gather(self, ctx: RunContext) -> Any:
        from wizard.circleci.client import DEFAULT_HOST, HOST_ENV
        from wizard.circleci.config_snippet import config_yml
        from wizard.circleci.delivery_step import manual_instructions

        config = ctx.config
        role = key_id = None
        if config.auth is AuthMode.OIDC:
            from wizard.circleci.oidc_steps import role_arn

            role = role_arn(ctx)
        elif ctx.secrets is not None:
            stored = ctx.secrets.load_access_key(config.user)
            key_id = stored.access_key_id if stored else None
        manual = None
        if ctx.circleci is None or not config.circleci_project:
            manual = manual_instructions(config, key_id, region=ctx.region, role_arn=role,
                                         host=os.environ.get(HOST_ENV) or DEFAULT_HOST)
        return config_yml(config, role_arn=role), manual, key_id

    def show_gathered(self, extra: Any) -> None:
        self.snippet, manual, self.key_id = extra
        self.query_one("#snippet", Static).update(
            Syntax(self.snippet, "yaml", theme="ansi_dark", background_color="default",
                   word_wrap=True))
        panel = self.query_one("#manual", Static)
        panel.display = manual is not None
        if manual is not None:
            panel.update(Text("By hand (no token or no project):\n" + self.wizard.shown(manual)))
        self.once = (self.wizard.secret_once(self.wizard.config.user, self.key_id)
                     if self.key_id else None)
        self._show_copy()

    def show_applied(self, result: StepResult, extra: Any) -> None:
        self.show_gathered(extra) if extra else None

    def after_apply(self, ctx: RunContext, result: StepResult) -> Any:
        return self.gather(ctx)

    def _show_copy(self) -> None:
        manual = self.query_one("#manual").display and self.key_id is not None
        self.query_one("#manual-buttons").display = manual
        self.query_one("#cci-copy-secret").display = bool(manual and self.once is not None
                                                          and not self.once.used)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_snippet":
            return bool(self.snippet)
        if action == "copy_key_id":
            return self.key_id is not None and self.query_one("#manual").display
        if action == "copy_secret":
            return (self.once is not None and not self.once.used
                    and self.query_one("#manual").display)
        return super().check_action(action, parameters)

    # -- copying ---------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cci-copy-id":
            self.action_copy_key_id()
        elif event.button.id == "cci-copy-secret":
            self.action_copy_secret()

    def action_copy_snippet(self) -> None:
        self.wizard.copy(self.snippet, "config.yml")

    def action_copy_key_id(self) -> None:
        if self.key_id:
            self.wizard.copy(self.key_id, "the access key id")

    def action_copy_secret(self) -> None:
        if self.once is not None and not self.once.used:
            self.wizard.copy(None, "the secret (once)", once=self.once,
                             done=lambda _: self._show_copy() if self.is_attached else None)

    # -- the token -------------------------------------------------------------------------

    def action_run(self) -> None:
        token = self.query_one("#token", Input)
        if self.focused is token and token.value.strip():
            self._save_token(token.value.strip())
            return
        super().action_run()

    def _save_token(self, token: str) -> None:
        box = self.query_one("#token", Input)
        box.value = ""  # the token leaves the widget at once
        self.query_one("#token-note", Static).update("Checking and storing the token…")
        self._store_token(token)

    @work(thread=True, exclusive=True, group="token", exit_on_error=False,
          description="storing the CircleCI token")
    def _store_token(self, token: str) -> None:
        try:
            from wizard.circleci.client import (
                DEFAULT_HOST,
                HOST_ENV,
                CircleCIClient,
                keyring_token_name,
            )

            host = os.environ.get(HOST_ENV) or DEFAULT_HOST
            client = CircleCIClient(token, host)
            if self.wizard.secrets is None:
                raise RuntimeError("No keyring is configured to keep the token.")
            self.wizard.secrets.store_token(keyring_token_name(host), token)
        except Exception as exc:  # noqa: BLE001 - the message never holds the token
            message = str(explain(exc, "storing the CircleCI token")).replace(token, "***")
            self._from_thread(self._token_failed, message)
            return
        self._from_thread(self._token_saved, client)

    def _token_saved(self, client: Any) -> None:
        self.wizard.circleci = client
        if not self.is_attached:
            return
        self.query_one("#token-box").display = False
        self.notify("The CircleCI token is in your OS keyring.")
        self.answers_changed()

    def _token_failed(self, message: str) -> None:
        if self.is_attached:
            self.query_one("#token-note", Static).update(Text(f"✗ {message}"))
