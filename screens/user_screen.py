"""The programmatic IAM user CircleCI signs in as (access-key mode)."""

from __future__ import annotations

from .step_screen import StepScreen


class UserScreen(StepScreen):
    KEY = "user"
    ANSWERS = ("user",)
    HELP = ("The user gets no console password and no permission of its own: it is a member of "
            "the group, and the group holds the policy. An existing user with a console "
            "password is refused: a CI identity must be programmatic only.")
