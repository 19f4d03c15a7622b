"""Step 5: attach the policy to the group."""

from __future__ import annotations

from screens.step_screen import StepScreen


class AttachScreen(StepScreen):
    KEY = "attach"
    HELP = "Nothing to choose here: the group and the policy are the ones from the previous " \
        "steps (Escape goes back to change them)."
