"""The end: every resource ARN the run made or found, and what to do next."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
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
        resources = Table.grid(padding=(0, 2))
        resources.add_column(style="bold", no_wrap=True)
        resources.add_column(overflow="fold")  # long ARNs wrap inside their own column
        for key, value in app.outputs.items():
            label = _LABELS.get(key, key.replace("_", " ").capitalize())
            value = ", ".join(value) if isinstance(value, list | tuple) else str(value)
            resources.add_row(label, app.shown(value))
        body: list[RenderableType] = [Text("What the setup consists of", style="bold")]
        body.append(resources if resources.row_count else Text(
            "Nothing was run in this session yet: go back (Escape) or jump to a step with "
            "ctrl+p."))
        self.query_one("#resources", Static).update(Group(*body))
        steps = "\n".join(f"• {s}" for s in self.next_steps())
        self.query_one("#next-steps", Static).update(Text("Next\n", style="bold") + Text(steps))
        self.wizard.set_status(self.KEY, "done")

    def next_steps(self) -> list[str]:
        """What is left for the operator, given the mode and how CircleCI got its values."""
        app = self.wizard
        config = app.config
        steps = []
        if app.sandbox is not None:
            steps.append("This was the SANDBOX: nothing exists in AWS. Run the wizard without "
                         "--sandbox to do it for real.")
        by_hand = app.circleci is None or not config.circleci_project  # as the engine decides
        if "circleci" in app.results and by_hand:
            from wizard.circleci.delivery_step import variable_names

            where = (f"context {config.circleci_context}" if config.circleci_context
                     else f"project {config.circleci_project}" if config.circleci_project
                     else "your CircleCI project")
            steps.append(f"Add {', '.join(variable_names(config))} to {where} by hand: the "
                         "CircleCI step lists each value and where it goes.")
        steps.append("Add the config.yml from the CircleCI step to your repository and push.")
        if config.auth is AuthMode.OIDC:
            steps.append("Watch the pipeline's upload step: its first run proves the role "
                         "(no key exists to test with before that).")
        else:
            steps.append(f"Use the key locally without a credentials file: "
                         f"`circleci-s3-wizard credential-process --user {config.user}`.")
        steps += ["Run `circleci-s3-wizard plan` any time to see that nothing drifted.",
                  "Remove everything the wizard made with `circleci-s3-wizard destroy` "
                  "(the bucket and its objects are always kept)."]
        return steps

    def action_finish(self) -> None:
        self.dismiss(NEXT)
