"""The copy-once clipboard on a real X server (Xvfb) with xclip and xsel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from circleci_s3_wizard.wizard.clipboard import (
    AlreadyCopied,
    ClipboardUnavailable,
    CopyOnce,
    SystemClipboard,
    clear_pending,
    pending_copies,
    pending_on_clipboard,
)
from tests.fixtures.clipboard_support import (
    alive,
    copy_as_operator,
    eventually,
    holds,
    xclip_servers,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"


@pytest.fixture(autouse=True)
def nothing_left_pending() -> Iterator[None]:
    """Each test starts and ends with no copied secret owed a clear in this process."""
    clear_pending()
    yield
    clear_pending()


@pytest.fixture
def display(x_display: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DISPLAY", x_display)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return x_display


def fake_secret() -> str:
    """A throwaway value that looks like no real credential."""
    return f"not-a-real-secret-{uuid.uuid4().hex}"


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


def test_xsel_is_used_when_it_is_the_only_tool(display, xsel, tmp_path, monkeypatch):
    only = tmp_path / "bin"
    only.mkdir()
    (only / "xsel").symlink_to(xsel)
    monkeypatch.setenv("PATH", str(only))
    clipboard = SystemClipboard()
    assert clipboard.name == "xsel"
    clipboard.copy("via xsel")
    assert clipboard.paste() == "via xsel"


def test_copy_does_not_keep_a_capturing_parent_waiting(display):
    """pyperclip's xclip holds the caller's pipes open; ours must not (CLI tests pipe output)."""
    code = ("from circleci_s3_wizard.wizard.clipboard import SystemClipboard as S; "
            "S().copy('from a child')")
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


def test_these_engine_modules_import_neither_textual_nor_keyring():
    """Start-up speed and the engine/UI split: keyring loads on first use, Textual never."""
    code = "import sys; " + "; ".join(
        f"import circleci_s3_wizard.wizard.{name}"
        for name in ("clipboard", "secret_store", "credential_process")) + "; "
    code += "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'keyring')))"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_a_copied_secret_is_pending_until_a_clear_looked(display):
    clipboard = SystemClipboard()
    once = CopyOnce(fake_secret)
    assert not once.pending and pending_copies() == ()
    once.copy(clipboard)
    assert once.pending and pending_copies() == (once,)
    assert once.on_clipboard() and pending_on_clipboard() == 1
    copy_as_operator("the operator's own text")
    assert not once.on_clipboard() and pending_on_clipboard() == 0
    assert once.pending  # nobody has looked yet
    assert once.clear_if_unchanged() is False  # the clipboard it went to, by default
    assert not once.pending and pending_copies() == ()


def test_clear_pending_wipes_only_secrets_still_on_the_clipboard(display):
    clipboard = SystemClipboard()
    replaced, kept = CopyOnce(fake_secret), CopyOnce(fake_secret)
    replaced.copy(clipboard)
    copy_as_operator("the operator's own text")
    assert clear_pending() == 0
    assert _xclip_out() == "the operator's own text"
    assert pending_copies() == ()

    kept.copy(clipboard)
    assert clear_pending() == 1
    assert _xclip_out() == ""
    assert clear_pending() == 0  # idempotent: nothing is pending any more
    assert not kept.pending


@pytest.mark.parametrize("tool", ["xclip", "xsel"])
def test_a_clear_ends_the_server_that_held_the_secret_and_leaves_none(display, tool, tmp_path,
                                                                      monkeypatch, request):
    only = tmp_path / "bin"
    only.mkdir()
    path = request.getfixturevalue("xsel") if tool == "xsel" else shutil.which(tool)
    (only / tool).symlink_to(path)
    monkeypatch.setenv("PATH", str(only))
    clipboard = SystemClipboard()
    assert clipboard.name == tool
    secret = fake_secret()
    CopyOnce(lambda: secret).copy(clipboard)
    servers = _servers(tool, display)
    assert len(servers) == 1, servers
    # A generous bound: under a loaded CI machine xsel's round trip can pass the 3 s exit bound,
    # which has its own test (test_clear_pending_is_bounded_when_xclip_hangs).
    assert clear_pending(timeout=20) == 1
    assert eventually(lambda: not alive(servers[0])), f"{tool} still serves the secret"
    assert eventually(lambda: _servers(tool, display) == []), "a clear left a server behind"
    monkeypatch.setenv("PATH", os.environ["PATH"] + os.pathsep + "/usr/bin")
    assert _xclip_out() == ""


def _servers(tool: str, display: str) -> list[int]:
    """Running ``tool`` processes on ``display`` (xclip's or xsel's selection servers)."""
    if tool == "xclip":
        return xclip_servers(display)
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == tool and \
                    f"DISPLAY={display}".encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return [pid for pid in found if alive(pid)]


def test_clear_pending_is_bounded_when_xclip_hangs(display, tmp_path, monkeypatch):
    clipboard = SystemClipboard()
    once = CopyOnce(fake_secret)
    once.copy(clipboard)
    # From now on "xclip" hangs, as it does when the X server stops answering.
    hung = tmp_path / "hung"
    hung.mkdir()
    (hung / "xclip").write_text("#!/bin/sh\necho $$ >> \"$0.pids\"\nexec sleep 60\n")
    (hung / "xclip").chmod(0o755)
    monkeypatch.setenv("PATH", f"{hung}{os.pathsep}{os.environ['PATH']}")
    started = time.monotonic()
    assert clear_pending(timeout=0.5) == 0
    assert time.monotonic() - started < 1.5
    assert once.pending  # still owed: the clipboard could not be read
    pids = [int(p) for p in (hung / "xclip.pids").read_text().split()]
    assert pids and not any(alive(pid) for pid in pids)  # the hung tool was killed
    monkeypatch.setenv("PATH", os.environ["PATH"].split(os.pathsep, 1)[1])
    assert clear_pending() == 1  # and the next exit path clears it


class _GoneTerminal:
    """An OSC 52 adapter after its app has gone: every call raises RuntimeError, until back."""

    def __init__(self) -> None:
        self.gone = False
        self.text = ""

    def copy(self, text: str) -> None:
        if self.gone:
            raise RuntimeError("App is not running")
        self.text = text

    def paste(self) -> str:
        if self.gone:
            raise RuntimeError("App is not running")
        return self.text


def test_clear_pending_never_raises():
    terminal = _GoneTerminal()
    once = CopyOnce(fake_secret)
    once.copy(terminal)
    terminal.gone = True
    assert clear_pending() == 0
    assert pending_on_clipboard() == 0
    assert once.pending
    terminal.gone = False
    assert pending_on_clipboard() == 1
    assert clear_pending() == 1 and terminal.text == ""


def test_a_program_that_exits_without_clearing_still_clears(display):
    """The atexit hook: a script that copies and returns leaves nothing on the clipboard."""
    code = ("import os; from circleci_s3_wizard.wizard.clipboard import CopyOnce, SystemClipboard; "
            "CopyOnce(lambda: os.environ['TEST_SECRET']).copy(SystemClipboard())")
    secret = fake_secret()
    subprocess.run([sys.executable, "-c", code], env={**os.environ, "TEST_SECRET": secret},
                   capture_output=True, timeout=30, check=True)
    still_there = holds(secret)
    assert not still_there, "the secret outlived the program"
    assert eventually(lambda: xclip_servers(display) == [])


def test_a_missing_system_package_is_named_by_the_fixture_that_needs_it(tmp_path, monkeypatch):
    """Without xsel only xsel's tests fail, and they say which package to install; a missing
    tool is a failure, never a skip."""
    from tests.fixtures.display import require_tool

    monkeypatch.setenv("PATH", str(tmp_path))  # nothing installed
    with pytest.raises(pytest.fail.Exception) as failed:
        require_tool("xsel", "xsel", "this test copies with xsel")
    assert str(failed.value) == ("xsel is not installed; this test copies with xsel: "
                                 "apt-get install -y --no-install-recommends xsel")
