"""CircleCI: the engine puts the values into the project (or a context) through the API, or, with
no token or no project, the page says where to paste each one, with the secret's one copy.

The by-hand box is the engine's (``wizard.next_steps.by_hand``, worded for this page), shown only
once the steps it names exist, so it never lists a value that does not exist yet (a role ARN
before the role). A context's restrictions are in the step's plan (its differences and
warnings), shown in "What will happen" like every plan. With OIDC, what the next step, Retire
static keys, will do with a key an access-key setup left is said here too, from that step's plan
(:func:`screens.retire_note.retire_note`). The ``.circleci/config.yml`` is the engine's
(``wizard.next_steps.config_file``, checked against the role's session limit, made in a worker);
ctrl+y copies it.
"""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Checkbox, Label, RadioSet, Static

from ..wizard.answers import label_of
from ..wizard.config import AuthMode
from ..wizard.model import Action
from .key_copy import CopiesKey
from .messages import Job
from .sign_in import SignsIn
from .step_screen import StepScreen
from .widgets.auth_choice import auth_choice
from .widgets.field import AnswerField
from .widgets.secret_copy import COPY_BINDINGS, SecretCopy
from .widgets.token_box import TokenBox


class CircleciScreen(CopiesKey, SignsIn, StepScreen):
    KEY = "circleci"
    HELP = ("Project slug: gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id>. Context: "
            "an organisation context to hold the variables instead of the project (optional); "
            "the wizard first restricts it to the project, and, if you tick the box, to the "
            "branch too (space toggles it). "
            "Token: a CircleCI personal API token (User Settings > Personal API Tokens), read "
            "from CIRCLE_TOKEN or pasted here and kept in your OS keyring. Without one the page "
            "lists each value and where it goes; ctrl+s copies the secret once, ctrl+k the key "
            "id, ctrl+y the config.yml.")
    #: ctrl+y was pressed before the engine had written the config.yml.
    _copy_snippet_when_ready = False
    BINDINGS = [
        *COPY_BINDINGS,
        Binding("ctrl+y", "copy_snippet", "Copy config.yml", priority=True, id="copy-snippet",
                tooltip="Copy the .circleci/config.yml below to the clipboard"),
    ]

    def compose_inputs(self) -> ComposeResult:
        yield from auth_choice(self.state.flow_config.auth, id="circleci-auth")
        yield Static("", id="retire", classes="panel -warning")
        yield AnswerField("circleci_projects", self.answer_text("circleci_projects"),
                          placeholder="gh/your-org/your-repo")
        yield AnswerField("circleci_context", self.answer_text("circleci_context"),
                          label="Context (optional, instead of the project's variables)")
        yield Checkbox(label_of("restrict_context_branch"),
                       bool(self.state.answers.get("restrict_context_branch")),
                       id="restrict_context_branch", compact=True)

    def compose_details(self) -> ComposeResult:
        # Without a token: the values by hand, or a token to let the wizard set them.
        yield Static("", id="by-hand", classes="panel")
        yield SecretCopy(id="key", classes="panel")
        yield TokenBox()
        yield Label("Your .circleci/config.yml (ctrl+y copies it):", id="snippet-label",
                    classes="field-label")
        yield Static("", id="snippet", classes="code")

    # -- the engine's words ----------------------------------------------------------------

    def by_hand(self) -> object:
        """The engine's by-hand instructions: when its plan is to deliver nothing itself (no
        token, no project), and once the steps whose values they list exist."""
        from ..wizard.next_steps import by_hand

        state = self.state
        plan = state.plan(self.KEY)
        if state.ctx is None or state.config is None or plan is None or \
                plan.action is not Action.SKIP or state.missing_before(self.KEY) != []:
            return None
        return by_hand(state.ctx, state.known_results(), secret_from="screen",
                       sign_in_from="screen")

    def shown_key_id(self) -> str | None:
        if self.by_hand() is None or not self.state.flow_config.keys:
            return None
        result = self.state.known_results().get("access_key")
        return result.outputs.get("access_key_id") if result else None

    def show_details(self) -> None:
        self.show_token_box()
        manual = self.by_hand()
        panel = self.query_one("#by-hand", Static)
        panel.display = manual is not None
        if manual is not None:
            panel.update(Text("\n".join([manual.text, *manual.lines])))  # type: ignore[attr-defined]
        self.show_key(self.query_one(SecretCopy))
        self._show_branch_choice()
        self._show_retire()
        self._show_snippet()

    def _show_branch_choice(self) -> None:
        """The branch restriction is offered when there is a context and a branch to pin it to
        (the branch is asked on the OIDC role page, or given on the command line)."""
        config = self.state.flow_config
        box = self.query_one("#restrict_context_branch", Checkbox)
        box.display = bool(config.circleci_context and config.circleci_branch)
        if box.display:
            box.label = (f"Also restrict context {config.circleci_context} to branch "
                         f"{config.circleci_branch} (CircleCI then gives it to no other branch)")

    def _show_retire(self) -> None:
        from .retire_note import retire_note

        note = retire_note(self.wizard)
        box = self.query_one("#retire", Static)
        box.display = note is not None
        if note is not None:
            box.update(Text("\n".join([f"Next: {note.text}", *(f"  {x}" for x in note.lines)])))

    def _show_snippet(self) -> None:
        said = self.wizard.said(Job.CONFIG_FILE)
        if said is None:
            self.wizard.config_file()
        copied = self.wizard.text_notes.get("config.yml")
        self.query_one("#snippet-label", Label).update(
            f"Your .circleci/config.yml ({copied} ctrl+y copies it again):" if copied else
            "Your .circleci/config.yml (ctrl+y copies it):")
        box = self.query_one("#snippet", Static)
        failed = self.wizard.failure(Job.CONFIG_FILE)
        if said is None and failed:
            box.update(Text(f"✗ {failed}\nPress ctrl+r to try again."))
        elif said is None:
            box.update(Text("Writing it…", style="dim"))
        elif said.problem is not None:
            box.update(Text(f"✗ {said.problem}"))
        else:
            box.update(Syntax(said.value, "yaml", theme="ansi_dark", background_color="default",
                              word_wrap=True))
        if said is not None and self._copy_snippet_when_ready:
            self._copy_snippet_when_ready = False
            self.action_copy_snippet()

    # -- keys ------------------------------------------------------------------------------

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        if event.pressed.id is not None:
            self.save("auth", AuthMode(event.pressed.id))

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        self.save("restrict_context_branch", event.value)

    def action_copy_snippet(self) -> None:
        said = self.wizard.said(Job.CONFIG_FILE)
        if said is None:  # still being written: copied as soon as it is
            self._copy_snippet_when_ready = True
            self.wizard.config_file()
        elif said.value:
            self.wizard.copy_text(said.value, "config.yml")
        else:
            self.notify(str(said.problem), severity="error")

    def action_run(self) -> None:
        if not self.sign_in_if_typed():
            super().action_run()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        copy = self.copy_check(action)
        return copy if copy is not None else super().check_action(action, parameters)

