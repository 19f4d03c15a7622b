"""Step 8: CircleCI. OIDC (recommended) or keys; deliver through the API, or by hand.

With a CircleCI token (CIRCLE_TOKEN, the keyring, or typed here into a hidden input, checked
with CircleCI and kept in the keyring) the engine sets the project's (or a context's) variables
through the API and the page shows them as CircleCI reads them back (masked); in OIDC mode it
first makes the identity provider and the role. Without a token the page shows where to paste
each value and offers the same copy-once secret as the access key page. Either way it shows a
ready ``.circleci/config.yml`` that can be copied.
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
from wizard.steps.base import Action, Step, StepResult
from wizard.validation import validate_branch, validate_circleci_slug, validate_config

OIDC_ONLY = ("circleci_branch", "role_name")
MODE_NOTE = {
    AuthMode.OIDC: "OIDC (recommended): each job gets short-lived credentials by assuming a "
    "role that trusts only this project's tokens. Nothing long-lived is stored anywhere.",
    AuthMode.KEYS: "Access key: CircleCI keeps the IAM user's key in its settings. It works "
    "everywhere, but it is a long-lived secret to protect and rotate; consider OIDC.",
}
NO_TOKEN = ("No CIRCLE_TOKEN is set and your keyring holds no CircleCI token. Paste a personal "
            "API token to let the wizard set the variables, or leave it empty: the page then "
            "shows where to paste each value by hand.")
TOKEN_REJECTED = ("CircleCI rejected the token in use. Paste a new personal API token (it is "
                  "kept in your OS keyring), then press Enter.")
SNIPPET_LABEL = "Your .circleci/config.yml (ctrl+y copies it):"


class CircleCIScreen(StepScreen):
    KEY = "circleci"
    HELP = ("Token: a CircleCI personal API token (User Settings > Personal API Tokens). It is "
            "read from CIRCLE_TOKEN, or typed here (hidden) and kept in your OS keyring. Without "
            "one, the wizard tells you where to paste each value. Project slug: "
            "gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id>.")
    BLOCKED_ADVICE = ("Change the answers above, or fix it in CircleCI (or AWS), then press "
                      "Enter to try again.")
    DEFAULT_CSS = """
    CircleCIScreen #token-box { height: auto; }
    """
    # Priority: an input has the focus on this page, and Input's own ctrl+k (delete to the end)
    # must not swallow a key the Footer offers. A disabled copy falls through to the input.
    BINDINGS = [
        Binding("ctrl+y", "copy_snippet", "Copy yml", id="copy-snippet", priority=True),
        Binding("ctrl+k", "copy_key_id", "Copy id", id="cci-copy-key-id", priority=True),
        Binding("ctrl+s", "copy_secret", "Copy secret", id="cci-copy-secret", priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.snippet = ""
        self.key_id: str | None = None
        self.once: Any = None
        #: The values must be pasted by hand (no token, or no project to set them on).
        self.manual = False
        #: CircleCI answered 401 to the token in use: the token input comes back.
        self.token_rejected = False

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
            yield Static(self._token_note(), id="token-note", classes="note")

    def compose_details(self) -> ComposeResult:
        yield Static("", id="manual", classes="panel")
        with Horizontal(id="manual-buttons", classes="buttons"):
            yield Button("Copy key id (ctrl+k)", id="cci-copy-id")
            yield Button("Copy secret once (ctrl+s)", id="cci-copy-secret", variant="warning")
        yield Static("", id="delivered", classes="panel")
        yield Label(SNIPPET_LABEL, id="snippet-label", classes="field-label")
        yield Static("", id="snippet", classes="code")

    def _token_note(self) -> str:
        why = self.wizard.circleci_note
        return f"{NO_TOKEN}\n({why})" if why else NO_TOKEN

    def _context_problems(self, value: str) -> list[Any]:
        config = self.wizard.config.with_changes(circleci_context=value or None)
        return [p for p in validate_config(config) if p.field == "circleci_context"]

    def on_mount(self) -> None:
        for button in self.query(Button):
            button.can_focus = False
        self.query_one("#manual").display = False
        self.query_one("#manual-buttons").display = False
        self.query_one("#delivered").display = False
        self._show_mode()
        super().on_mount()

    def _show_mode(self) -> None:
        config = self.wizard.config
        oidc = config.auth is AuthMode.OIDC
        for name in OIDC_ONLY:
            self.query_one(f"#field-{name}").display = oidc
        # OIDC cannot work without the project: the role trusts only that project's tokens.
        project = self.query_one("#field-circleci_project", Field)
        project.optional = not oidc
        project.show_problems()
        self.query_one("#mode-note", Static).update(MODE_NOTE[config.auth])
        self.query_one("#heading", Static).update(self.heading())
        self._show_token_box()

    def _show_token_box(self) -> None:
        wanted = self.wizard.circleci is None or self.token_rejected
        box = self.query_one("#token-box")
        if box.display and not wanted and self.focused is self.query_one("#token", Input):
            self.query_one("#circleci_project", Input).focus()
        box.display = wanted
        if self.token_rejected:
            self.query_one("#token-note", Static).update(TOKEN_REJECTED)

    def steps_to_run(self) -> list[Step]:
        keys = ["circleci"]
        if self.wizard.config.auth is AuthMode.OIDC:
            keys = ["oidc_provider", "oidc_role", "circleci"]
        return [self.wizard.step(key) for key in keys]

    def answers_changed(self) -> None:
        self.query_one("#delivered").display = False
        super().answers_changed()

    def recheck(self) -> None:
        self._show_snippet()  # here, not per keystroke: rechecks wait for typing to pause
        super().recheck()

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

    # -- the config.yml --------------------------------------------------------------------

    def _show_snippet(self) -> None:
        """The config.yml for the answers as they are now: no AWS call, so always on show."""
        from wizard.circleci.config_snippet import config_yml

        config = self.wizard.config
        role = None
        if config.auth is AuthMode.OIDC and self.wizard.identity is not None:
            from wizard.circleci.oidc_steps import role_arn

            role = role_arn(self.wizard.context())  # the identity is known: no AWS call
        self.snippet = config_yml(config, role_arn=role)
        self.query_one("#snippet", Static).update(
            Syntax(self.snippet, "yaml", theme="ansi_dark", background_color="default",
                   word_wrap=True))
        self.refresh_bindings()

    # -- the plan's extras -----------------------------------------------------------------

    def gather(self, ctx: RunContext) -> Any:
        from wizard.circleci.client import DEFAULT_HOST, HOST_ENV
        from wizard.circleci.delivery_step import manual_instructions
        from wizard.circleci.errors import CircleCIAuthError, CircleCIError

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
        rejected = False
        if ctx.circleci is not None and config.circleci_project:
            try:  # asked once per client: the check already made this call when it worked
                ctx.circleci.get_project(config.circleci_project)
            except CircleCIAuthError:
                rejected = True
            except CircleCIError:
                pass  # the plan already says why, as a sentence
        return manual, key_id, rejected

    def show_gathered(self, extra: Any) -> None:
        manual, self.key_id, rejected = extra
        self.manual = manual is not None
        panel = self.query_one("#manual", Static)
        panel.display = self.manual
        if manual is not None:
            why = ("no CircleCI token" if self.wizard.circleci is None
                   else "no project given")
            panel.update(Text(f"By hand ({why}): set these in CircleCI\n"
                              + self.wizard.shown(manual)))
        self.once = (self.wizard.secret_once(self.wizard.config.user, self.key_id)
                     if self.key_id else None)
        if rejected != self.token_rejected:
            self.token_rejected = rejected
            if not rejected:
                self.query_one("#token-note", Static).update(self._token_note())
            self._show_token_box()
        self._show_copy()

    def after_apply(self, ctx: RunContext, result: StepResult) -> Any:
        return self.gather(ctx), self._read_back(ctx, result)

    def _read_back(self, ctx: RunContext, result: StepResult) -> list[tuple[str, str]] | None:
        """The wizard's project variables as CircleCI shows them now (masked: xxxx + last 4)."""
        from wizard.circleci.delivery_step import variable_names
        from wizard.circleci.errors import CircleCIError

        config = ctx.config
        if (result.action is Action.SKIP or ctx.circleci is None or not config.circleci_project
                or config.circleci_context):
            return None
        try:
            held = {v.name: v.masked for v in
                    ctx.circleci.list_project_envvars(config.circleci_project)}
        except CircleCIError:
            return None  # the step itself read them back already; this is only for show
        return [(name, held[name]) for name in variable_names(config) if name in held]

    def show_applied(self, result: StepResult, extra: Any) -> None:
        gathered, delivered = extra
        self.show_gathered(gathered)
        panel = self.query_one("#delivered", Static)
        panel.display = bool(delivered)
        if delivered:
            width = max(len(name) for name, _ in delivered)
            lines = [f"  {name.ljust(width)}  {masked}" for name, masked in delivered]
            panel.update(Text(f"Project {self.wizard.config.circleci_project} now holds "
                              "(as CircleCI shows them):\n" + "\n".join(lines)))

    def _show_copy(self) -> None:
        manual = self.manual and self.key_id is not None
        self.query_one("#manual-buttons").display = manual
        self.query_one("#cci-copy-secret").display = bool(manual and self.once is not None
                                                          and not self.once.used)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_snippet":
            return bool(self.snippet)
        if action == "copy_key_id":
            return self.key_id is not None and self.manual
        if action == "copy_secret":
            return self.once is not None and not self.once.used and self.manual
        return super().check_action(action, parameters)

    # -- copying ---------------------------------------------------------------------------

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cci-copy-id":
            self.action_copy_key_id()
        elif event.button.id == "cci-copy-secret":
            self.action_copy_secret()

    def action_copy_snippet(self) -> None:
        self.wizard.copy(self.snippet, "config.yml", done=self._snippet_copied)

    def _snippet_copied(self, mechanism: str) -> None:
        if self.is_attached:
            self.query_one("#snippet-label", Label).update(
                f"Your .circleci/config.yml (copied with {mechanism}; ctrl+y copies it again):")

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
        self.query_one("#token-note", Static).update("Checking the token with CircleCI…")
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
            login = client.whoami()  # a token CircleCI refuses is never kept
            if self.wizard.secrets is None:
                raise RuntimeError("No keyring is configured to keep the token.")
            self.wizard.secrets.store_token(keyring_token_name(host), token)
        except Exception as exc:  # noqa: BLE001 - the message never holds the token
            message = str(explain(exc, "storing the CircleCI token")).replace(token, "***")
            self._from_thread(self._token_failed, message)
            return
        self._from_thread(self._token_saved, client, login)

    def _token_saved(self, client: Any, login: str) -> None:
        self.wizard.circleci = client
        self.wizard.circleci_note = None
        if not self.is_attached:
            return
        self.token_rejected = False
        self.query_one("#token-note", Static).update(self._token_note())
        self._show_token_box()
        who = f" as {login}" if login else ""
        self.notify(f"Signed in to CircleCI{who}; the token is in your OS keyring.")
        self.answers_changed()

    def _token_failed(self, message: str) -> None:
        if self.is_attached:
            self.query_one("#token-note", Static).update(Text(f"✗ {message}"))
