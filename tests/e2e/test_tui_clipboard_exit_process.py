"""A real wizard process, in a real terminal (tmux), ended every way but a quit: the secret it
copied is gone from the X clipboard afterwards, and so is the xclip process that served it.

The process is ``tests/e2e/clipboard_exit_driver.py`` (the app from ``make_app`` on a sandbox,
which copies the access key's secret once). Walking the installed console script to the same
page with keystrokes and pressing ctrl+c proved nothing more (the terminal's SIGINT reaches
xclip too, which then dies by itself) and took a minute and a half on a busy machine, so the
signal cases send their signal to the wizard alone, here. The secret is read from the real keyring
(GNOME Keyring on a private bus) and compared with the clipboard by digest only.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_tui_tmux import Terminal, flat, pane_env
from tests.fixtures.clipboard_support import alive, eventually, holds, xclip_servers
from tests.fixtures.keyring_service import SecretService

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
USER = "circleci_service"


@pytest.fixture
def terminal(secret_service: SecretService, x_display: str, tmp_path: Path
             ) -> Iterator[Terminal]:
    """A tmux server whose panes see the test keyring, the test X display and a fresh HOME."""
    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE

    env = pane_env(tmp_path / "home", secret_service.address, DISPLAY=x_display,
                   PYTHONPATH=str(ROOT))
    term = Terminal(env, tmp_path / "exit-status")
    try:
        yield term
    finally:
        term.kill()
        secret_service.delete_items(SANDBOX_SERVICE)


def sandbox_secret() -> str:
    """The secret the wizard stored for the sandbox's user, from the real keyring."""
    from keyring.backends.SecretService import Keyring

    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE
    from circleci_s3_wizard.wizard.secret_store import SecretStore

    key = SecretStore(Keyring(), service=SANDBOX_SERVICE).load_access_key(USER)
    assert key is not None, "the wizard did not store the key"
    return key.secret_access_key


def secret_copied(terminal: Terminal, display: str) -> tuple[str, int]:
    """Once the page says the secret was copied: the secret and the xclip process serving it."""
    terminal.wait_for("the copy note", lambda pane: "copiedoncewithxclip" in flat(pane),
                      timeout=90)
    secret = sandbox_secret()
    on_clipboard = eventually(lambda: holds(secret, display))
    assert on_clipboard, "the copied secret is not on the X clipboard"
    assert eventually(lambda: len(xclip_servers(display)) == 1)
    return secret, xclip_servers(display)[0]


def start(terminal: Terminal, argv: list[str]) -> None:
    """Run ``argv`` in the pane as the one command of a shell that then stays, as a login
    shell would: an xclip left behind by the wizard is not hung up on when the wizard ends.

    The shell writes the exit status to a file and ignores ctrl+c's SIGINT, which the terminal
    sends to its whole foreground group (an interactive shell would run the wizard as a job).
    """
    status = shlex.quote(str(terminal.status_file))
    wrapper = f'trap true INT; "$@"; echo $? > {status}; exec sleep 600'
    terminal.tmux("new-session", "-d", "-s", terminal.target, "-x", "100", "-y", "32",
                  "sh", "-c", wrapper, "sh", *argv)


def start_driver(terminal: Terminal, tmp_path: Path, *options: str) -> int:
    """Start the driver in the pane; its process id."""
    pidfile = tmp_path / "circleci_s3_wizard.wizard.pid"
    start(terminal, [sys.executable, "-m", "tests.e2e.clipboard_exit_driver", str(pidfile),
                     *options])
    assert eventually(lambda: pidfile.exists() and pidfile.read_text().strip() != "", 60)
    return int(pidfile.read_text())


def assert_nothing_left(terminal: Terminal, secret: str, server: int, display: str) -> None:
    still_there = holds(secret, display)
    assert not still_there, "the secret outlived the wizard on the clipboard"
    assert eventually(lambda: not alive(server)), "the xclip that served the secret still runs"
    assert eventually(lambda: xclip_servers(display) == []), "an xclip server was left behind"
    shown = any(secret in pane for pane in terminal.seen)
    assert not shown, "the secret appeared in the terminal"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_an_exit_signal(terminal: Terminal, x_display: str, tmp_path: Path, signum: int
                        ) -> None:
    """``kill`` (SIGTERM), a hang-up (SIGHUP: terminal closed, SSH dropped), ``kill -INT``."""
    pid = start_driver(terminal, tmp_path)
    secret, server = secret_copied(terminal, x_display)
    os.kill(pid, signum)
    assert terminal.exit_status() == str(128 + signum)
    assert_nothing_left(terminal, secret, server, x_display)


def test_closing_the_terminal(terminal: Terminal, x_display: str, tmp_path: Path) -> None:
    """A real hang-up: the wizard must still end (its orderly exit writes to a terminal that
    is gone), and nothing may be left on the clipboard."""
    pid = start_driver(terminal, tmp_path)
    secret, server = secret_copied(terminal, x_display)
    terminal.kill()  # the tmux server closes the pane's terminal
    assert eventually(lambda: not alive(pid), 20), "the wizard outlived its terminal"
    assert_nothing_left(terminal, secret, server, x_display)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_an_exit_stuck_behind_a_dead_terminal_still_ends(terminal: Terminal, x_display: str,
                                                          tmp_path: Path, signum: int) -> None:
    """After a hang-up or SIGTERM nobody sends a second signal: if the orderly exit sticks
    (Textual's output thread dead behind a terminal that hung up, here made to stick for good),
    the wizard still ends, with the signal's status, and the clipboard is clear."""
    from circleci_s3_wizard.screens.clipboard_exit import FORCE_AFTER_SECONDS

    pid = start_driver(terminal, tmp_path, "--stuck-output")
    secret, server = secret_copied(terminal, x_display)
    os.kill(pid, signum)
    assert eventually(lambda: not alive(pid), FORCE_AFTER_SECONDS + 10), "the wizard hung"
    assert terminal.exit_status() == str(128 + signum)
    assert_nothing_left(terminal, secret, server, x_display)


def test_a_crash(terminal: Terminal, x_display: str, tmp_path: Path) -> None:
    """An unhandled exception in a handler ends the app through Textual's crash path."""
    pid = start_driver(terminal, tmp_path)
    secret, server = secret_copied(terminal, x_display)
    os.kill(pid, signal.SIGUSR1)  # the driver's handler raises, as a bug would
    assert terminal.exit_status() == "1"
    terminal.wait_text("RuntimeError", "a bug in a handler")  # the crash report, in the pane
    assert_nothing_left(terminal, secret, server, x_display)

