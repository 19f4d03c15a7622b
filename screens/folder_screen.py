"""The folder (S3 prefix) CircleCI may use: typed as you like, normalised by the engine."""

from __future__ import annotations

from .step_screen import StepScreen


class FolderScreen(StepScreen):
    KEY = "folder"
    ANSWERS = ("prefix",)
    HELP = ("The prefix is what the policy is scoped to: CircleCI may use s3://bucket/<prefix>… "
            "and nothing else. A trailing '/' is always added (the plan shows it), so 'builds' "
            "can never also match 'builds-secret/'.")
