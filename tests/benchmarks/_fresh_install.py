"""Install each benchmarked tool as a user gets it: its own fresh venv, bytecode compiled.

A program run from the development venv starts differently from one a user installed (editable
paths, bytecode written on first run or not at all), so the apply benchmark times installed
copies: the wizard from a wheel built here (``uv build --wheel``), each peer from PyPI, each in a
new ``uv venv`` with ``uv pip install --compile-bytecode``. Versions are pinned to ``uv.lock``
(through ``uv export`` as constraints), so every tool gets the same boto3 and botocore.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from _support import ROOT


def _uv(*args: str | Path) -> None:
    uv = shutil.which("uv")
    if uv is None:
        raise SystemExit("uv is needed to build the wheel and the venvs")
    done = subprocess.run([uv, *map(str, args)], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"uv {' '.join(map(str, args))} failed:\n{done.stderr}")


def locked_constraints(work: Path) -> Path:
    """``uv.lock``'s versions (every group) as a constraints file."""
    out = work / "constraints.txt"
    _uv("export", "--project", ROOT, "--format", "requirements-txt", "--no-hashes",
        "--no-emit-project", "--all-groups", "--quiet", "--output-file", out)
    return out


def wizard_wheel(work: Path) -> Path:
    """The wizard's wheel, built from the working tree."""
    out = work / "dist"
    _uv("build", "--wheel", "--quiet", "--out-dir", out, ROOT)
    [wheel] = out.glob("circleci_s3_wizard-*.whl")
    return wheel


def fresh_venv(path: Path, requirement: str | Path, constraints: Path) -> Path:
    """A new venv at ``path`` holding ``requirement``; returns its ``bin`` folder."""
    _uv("venv", "--quiet", "--python", sys.executable, path)
    _uv("pip", "install", "--quiet", "--python", path / "bin" / "python", "--compile-bytecode",
        "--constraints", constraints, requirement)
    return path / "bin"
