"""The access key: made by the engine, its secret straight into the OS keyring.

The page shows the key id and the secret masked (its last four characters), and offers the one
copy of the secret this run allows. When the engine had to hand the secret over (the keyring
refused it and the key could not be deleted again), the page says so with the engine's
instruction, and the copy is the only way to take it.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from ..wizard.model import Action, StepResult
from .key_copy import CopiesKey
from .messages import Job
from .step_screen import StepScreen
from .widgets.secret_copy import COPY_BINDINGS, SecretCopy


class AccessKeyScreen(CopiesKey, StepScreen):
    KEY = "access_key"
    HELP = ("Before the key is created the wizard proves the OS keyring works (write, read back, "
            "delete a test entry) and refuses insecure backends, so no key is made whose secret "
            "could not be kept. ctrl+s copies the secret once per run (here, on the CircleCI "
            "page or on Done, whichever comes first); the clipboard is cleared after 30 s if it "
            "still holds it. ctrl+k copies the key id.")
    BINDINGS = [*COPY_BINDINGS]

    def compose_details(self) -> ComposeResult:
        yield Static("", id="handoff", classes="panel -error")
        yield SecretCopy(id="key", classes="panel")

    def shown_key_id(self) -> str | None:
        handoff = self.state.handoff
        if handoff is not None:
            return handoff.access_key_id
        result = self.state.known_results().get(self.KEY)
        return result.outputs.get("access_key_id") if result else None

    def show_details(self) -> None:
        handoff = self.state.handoff
        panel = self.query_one("#handoff", Static)
        panel.display = handoff is not None
        if handoff is not None:
            panel.update(Text(f"✗ The secret could not be kept ({handoff.reason}).\n"
                              f"{handoff.instruction}\nctrl+s copies it: the only chance."))
        self.show_key(self.query_one(SecretCopy))

    def stays_after(self, result: StepResult) -> bool:
        """A new key was made: its id and masked secret are worth a look before going on."""
        return result.action is Action.CREATE

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        super().work_failed(job, key, sentence)
        self.show_details()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        copy = self.copy_check(action)
        return copy if copy is not None else super().check_action(action, parameters)
