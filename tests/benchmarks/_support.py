"""Shared pieces of the benchmarks: a private keyring, a clean environment, timing a process.

Not collected by pytest (no ``test_`` names); run the ``bench_*.py`` scripts directly.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a script: make ``tests`` and ``wizard`` importable
    sys.path.insert(0, str(ROOT))


@contextmanager
def private_keyring() -> Iterator[Any]:
    """A GNOME Keyring on its own D-Bus session, exactly as the tests start it."""
    from tests.fixtures.keyring_service import start_secret_service

    root = Path(tempfile.mkdtemp(prefix="bench-keyring-"))
    service = start_secret_service(root / "svc")
    try:
        yield service
    finally:
        service.stop()
        shutil.rmtree(root, ignore_errors=True)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process: no real AWS config, a throwaway HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CIRCLE_"))}
    (home / ".aws").mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.pop("DISPLAY", None)
    env.update(extra)
    return env


def venv_tool(name: str) -> str:
    """A command installed next to this interpreter (the project's venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed; run with `uv run --group bench ...`")
    return found


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None,
          show_stdout: bool = True) -> tuple[float, str]:
    """Wall time of one process, and its stdout; a failure stops the benchmark loudly (without
    the stdout when it may hold a secret)."""
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        out = done.stdout if show_stdout else "(stdout not shown)"
        raise SystemExit(f"{argv} failed ({done.returncode}):\n{out}\n{done.stderr}")
    return elapsed, done.stdout


def summary(samples: list[float]) -> str:
    return f"{statistics.median(samples):7.3f} s (min {min(samples):.3f})"

