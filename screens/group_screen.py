"""Step 3: the IAM group that holds the permission."""

from __future__ import annotations

from textual.app import ComposeResult

from screens.step_screen import StepScreen
from screens.validators import iam_validator
from screens.widgets.field import Field


class GroupScreen(StepScreen):
    KEY = "group"
    HELP = "The group is created under the IAM path /circleci-s3-wizard/ so that destroy " \
        "can tell what the wizard made. An existing group of that name is used as it is."

    def compose_inputs(self) -> ComposeResult:
        yield Field("IAM group name", "group", self.wizard.config.group,
                    iam_validator("group", "group", "Group name"))
