"""The ``circleci-s3-wizard`` command: the engine's command line, with the Textual wizard in it.

The one module that knows both rooms: the engine (``wizard/``) never imports the screens, so the
interactive wizard is handed to its command line from here, and imported only when it is asked
for (a headless command never loads Textual).
"""

from __future__ import annotations

from collections.abc import Sequence

from .wizard import cli
from .wizard.config import SetupConfig


def start_wizard(config: SetupConfig, *, sandbox: bool) -> int:
    """Run the Textual wizard, prefilled with ``config``, until the operator leaves it."""
    from .screens.app import run_tui

    return run_tui(config, sandbox=sandbox)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line as the console script runs it, without leaving the process."""
    return cli.main(argv, start_wizard=start_wizard)


def run() -> None:
    """The console script."""
    cli.run(start_wizard=start_wizard)
