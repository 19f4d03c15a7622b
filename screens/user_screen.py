"""Step 6: the programmatic IAM user CircleCI signs in as (keys mode)."""

from __future__ import annotations

from textual.app import ComposeResult

from screens.step_screen import StepScreen
from screens.validators import iam_validator
from screens.widgets.field import Field


class UserScreen(StepScreen):
    KEY = "user"
    HELP = "The user gets no console password and no policy of its own: everything it may " \
        "do comes from the group. A user that already has a console password is refused."

    def compose_inputs(self) -> ComposeResult:
        yield Field("IAM user name", "user", self.wizard.config.user,
                    iam_validator("user", "user", "User name"))
