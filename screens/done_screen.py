"""The end: what the setup consists of, and what is left to do, both in the engine's words.

The resources are the outputs of every step's result (or of its plan, when it had nothing to
do), labelled with the registry's step titles; the advice is ``next_steps(ctx, results,
secret_from="screen", sign_in_from="screen")``, the same list the CLI prints, worded for this
screen (made in a worker: with OIDC its config.yml reads the role's session limit). With OIDC,
what the Retire static keys step still has to do or to say about a key an access-key setup left
comes first, in that step's words (:func:`screens.retire_note.retire_note`). When the advice says
to paste the values by hand, the secret's one copy is offered here too.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static

from ..wizard.registry import info
from .flow import FINISH
from .key_copy import CopiesKey
from .messages import Job
from .page import PageScreen
from .widgets.secret_copy import COPY_BINDINGS, SecretCopy


class DoneScreen(CopiesKey, PageScreen):
    KEY = "done"
    HELP = ("Everything the wizard made is tagged (or under the IAM path /circleci-s3-wizard/), "
            "so `circleci-s3-wizard destroy` removes exactly that and never the bucket.")
    BINDINGS = [
        Binding("enter", "primary", "Finish", priority=True, id="primary",
                tooltip="Leave the wizard"),
        *COPY_BINDINGS,
    ]

    def compose_page(self) -> ComposeResult:
        yield Static("", id="resources", classes="panel")
        yield Static("", id="next-steps", classes="panel")
        yield SecretCopy(id="key", classes="panel")

    def mounted(self) -> None:
        self.refresh_page()

    def _advice(self) -> Text:
        from .retire_note import retire_note

        app = self.wizard
        advice = Text("Next\n", style="bold")
        said = app.said(Job.NEXT_STEPS)
        if said is None:
            app.next_steps()
        retire = retire_note(app)
        steps = [retire] if retire is not None else []
        if said is not None and said.problem is not None:
            advice.append(f"✗ {said.problem}\n")
        elif said is not None:
            steps += list(said.value)
        elif failed := app.failure(Job.NEXT_STEPS):
            advice.append(f"✗ {failed}\n")
        else:
            advice.append("Working it out…\n", style="dim")
        for step in steps:
            advice.append(f"• {step.text}\n")
            for line in step.lines:
                advice.append(f"    {line}\n", style="dim")
        return advice

    def shown_key_id(self) -> str | None:
        """The key whose secret the by-hand advice asks to paste (keys mode, no delivery)."""
        from ..wizard.next_steps import by_hand

        state = self.state
        if state.ctx is None or not state.flow_config.keys or \
                by_hand(state.ctx, state.known_results(), secret_from="screen",
                        sign_in_from="screen") is None:
            return None
        return state.outputs().get("access_key_id")

    def refresh_page(self) -> None:
        super().refresh_page()
        if not self.shown:
            return
        self.query_one("#resources", Static).update(self._resources())
        self.query_one("#next-steps", Static).update(self._advice())
        self.show_key(self.query_one(SecretCopy))
        self.refresh_bindings()

    def _resources(self) -> RenderableType:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column(overflow="fold")  # long ARNs wrap inside their own column
        for key, result in self.state.known_results().items():
            outputs = [(n, v) for n, v in result.outputs.items() if v is not None]
            for index, (name, value) in enumerate(outputs):
                shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else value
                title = info(key).title
                table.add_row(title if index == 0 else f"{title}: {name.replace('_', ' ')}",
                              str(shown))
        body: list[RenderableType] = [Text("What the setup consists of", style="bold")]
        body.append(table if table.row_count else Text(
            "Nothing was found or made yet: go back (Escape) or go to a step with ctrl+p."))
        return Group(*body)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        copy = self.copy_check(action)
        return copy if copy is not None else super().check_action(action, parameters)

    def action_primary(self) -> None:
        self.dismiss(FINISH)
