"""The installed ``circleci-s3-wizard --sandbox`` in a real terminal (tmux), walked with keystrokes.

Everything is real: the console script in its own process, a 100x32 tmux pane, the embedded
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
STEP_TIMEOUT = 20.0
#: (title in the step list heading, number on the heading) of each page that runs a step.
STEP_PAGES = [("S3 bucket", 1), ("Builds folder", 2), ("IAM group", 3), ("Policy", 4),
              ("Attach policy", 5), ("IAM user", 6), ("Access key", 7), ("CircleCI", 8)]

pytestmark = pytest.mark.slow


def wizard_command() -> str:
    """The console script of this interpreter's environment (the one under test)."""
    local = Path(sys.executable).parent / "circleci-s3-wizard"
    found = str(local) if local.exists() else shutil.which("circleci-s3-wizard")
    assert found, "circleci-s3-wizard is not installed in this environment (uv sync)"
    return found


class Terminal:
    """One tmux session on a private server socket, so no other tmux session is touched."""

    def __init__(self, env: dict[str, str], status_file: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.fail("tmux is not installed: apt-get install -y tmux", pytrace=False)
        name = f"wizard-test-{uuid.uuid4().hex[:8]}"
        self.base = [tmux, "-L", name, "-f", "/dev/null"]
        self.target = name
        self.env = env
        self.status_file = status_file
        #: Every pane captured, to prove afterwards that none held the secret.
        self.seen: list[str] = []

    def tmux(self, *args: str) -> str:
        done = subprocess.run([*self.base, *args], env=self.env, capture_output=True, text=True,
                              timeout=10, check=True)
        return done.stdout

    def start(self, argv: list[str], width: int = 100, height: int = 32) -> None:
        """Run ``argv`` in the pane; a shell around it writes its exit status to a file.

        (tmux's own ``pane_dead_status`` is not reliable: now and then tmux 3.3 leaves the
        exited program unreaped.)
        """
        wrapper = f'"$@"; echo $? > {shlex.quote(str(self.status_file))}'
        self.tmux("new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height),
                  "sh", "-c", wrapper, "sh", *argv)

    def capture(self) -> str:
        text = self.tmux("capture-pane", "-p", "-t", self.target)
        self.seen.append(text)
        return text

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", self.target, *keys)

    def wait_for(self, what: str, found: Callable[[str], bool],
                 timeout: float = STEP_TIMEOUT) -> str:
        """Poll the pane until ``found(text)``; fail with the pane as it was."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.capture()
            if found(text):
                return text
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}; "
                                     f"the pane shows:\n{text}")
            time.sleep(0.1)

    def wait_text(self, *needles: str, timeout: float = STEP_TIMEOUT) -> str:
        return self.wait_for(" and ".join(repr(n) for n in needles),
                             lambda text: all(n in text for n in needles), timeout)

    def exit_status(self, timeout: float = STEP_TIMEOUT) -> str:
        """Wait for the program to exit (its pane then closes); its exit status."""
        deadline = time.monotonic() + timeout
        while not self.status_file.exists() or not self.status_file.read_text().strip():
            if time.monotonic() > deadline:
                raise AssertionError(f"the wizard did not exit within {timeout:.0f} s")
            time.sleep(0.1)
        return self.status_file.read_text().strip()

    def kill(self) -> None:
        subprocess.run([*self.base, "kill-server"], env=self.env, capture_output=True,
                       timeout=10, check=False)


def panel_text(pane: str) -> str:
    """The text inside the page's bordered panels with all whitespace removed.

    Long ARNs wrap inside a panel; without spaces the wrapped halves join up again.
    """
    inner = [line.split("│", 1)[1].rsplit("│", 1)[0] for line in pane.splitlines()
             if line.count("│") >= 2]
    return re.sub(r"\s+", "", "".join(inner))


@pytest.fixture
def terminal(secret_service: SecretService, tmp_path: Path) -> Iterator[Terminal]:
    """A tmux server whose panes see the test keyring's bus and a throwaway HOME."""
    home = tmp_path / "home"
    (home / ".config").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "CIRCLE_", "TMUX", "PYTHON_KEYRING"))
           and k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_CACHE_HOME=str(home / ".cache"),
        DBUS_SESSION_BUS_ADDRESS=secret_service.address,
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    term = Terminal(env, tmp_path / "exit-status")
    try:
        yield term
    finally:
        term.kill()


def test_walk_the_sandbox_to_the_end_in_tmux(terminal: Terminal,
                                             secret_service: SecretService) -> None:
    from keyring.backends.SecretService import Keyring

    from wizard.headless import SANDBOX_SERVICE
    from wizard.secret_store import SERVICE, SecretStore

    real_keys = SecretStore(Keyring(), service=SERVICE)
    real_before = real_keys.load_access_key("circleci_service")
    terminal.start([wizard_command(), "--sandbox", "--bucket", BUCKET, "--create-bucket"])
    try:
        welcome = terminal.wait_text("Welcome", "SANDBOX", "Press Enter to start.")
        assert "123456789012" in welcome
        terminal.keys("Enter")

        for title, number in STEP_PAGES:
            here = f"▶ {title}"  # the step list marks the current page (always in view)
            terminal.wait_text(here, f"Step {number} of 9 · {title}")
            terminal.keys("Enter")  # runs the step (after its check, if still checking)
            pane = terminal.wait_text(here, "Press Enter to continue.")
            assert "✗" not in pane, pane
            if title == "Access key":
                assert "•" * 16 in pane and "in your OS keyring" in pane, pane
            terminal.keys("Enter")

        report = terminal.wait_for(
            "the verification report",
            lambda text: "▶ Verify" in text
            and re.search(r"\d+passed,\d+failed", panel_text(text)) is not None)
        assert re.search(r"\d+passed,0failed", panel_text(report)), report
        terminal.keys("Enter")

        done = terminal.wait_text("▶ Done", "What the setup consists of", "SANDBOX")
        flat = panel_text(done)
        assert f"arn:aws:s3:::{BUCKET}" in flat
        assert "arn:aws:iam::123456789012:policy/circleci-s3-wizard/" \
            "s3_full_access_devops_builds" in flat
        assert "arn:aws:iam::123456789012:user/circleci-s3-wizard/circleci_service" in flat

        terminal.keys("Enter")  # Finish
        assert terminal.exit_status() == "0"
    finally:
        sandbox_keys = SecretStore(Keyring(), service=SANDBOX_SERVICE)
        key = sandbox_keys.load_access_key("circleci_service")
        real_after = real_keys.load_access_key("circleci_service")
        secret_service.delete_items(SANDBOX_SERVICE)

    # The fake key went to the sandbox's own keyring entry, never to the real one.
    assert key is not None and key.access_key_id.startswith("AKIA")
    assert real_after == real_before
    # The secret was in the keyring, and never on screen.
    assert terminal.seen and all(key.secret_access_key not in pane for pane in terminal.seen)
    assert any(f"{'•' * 16}{key.secret_access_key[-4:]}" in pane for pane in terminal.seen)
    assert any(key.access_key_id in pane for pane in terminal.seen)
