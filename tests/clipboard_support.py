"""What another program sees on the X clipboard, and which xclip processes still serve it.

Checks compare digests and return booleans, so a failing assertion never prints a secret.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def clipboard_text(display: str | None = None) -> str:
    """The CLIPBOARD selection's text, as ``xclip -o`` gives it ('' when nobody owns it)."""
    env = dict(os.environ, DISPLAY=display) if display else None
    done = subprocess.run(["xclip", "-selection", "clipboard", "-o"], capture_output=True,
                          text=True, timeout=5, env=env, stdin=subprocess.DEVNULL)
    return done.stdout if done.returncode == 0 else ""


def holds(secret: str, display: str | None = None) -> bool:
    """True if the clipboard holds exactly ``secret`` (compared by digest, never printed)."""
    digest = hashlib.sha256(clipboard_text(display).encode()).digest()
    return digest == hashlib.sha256(secret.encode()).digest()


def copy_as_operator(text: str, display: str | None = None) -> None:
    """Put ``text`` on the clipboard as another program would (xclip, left serving it)."""
    env = dict(os.environ, DISPLAY=display) if display else None
    subprocess.run(["xclip", "-selection", "clipboard"], input=text.encode(), env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5, check=True)


def alive(pid: int) -> bool:
    """True if ``pid`` is a running process (a zombie holds nothing and counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def xclip_servers(display: str) -> list[int]:
    """Running xclip processes on ``display``: each one serves a selection from its memory."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "xclip":
                continue
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"DISPLAY={display}".encode() in environ and alive(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def eventually(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passes; its last answer."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True
