"""Helpers for the TUI tests: an in-memory keyring stand-in and Pilot conveniences.

The fake store keeps secrets in a dict and behaves like :class:`wizard.secret_store.SecretStore`
(same method names and answers); the real GNOME Keyring is used in one flow test instead.
"""

from __future__ import annotations

import asyncio
import html
import io
import re
from collections import defaultdict
from typing import Any

from textual.pilot import Pilot

from wizard.secret_store import AccessKey


class MemoryStore:
    """A secure-looking keyring that lives in memory (what SecretStore would do, minus D-Bus)."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def ensure_usable(self) -> None:
        return None

    def backend_name(self) -> str:
        return "tests.MemoryStore"

    def store_access_key(self, user: str, key: AccessKey) -> None:
        self.entries[f"aws-access-key:{user}"] = f"{key.access_key_id}\n{key.secret_access_key}"

    def load_access_key(self, user: str) -> AccessKey | None:
        raw = self.entries.get(f"aws-access-key:{user}")
        if raw is None:
            return None
        key_id, secret = raw.split("\n")
        return AccessKey(key_id, secret)

    def delete_access_key(self, user: str) -> bool:
        return self.entries.pop(f"aws-access-key:{user}", None) is not None

    def store_token(self, name: str, token: str) -> None:
        self.entries[f"token:{name}"] = token

    def load_token(self, name: str) -> str | None:
        return self.entries.get(f"token:{name}")

    def delete_token(self, name: str) -> bool:
        return self.entries.pop(f"token:{name}", None) is not None


class MemoryClipboard:
    """A clipboard that can be read back, like a desktop one."""

    name = "test clipboard"

    def __init__(self) -> None:
        self.text = ""
        self.copies = 0

    def copy(self, text: str) -> None:
        self.text = text
        self.copies += 1

    def paste(self) -> str:
        return self.text


_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>')


def svg_rows(svg: str) -> list[str]:
    """The rows of text in a Textual SVG screenshot, as the terminal would show them."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for match in _SVG_TEXT.finditer(svg):
        text = html.unescape(match.group(3)).replace("\xa0", " ")
        rows[float(match.group(2))].append((float(match.group(1)), text))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.rstrip())
    return lines


def screen_text(app: Any) -> str:
    """What the operator can read: the whole screen as rendered (the page scrolled through).

    The terminal's visible rows come from a screenshot; the full text of every Static on the
    page is added because the page may be taller than the terminal.
    """
    from rich.console import Console
    from textual.widgets import Static

    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    for widget in app.screen.query("*"):
        if isinstance(widget, Static) and widget.display:
            content = widget.content
            try:
                console.print(content)
            except Exception:  # noqa: BLE001 - Textual-only markup: the plain text will do
                console.print(str(content), markup=False)
    parts = console.export_text()
    return parts + "\n" + "\n".join(svg_rows(app.export_screenshot()))


async def wait_for(pilot: Pilot, condition: Any, timeout: float = 15.0, what: str = "") -> None:
    """Let the app run until ``condition()`` is true (workers finish in their own time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


async def wait_page(pilot: Pilot, key: str, timeout: float = 15.0) -> None:
    """Wait until the driver shows page ``key`` and its first check has finished."""
    app = pilot.app
    await wait_for(pilot, lambda: getattr(app.screen, "KEY", None) == key, timeout,
                   f"page {key}")
    screen = app.screen
    if hasattr(screen, "state"):
        await wait_for(pilot, lambda: screen.state != "checking", timeout,
                       f"the check on {key}")
