"""The installed ``circleci-s3-wizard --sandbox`` in a real terminal (tmux), walked with keystrokes
and counted: a newcomer with the answers on the command line finishes in at most 12 keys.

Everything is real: the console script in its own process, an 80x24 tmux pane, the embedded
sandbox, GNOME Keyring on a private D-Bus session. The test only presses keys and reads the pane,
as an operator would, and checks what is on screen at each step, that the secret never appears in
any pane, where the secret ended up, and that the wizard exits cleanly at the end.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.keyring_service import SecretService

BUCKET = "tmux-test-builds"
STEP_TIMEOUT = 30.0
OIDC_PAGES = ["S3 bucket", "Builds folder", "Policy", "OIDC provider", "OIDC role", "CircleCI",
              "Retire static keys"]

pytestmark = pytest.mark.slow


def wizard_command() -> str:
    """The console script of this interpreter's environment (the one under test)."""
    local = Path(sys.executable).parent / "circleci-s3-wizard"
    found = str(local) if local.exists() else shutil.which("circleci-s3-wizard")
    assert found, "circleci-s3-wizard is not installed in this environment (uv sync)"
    return found


class Terminal:
    """One tmux session on a private server socket; counts the keys it sends."""

    def __init__(self, env: dict[str, str], status_file: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.fail("tmux is not installed: apt-get install -y tmux", pytrace=False)
        name = f"wizard-test-{uuid.uuid4().hex[:8]}"
        self.base = [tmux, "-L", name, "-f", "/dev/null"]
        self.target = name
        self.env = env
        self.status_file = status_file
        self.presses = 0
        #: Every pane captured, to prove afterwards that none held the secret.
        self.seen: list[str] = []

    def tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=True)
        return done.stdout

    def start(self, argv: list[str], width: int = 80, height: int = 24) -> None:
        """Run ``argv`` in the pane; a shell around it writes its exit status to a file."""
        wrapper = f'"$@"; echo $? > {shlex.quote(str(self.status_file))}'
        self.tmux("new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height),
                  "sh", "-c", wrapper, "sh", *argv)

    def capture(self) -> str:
        text = self.tmux("capture-pane", "-p", "-t", self.target)
        self.seen.append(text)
        return text

    def press(self, key: str) -> None:
        self.presses += 1
        self.tmux("send-keys", "-t", self.target, key)

    def wait_for(self, what: str, found: Callable[[str], bool],
                 timeout: float = STEP_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.capture()
            if found(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; "
                                     f"the pane shows:\n{text}")
            time.sleep(0.05)

    def wait_text(self, *needles: str, timeout: float = STEP_TIMEOUT) -> str:
        return self.wait_for(" and ".join(repr(n) for n in needles),
                             lambda text: all(n in text for n in needles), timeout)

    def exit_status(self, timeout: float = STEP_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while not self.status_file.exists() or not self.status_file.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the wizard did not exit within {timeout:.0f} s")
            time.sleep(0.1)
        return self.status_file.read_text().strip()

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True,
                       timeout=10, check=False)


def flat(pane: str) -> str:
    """The pane's text with whitespace and the step list's border gone (wrapped lines join)."""
    return re.sub(r"[\s▕│╭╮╰╯─]+", "", pane)


def pane_env(home: Path, bus: str, **extra: str) -> dict[str, str]:
    """What a pane's program sees: a throwaway HOME, the test keyring's bus, no AWS or CircleCI
    settings, no display (unless ``extra`` gives one), and nothing of the outer tmux."""
    (home / ".config").mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CIRCLE_", "TMUX", "PYTHON_KEYRING", "XDG_", "TEXTUAL"))
           and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        DBUS_SESSION_BUS_ADDRESS=bus,
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return env


@pytest.fixture
def terminal(secret_service: SecretService, tmp_path: Path) -> Iterator[Terminal]:
    """A tmux server whose panes see the test keyring's bus and a throwaway HOME."""
    env = pane_env(tmp_path / "home", secret_service.address)
    term = Terminal(env, tmp_path / "exit-status")
    try:
        yield term
    finally:
        term.kill()


def walk(terminal: Terminal, pages: list[str], *, stays: tuple[str, ...] = (),
         on_done: Callable[[], None] | None = None) -> str:
    """From Welcome to the end, one Enter per page (two on a page in ``stays``); the Done pane.

    ``on_done`` runs while Done is on screen, before the Enter that quits (and so before the
    sandbox, and its keyring entries, go)."""
    terminal.wait_text("Welcome", "SANDBOX", "Press Enter to")
    terminal.press("Enter")
    for number, title in enumerate(pages, 1):
        pane = terminal.wait_text(f"Step {number} of {len(pages)} · {title}", "What will")
        assert "✗" not in pane, pane
        terminal.press("Enter")
        if title in stays:
            terminal.wait_text("What happened", "Press Enter to continue.", "•" * 16)
            terminal.press("Enter")
    return finish(terminal, on_done)


def run_all(terminal: Terminal, *, stays: tuple[str, ...] = (),
            on_done: Callable[[], None] | None = None) -> str:
    """ctrl+a on Welcome, y under the whole plan, then an Enter on each page in ``stays`` (it
    stops the run-through to show its result), on Verify and on Done; the Done pane."""
    terminal.wait_text("Welcome", "SANDBOX", "^a Run all")
    terminal.press("C-a")
    dialog = terminal.wait_text("Run every step?", "Run all (y)")
    assert "+ create   S3 bucket" in dialog and "+ create   Access key" in dialog, dialog
    terminal.press("y")
    for title in stays:
        terminal.wait_text(title, "What happened", "Press Enter to continue.", "•" * 16)
        terminal.press("Enter")
    return finish(terminal, on_done)


def finish(terminal: Terminal, on_done: Callable[[], None] | None) -> str:
    """Verify's report (every check proven or unproven, none failed), then Done."""
    report = terminal.wait_for("the verification report",
                               lambda text: re.search(r"\d+proven,\d+failed", flat(text)))
    assert re.search(r"\d+proven,0failed", flat(report)), report
    terminal.press("Enter")
    done = terminal.wait_text("What the setup consists of", "Finish")
    if on_done is not None:
        on_done()
    terminal.press("Enter")
    assert terminal.exit_status() == "0"
    return done


def test_keys_mode_in_a_real_terminal_runs_all_in_five_keys(
        terminal: Terminal, secret_service: SecretService) -> None:
    from keyring.backends.SecretService import Keyring

    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE
    from circleci_s3_wizard.wizard.secret_store import SERVICE, AccessKey, SecretStore

    real_keys = SecretStore(Keyring(), service=SERVICE)
    sandbox_keys = SecretStore(Keyring(), service=SANDBOX_SERVICE)
    real_before = real_keys.load_access_key("circleci_service")
    held: dict[str, object] = {}

    def while_running() -> None:
        held["sandbox"] = sandbox_keys.load_access_key("circleci_service")
        held["real"] = real_keys.load_access_key("circleci_service")

    terminal.start([wizard_command(), "--sandbox", "--bucket", BUCKET, "--create-bucket"])
    try:
        done = run_all(terminal, stays=("Access key",), on_done=while_running)
        after_quit = sandbox_keys.load_access_key("circleci_service")
    finally:
        secret_service.delete_items(SANDBOX_SERVICE)
    assert terminal.presses == 5, terminal.presses  # ctrl+a, y, the key's page, Verify, Done
    assert f"arn:aws:s3:::{BUCKET}" in flat(done)
    # The fake key went to the sandbox's own keyring entry, never to the real one, and went
    # with the sandbox when the wizard quit.
    key = held["sandbox"]
    assert isinstance(key, AccessKey) and held["real"] == real_before
    assert after_quit is None, "the sandbox's keyring entry outlived the sandbox"
    assert terminal.seen and all(key.secret_access_key not in pane for pane in terminal.seen)
    assert any(f"{'•' * 16}{key.secret_access_key[-4:]}" in pane for pane in terminal.seen)


def test_oidc_mode_in_a_real_terminal_with_a_circleci_uuid_slug(terminal: Terminal) -> None:
    org, project = str(uuid.uuid4()), str(uuid.uuid4())
    terminal.start([wizard_command(), "--sandbox", "--bucket", BUCKET, "--create-bucket",
                    "--auth", "oidc", "--circleci-project", f"circleci/{org}/{project}"])
    done = walk(terminal, OIDC_PAGES)  # step by step, as a newcomer reads it
    assert terminal.presses <= 10, terminal.presses
    assert "arn:aws:iam::123456789012:role/circleci-s3-wizard/circleci_s3_builds" in flat(done)
    assert any("AWS_ROLE_ARN" in pane for pane in terminal.seen)


def test_panes_run_the_same_inside_a_developers_tmux(monkeypatch, tmp_path):
    """Run from inside tmux, the outer session's variables never reach the test's own server
    or its panes (they made the inner tmux talk to the outer one, and the pane came out
    garbled); the test's server has its own socket."""
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,4242,0")
    monkeypatch.setenv("TMUX_PANE", "%7")
    env = pane_env(tmp_path / "home", "unix:path=/nonexistent")
    assert not [name for name in env if name.startswith("TMUX")]
    terminal = Terminal(env, tmp_path / "status")
    assert terminal.base[1:3] == ["-L", terminal.target]
