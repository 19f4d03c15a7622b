"""The copy-once clipboard on a real X server (Xvfb) with xclip and xsel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from wizard.clipboard import (
    CLEAR_AFTER_SECONDS,
    AlreadyCopied,
    ClipboardUnavailable,
    CopyOnce,
    SystemClipboard,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"


@pytest.fixture
def display(x_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return x_display


def _xclip_out() -> str:
    """What another program sees on the clipboard."""
    done = subprocess.run(
        ["xclip", "-selection", "clipboard", "-o"], capture_output=True, text=True, timeout=5
    )
    return done.stdout


def test_round_trip_through_xclip(display):
    clipboard = SystemClipboard()
    assert clipboard.name == "xclip"
    clipboard.copy("first value")
    assert _xclip_out() == "first value"
    assert clipboard.paste() == "first value"


def test_xsel_is_used_when_it_is_the_only_tool(display, tmp_path, monkeypatch):
    only = tmp_path / "bin"
    only.mkdir()
    (only / "xsel").symlink_to(shutil.which("xsel"))
    monkeypatch.setenv("PATH", str(only))
    clipboard = SystemClipboard()
    assert clipboard.name == "xsel"
    clipboard.copy("via xsel")
    assert clipboard.paste() == "via xsel"


def test_copy_does_not_keep_a_capturing_parent_waiting(display):
    """pyperclip's xclip holds the caller's pipes open; ours must not (CLI tests pipe output)."""
    code = "from wizard.clipboard import SystemClipboard as S; S().copy('from a child')"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=10, check=True
    )
    assert done.stderr == ""
    assert _xclip_out() == "from a child"


def test_no_display_raises_clipboard_unavailable(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ClipboardUnavailable, match="DISPLAY"):
        SystemClipboard().copy(SECRET)


def test_dead_display_raises_and_keeps_the_secret_out_of_the_message(monkeypatch):
    number = next(n for n in range(4242, 4300) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    monkeypatch.setenv("DISPLAY", f":{number}")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    with pytest.raises(ClipboardUnavailable) as caught:
        SystemClipboard().copy(SECRET)
    assert f":{number}" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_copy_once_copies_once(display):
    calls = []

    def provider() -> str:
        calls.append(1)
        return SECRET

    once = CopyOnce(provider)
    clipboard = SystemClipboard()
    assert not once.used
    once.copy(clipboard)
    assert once.used
    assert _xclip_out() == SECRET
    with pytest.raises(AlreadyCopied):
        once.copy(clipboard)
    assert calls == [1]
    assert SECRET not in repr(vars(once))


class _Broken:
    """A clipboard adapter that cannot copy (like OSC 52 in a terminal that ignores it)."""

    def copy(self, text: str) -> None:
        raise ClipboardUnavailable("no clipboard here")

    def paste(self) -> str:
        raise ClipboardUnavailable("no clipboard here")


def test_a_failed_copy_can_be_retried_elsewhere(display):
    once = CopyOnce(lambda: SECRET)
    with pytest.raises(ClipboardUnavailable):
        once.copy(_Broken())
    assert not once.used
    once.copy(SystemClipboard())
    assert once.used and _xclip_out() == SECRET


def test_clear_if_unchanged_wipes_only_the_secret(display):
    clipboard = SystemClipboard()
    once = CopyOnce(lambda: SECRET)
    assert once.clear_if_unchanged(clipboard) is False  # nothing copied yet

    once.copy(clipboard)
    assert once.clear_if_unchanged(clipboard) is True
    assert _xclip_out() == ""

    again = CopyOnce(lambda: SECRET)
    again.copy(clipboard)
    clipboard.copy("something the operator copied later")
    assert again.clear_if_unchanged(clipboard) is False
    assert _xclip_out() == "something the operator copied later"


def test_clear_if_unchanged_never_raises():
    once = CopyOnce(lambda: SECRET)
    once._digest = b"x" * 32  # as if copied through a clipboard that has since gone away
    assert once.clear_if_unchanged(_Broken()) is False


def test_schedule_clear_runs_on_a_daemon_timer(display):
    clipboard = SystemClipboard()
    once = CopyOnce(lambda: SECRET)
    once.copy(clipboard)
    timer = once.schedule_clear(clipboard, seconds=0.05)
    assert isinstance(timer, threading.Timer) and timer.daemon
    timer.join(timeout=10)
    assert _xclip_out() == ""


def test_schedule_clear_defaults_to_thirty_seconds():
    made = []

    class Recorder:
        def __init__(self, seconds, callback):
            made.append(seconds)
            self.started = False

        def start(self):
            self.started = True

    once = CopyOnce(lambda: SECRET)
    timer = once.schedule_clear(_Broken(), timer_factory=Recorder)
    assert made == [CLEAR_AFTER_SECONDS] == [30]
    assert timer.started


def test_these_engine_modules_import_neither_textual_nor_keyring():
    """Start-up speed and the engine/UI split: keyring loads on first use, Textual never."""
    code = "import sys, wizard.clipboard, wizard.secret_store, wizard.credential_process; "
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'keyring')))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stdout.strip() == "[]"
