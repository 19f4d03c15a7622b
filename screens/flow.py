"""The order of the wizard's pages and how a page tells the driver where to go next.

The tutorial's flow reads top to bottom here: the app's step driver walks :data:`PAGES` in
order, and every page screen dismisses with a :class:`Nav` saying next, back or jump.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from wizard.config import AuthMode, SetupConfig

#: (key, title) in the order the operator meets them. Step keys match the engine's Step.key.
PAGES: tuple[tuple[str, str], ...] = (
    ("welcome", "Welcome"),
    ("bucket", "S3 bucket"),
    ("folder", "Builds folder"),
    ("group", "IAM group"),
    ("policy", "Policy"),
    ("attach", "Attach policy"),
    ("user", "IAM user"),
    ("access_key", "Access key"),
    ("circleci", "CircleCI"),
    ("verify", "Verify"),
    ("done", "Done"),
)
PAGE_KEYS: tuple[str, ...] = tuple(key for key, _ in PAGES)
TITLES: dict[str, str] = dict(PAGES)

#: Pages that OIDC mode does not need: CircleCI assumes a role instead of using a user's key.
KEYS_ONLY = frozenset({"group", "attach", "user", "access_key"})


def applies(key: str, config: SetupConfig) -> bool:
    """Whether the page is part of the flow for this configuration."""
    return not (config.auth is AuthMode.OIDC and key in KEYS_ONLY)


@dataclass(frozen=True, slots=True)
class Nav:
    """What a page returns when it is dismissed: where the driver goes next."""

    kind: Literal["next", "back", "jump", "quit"]
    target: str | None = None


NEXT = Nav("next")
BACK = Nav("back")
QUIT = Nav("quit")


def jump(key: str) -> Nav:
    return Nav("jump", key)


def following(index: int, nav: Nav, config: SetupConfig) -> int:
    """The index of the page to show after page ``index`` was left with ``nav``.

    Pages that do not apply to the configuration (keys-only pages in OIDC mode) are passed
    over in either direction.
    """
    if nav.kind == "jump" and nav.target in PAGE_KEYS:
        return PAGE_KEYS.index(nav.target)
    step = -1 if nav.kind == "back" else 1
    target = index + step
    while 0 < target < len(PAGES) - 1 and not applies(PAGE_KEYS[target], config):
        target += step
    return max(0, min(target, len(PAGES) - 1))
