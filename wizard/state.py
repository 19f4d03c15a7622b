"""Where the wizard keeps its own small state on this machine: locks and the running sandbox.

Never a secret: secrets live in the OS keyring only. The folder is the platform's per-user state
folder (``$XDG_STATE_HOME/circleci-s3-wizard`` on Linux, via platformdirs), created on first use
readable by its owner only.
"""

from __future__ import annotations

from pathlib import Path

APP = "circleci-s3-wizard"


def state_dir() -> Path:
    """The wizard's state folder, created (mode 700) if needed."""
    from platformdirs import user_state_path

    path = user_state_path(APP, appauthor=False)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
