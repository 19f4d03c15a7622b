"""Step 4: the least-privilege policy: its name, the access level, the JSON and it in words."""

from __future__ import annotations

from typing import Any

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.widgets import Label, RadioButton, RadioSet, Static

from screens.step_screen import StepScreen
from screens.validators import iam_validator
from screens.widgets.field import Field
from wizard.config import AccessLevel
from wizard.context import RunContext

_LEVELS = (
    (AccessLevel.READ_WRITE, "Read and write (list, download, upload, delete)"),
    (AccessLevel.UPLOAD_ONLY, "Upload only (cannot download or delete)"),
    (AccessLevel.READ_ONLY, "Read only (list and download)"),
)


class PolicyScreen(StepScreen):
    KEY = "policy"
    HELP = ("The policy names one bucket and one prefix. Listing is allowed only under the "
            "prefix (an s3:prefix condition); object actions only on bucket/prefix*. There is "
            "no '*' action, no '*' resource, nothing on the bucket's settings and no ACL "
            "action. If a policy of that name exists with another document, the wizard asks "
            "before adding a new version (IAM keeps five).")

    def compose_inputs(self) -> ComposeResult:
        config = self.wizard.config
        yield Field("Policy name", "policy_name", config.policy_name,
                    iam_validator("policy_name", "policy", "Policy name"))
        yield Label("What may CircleCI do in the folder?", classes="field-label")
        with RadioSet(id="access", compact=True):
            for level, text in _LEVELS:
                yield RadioButton(text, value=config.access is level, id=level.value)

    def compose_details(self) -> ComposeResult:
        yield Static("", id="summary", classes="panel")
        yield Static("", id="document", classes="code")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        event.stop()
        self.save(access=AccessLevel(event.pressed.id))

    def gather(self, ctx: RunContext) -> Any:
        from wizard.steps.policy_step import PolicyStep

        step = self.step
        assert isinstance(step, PolicyStep)
        return step.summary(ctx), step.document_json(ctx)

    def show_gathered(self, extra: Any) -> None:
        summary, document = extra
        self.query_one("#summary", Static).update(
            "[b]In words, CircleCI[/b]\n" + "\n".join(f"• {line}" for line in summary))
        self.query_one("#document", Static).update(
            Syntax(document, "json", theme="ansi_dark", background_color="default",
                   word_wrap=True))
