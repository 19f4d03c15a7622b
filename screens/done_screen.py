"""The end: every resource ARN the run made or found, and what to do next."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from screens.flow import NEXT
from screens.page import PageScreen
from wizard.config import AuthMode

_LABELS = {
    "bucket_arn": "Bucket",
    "folder": "Folder",
    "group_arn": "IAM group",
    "policy_arn": "Policy",
    "user_arn": "IAM user",
    "access_key_id": "Access key id",
    "provider_arn": "OIDC provider",
    "role_arn": "IAM role",
    "project": "CircleCI project",
    "context": "CircleCI context",
    "variables": "CircleCI variables",
}


class DoneScreen(PageScreen):
    KEY = "done"
    HELP = "Everything the wizard made is tagged (or under the IAM path /circleci-s3-wizard/), " \
        "so `circleci-s3-wizard destroy` removes exactly that and never the bucket."
    BINDINGS = [Binding("enter", "finish", "Finish", priority=True, id="finish")]

    def compose_page(self) -> ComposeResult:
        yield Static("", id="resources", classes="panel")
        yield Static("", id="next-steps", classes="panel")

    def on_mount(self) -> None:
        app = self.wizard
        config = app.config
        text = Text("What the setup consists of\n", style="bold")
        shown = False
        for key, value in app.outputs.items():
            label = _LABELS.get(key, key.replace("_", " "))
            value = ", ".join(value) if isinstance(value, list | tuple) else str(value)
            text.append(f"{label:<18}", style="bold")
            text.append(f"{app.shown(value)}\n")
            shown = True
        if not shown:
            text.append("Nothing was run in this session yet: go back (Escape) or jump to a "
                        "step with ctrl+p.\n")
        self.query_one("#resources", Static).update(text)
        steps = ["Add the config.yml from the CircleCI step to your repository and push."]
        if config.auth is AuthMode.KEYS:
            steps.append(f"Use the key locally without a credentials file: "
                         f"`circleci-s3-wizard credential-process --user {config.user}`.")
        steps += ["Run `circleci-s3-wizard plan` any time to see that nothing drifted.",
                  "Remove everything the wizard made with `circleci-s3-wizard destroy` "
                  "(the bucket and its objects are always kept)."]
        if app.sandbox is not None:
            steps.insert(0, "This was the SANDBOX: nothing exists in AWS. Run the wizard "
                         "without --sandbox to do it for real.")
        self.query_one("#next-steps", Static).update(
            Text("Next\n", style="bold") + Text("\n".join(f"• {s}" for s in steps)))
        self.wizard.set_status(self.KEY, "done")

    def action_finish(self) -> None:
        self.dismiss(NEXT)
