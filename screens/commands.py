"""The command palette (ctrl+p): go to any page of this setup, by the registry's titles.

Quitting and the theme are Textual's own system commands (one "Quit" entry, which asks first in
the middle of the setup, as ctrl+q does).
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from ..wizard.registry import pages_for

if TYPE_CHECKING:
    from .app import WizardApp


def first_sentence(text: str) -> str:
    return text.split(". ", 1)[0].rstrip(".") + "." if text else ""


class PageCommands(Provider):
    """``Go to: <title>`` for every page of the setup, in the registry's order."""

    def _commands(self) -> list[tuple[str, str, object]]:
        app = cast("WizardApp", self.app)
        return [(f"Go to: {page.title}",
                 first_sentence(page.step.why) if page.step else f"The {page.title} page",
                 partial(app.jump_to, page.key))
                for page in pages_for(app.state.flow_config)]

    async def discover(self) -> Hits:
        for text, help_text, callback in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, callback in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback,  # type: ignore[arg-type]
                          text=text, help=help_text)
