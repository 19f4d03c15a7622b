"""Step 2: the folder (S3 prefix) CircleCI may use."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult

from screens.step_screen import StepScreen
from screens.validators import prefix_validator
from screens.widgets.field import Field
from wizard.validation import normalise_prefix, validate_prefix


class FolderScreen(StepScreen):
    KEY = "folder"
    HELP = ("The prefix is what the policy is scoped to: CircleCI may use "
            "s3://bucket/<prefix>... and nothing else. A trailing '/' is added for you, so "
            "'builds' cannot also match 'builds-secret/'.")

    def compose_inputs(self) -> ComposeResult:
        yield Field("Folder (prefix) for the builds", "prefix", self.wizard.config.prefix,
                    prefix_validator(), placeholder="builds/")

    def final_changes(self) -> dict[str, Any]:
        prefix = self.wizard.config.prefix
        if validate_prefix(prefix):
            return {}
        normal = normalise_prefix(prefix)
        return {"prefix": normal} if normal != prefix else {}
