"""The least-privilege policy: its name, the access level, the JSON and the same in words.

The document and the words are the engine's (``document_json``/``summary`` of the policy step),
for the answers as they are, so what is shown is exactly what will be created.
"""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.widgets import Label, RadioSet, Static

from ..wizard.config import AccessLevel
from .step_screen import StepScreen
from .widgets.choice import Choice, ChoiceSet
from .widgets.field import AnswerField

LEVELS = {
    AccessLevel.READ_WRITE: "Read and write (list, download, upload, delete)",
    AccessLevel.UPLOAD_ONLY: "Upload only (cannot download or delete)",
    AccessLevel.READ_ONLY: "Read only (list and download)",
}


class PolicyScreen(StepScreen):
    KEY = "policy"
    HELP = ("The policy names one bucket and one prefix. Listing is allowed only under the "
            "prefix (an s3:prefix condition); object actions only on bucket/prefix*. There is "
            "no '*' action, no '*' resource, nothing on the bucket's settings and no ACL "
            "action. If a policy of that name exists with another document, the wizard asks "
            "before adding a new version (IAM keeps five).")

    WIDGET_KEYS = (("↑ / ↓", "Choose what CircleCI may do in the folder"),
                   ("pagedown", "Scroll down to the policy JSON"))

    def compose_inputs(self) -> ComposeResult:
        yield AnswerField("policy_name", self.answer_text("policy_name"))
        yield Label("What may CircleCI do in the folder?", classes="field-label")
        level = self.state.flow_config.access
        with ChoiceSet(id="access", compact=True):
            for choice, text in LEVELS.items():
                yield Choice(text, choice is level, id=choice.value)

    def compose_details(self) -> ComposeResult:
        yield Static("", id="summary", classes="panel")
        yield Static("", id="document", classes="code")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        if event.pressed.id is not None:
            self.save("access", AccessLevel(event.pressed.id))

    def show_details(self) -> None:
        from ..wizard.engine import Engine

        ctx = self.state.ctx
        shown = ctx is not None and self.state.config is not None and \
            ctx.reads.known("identity")  # the partition is known: no AWS call here
        for panel in self.query("#summary, #document"):
            panel.display = shown
        if not shown:
            return
        assert ctx is not None
        engine = Engine(ctx)
        self.query_one("#summary", Static).update(
            "[b]In words, CircleCI[/b]\n" + "\n".join(f"• {line}"
                                                    for line in engine.policy_summary()))
        self.query_one("#document", Static).update(
            Syntax(engine.policy_document(), "json", theme="ansi_dark",
                   background_color="default", word_wrap=True))
