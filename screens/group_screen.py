"""The IAM group that holds the permission."""

from __future__ import annotations

from .step_screen import StepScreen


class GroupScreen(StepScreen):
    KEY = "group"
    ANSWERS = ("group",)
    HELP = ("The group is created under the IAM path /circleci-s3-wizard/ so that destroy can "
            "tell what the wizard made. An existing group of that name is used as it is.")
