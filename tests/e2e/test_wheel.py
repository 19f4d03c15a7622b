"""The built wheel holds the engine, the screens and the assets, and runs from a clean virtualenv.

Built with ``uv build`` and installed with ``uv pip`` into a fresh venv outside the source tree,
so nothing can be imported from the working copy by accident. Needs PyPI (or uv's cache) for the
dependencies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("wizard", "screens", "assets")


def _uv() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; the wheel test builds and installs with uv", pytrace=False)
    return uv


def _run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _source_files(package: str) -> set[str]:
    """Every file of a package in the source tree, as wheel paths (no caches)."""
    base = ROOT / package
    return {
        path.relative_to(ROOT).as_posix()
        for path in base.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


@pytest.mark.slow
def test_wheel_contains_every_package_and_runs_from_a_clean_venv(tmp_path):
    uv = _uv()
    dist = tmp_path / "dist"
    _run([uv, "build", "--wheel", "-o", str(dist), str(ROOT)], cwd=tmp_path)
    wheels = list(dist.glob("circleci_s3_wizard-*.whl"))
    assert len(wheels) == 1, wheels

    names = set(zipfile.ZipFile(wheels[0]).namelist())
    for package in PACKAGES:
        shipped = {f"circleci_s3_wizard/{n}" for n in _source_files(package)
                   if not n.startswith("assets/screenshots/")}
        missing = shipped - names
        assert not missing, f"not in the wheel: {sorted(missing)}"
        assert f"circleci_s3_wizard/{package}/__init__.py" in names
    # One package in site-packages: nothing generic (no top-level wizard, screens or assets).
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"circleci_s3_wizard"}, tops
    assert not any("screenshots" in n for n in names)  # the README's, not the program's
    styles = {f"circleci_s3_wizard/{n}" for n in _source_files("assets") if n.endswith(".tcss")}
    assert styles and styles <= names
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "circleci-s3-wizard = circleci_s3_wizard.launch:run" in zipfile.ZipFile(
        wheels[0]).read(entry_points).decode()

    venv = tmp_path / "venv"
    _run([uv, "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    python = venv / "bin" / "python"
    _run([uv, "pip", "install", "--python", str(python), str(wheels[0])], cwd=tmp_path,
         timeout=600)
    command = venv / "bin" / "circleci-s3-wizard"
    assert command.exists()

    shown = _run([str(command), "--help"], cwd=tmp_path)
    assert "usage: circleci-s3-wizard" in shown.stdout
    for name in ("plan", "apply", "destroy", "policy", "credential-process"):
        assert name in shown.stdout

    printed = _run([str(command), "policy", "--bucket", "wheel-builds"], cwd=tmp_path)
    document = json.loads(printed.stdout)
    assert document["Statement"][1]["Resource"] == "arn:aws:s3:::wheel-builds/builds/*"

    # The installed packages are the ones in use (not the source tree), assets included.
    where = _run([str(python), "-c", "import json; from circleci_s3_wizard import wizard, "
                  "screens, assets; print(json.dumps([m.__file__ for m in "
                  "(wizard, screens, assets)]))"], cwd=tmp_path)
    for path in json.loads(where.stdout):
        assert Path(path).is_relative_to(venv), path
