"""Where the driver goes after a page: the registry's page order for the answers as they are.

Every page is a ``Screen[Nav]``: it dismisses with next, back, a jump (the palette, or "do this
first"), or finish. :func:`following` walks :func:`wizard.registry.pages_for`, so the order, and
which pages a sign-in mode has, are written once, in the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..wizard.config import SetupConfig
from ..wizard.model import StepResult
from ..wizard.registry import pages_for


@dataclass(frozen=True, slots=True)
class Nav:
    """What a page returns when it is dismissed; ``ran`` is what its step just did, if it ran
    (the next page says so on top)."""

    kind: Literal["next", "back", "jump", "finish"]
    target: str | None = None
    ran: StepResult | None = None


NEXT = Nav("next")
BACK = Nav("back")
FINISH = Nav("finish")


def jump(key: str) -> Nav:
    return Nav("jump", key)


def following(key: str, nav: Nav, config: SetupConfig) -> str | None:
    """The page after ``key`` left with ``nav`` (None: the wizard is over).

    A page the answers no longer have (the sign-in mode changed on it) continues from where it
    would stand in the registry's order.
    """
    keys = [p.key for p in pages_for(config)]
    if nav.kind == "finish":
        return None
    if nav.kind == "jump":
        return nav.target if nav.target in keys else key
    from ..wizard.registry import PAGES

    order = [p.key for p in PAGES]
    here = order.index(key)
    step = -1 if nav.kind == "back" else 1
    candidates = order[here + step::step] if step == 1 else order[:here][::-1]
    return next((k for k in candidates if k in keys), key if step == -1 else None)
