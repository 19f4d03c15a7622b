"""The engine never imports Textual, and light commands never pay for boto3 or moto.

Checked in fresh interpreters, because this test process has long since imported everything.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "circleci_s3_wizard"
ENGINE_MODULES = sorted(
    ".".join((PACKAGE, *p.relative_to(ROOT).with_suffix("").parts))
    for p in (ROOT / "wizard").rglob("*.py")
    if p.name != "__main__.py"
)


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout
    return set(out.split())


def test_no_engine_module_imports_textual():
    loaded = _modules_after("\n".join(f"import {m}" for m in ENGINE_MODULES))
    assert {m.split(".")[0] for m in loaded} & {"textual"} == set()
    assert not [m for m in loaded if m.startswith(f"{PACKAGE}.screens")]


def test_cli_start_up_imports_neither_boto3_nor_moto_nor_textual():
    loaded = _modules_after(f"import {PACKAGE}.wizard.cli")
    for heavy in ("boto3", "botocore", "moto", "textual", "keyring"):
        assert heavy not in loaded, heavy


def test_policy_command_needs_no_aws_sdk():
    loaded = _modules_after(
        f"import io, contextlib\nfrom {PACKAGE}.wizard.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['policy', '--bucket', 'b-1'])"
    )
    assert "boto3" not in loaded and "botocore" not in loaded


def test_a_headless_apply_loads_only_what_it_uses(aws_endpoint, secret_store, tmp_path):
    """No UI, no sandbox, no CircleCI client when there is no CircleCI project."""
    import os

    listing = tmp_path / "modules.txt"
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: open({str(listing)!r}, 'w').write('\\n'.join(sys.modules)))\n"
        f"from {PACKAGE}.wizard.cli import main\n"
        "sys.exit(main(['apply', '--bucket', 'hygiene-builds', '--create-bucket', '--yes',"
        " '--json']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    loaded = {m.split(".")[0] for m in listing.read_text().split()}
    assert "boto3" in loaded and "keyring" in loaded  # it did the work
    assert loaded & {"textual", "rich", "moto", "httpx", "policy_sentry"} == set()


def test_everything_lives_under_one_namespaced_package():
    """Nothing generic in site-packages: the code imports itself relatively, so no top-level
    ``wizard``, ``screens`` or ``assets`` module is ever loaded (they could clash with other
    distributions of those names)."""
    modules = ENGINE_MODULES + sorted(
        ".".join((PACKAGE, *p.relative_to(ROOT).with_suffix("").parts))
        for p in (ROOT / "screens").rglob("*.py"))
    loaded = _modules_after("\n".join(f"import {m}" for m in modules))
    assert {m.split(".")[0] for m in loaded} & {"wizard", "screens", "assets"} == set()
    for path in [*(ROOT / "wizard").rglob("*.py"), *(ROOT / "screens").rglob("*.py")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import) (wizard|screens|assets)\b", text, re.M), path
