"""The engine never imports Textual, and light commands never pay for boto3 or moto.

Checked in fresh interpreters, because this test process has long since imported everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE_MODULES = sorted(
    ".".join(p.relative_to(ROOT).with_suffix("").parts)
    for p in (ROOT / "wizard").rglob("*.py")
    if p.name != "__main__.py"
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_module_does_not_import_textual(module):
    loaded = _modules_after(f"import {module}")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_cli_start_up_imports_neither_boto3_nor_moto_nor_textual():
    loaded = _modules_after("import wizard.cli")
    for heavy in ("boto3", "botocore", "moto", "textual", "keyring"):
        assert heavy not in loaded, heavy


def test_policy_command_needs_no_aws_sdk():
    loaded = _modules_after(
        "import io, contextlib\nfrom wizard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['policy', '--bucket', 'b-1'])"
    )
    assert "boto3" not in loaded and "botocore" not in loaded
