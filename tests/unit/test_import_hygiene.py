"""The engine never imports Textual, and light commands never pay for boto3 or moto.

Checked in fresh interpreters, because this test process has long since imported everything.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "circleci_s3_wizard"


def _modules_of(folder: str) -> list[str]:
    """Every module of a folder, by the name it is imported under (a package by its own name:
    ``pkg.__init__`` would be a second copy of ``pkg``)."""
    names = set()
    for path in (ROOT / folder).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names.add(".".join((PACKAGE, *(parts[:-1] if parts[-1] == "__init__" else parts))))
    return sorted(names)


ENGINE_MODULES = _modules_of("wizard")


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


@pytest.mark.parametrize("folder", ["wizard", "screens", "assets"])
def test_a_folder_cannot_be_imported_as_a_second_copy(folder):
    """From the checkout's root ``import wizard`` would find the folder itself and load a second
    copy of every class; each folder refuses any name but the wheel's."""
    done = subprocess.run([sys.executable, "-c", f"import {folder}"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 1
    assert f"ImportError: import this folder as {PACKAGE}.{folder}, not as {folder}" in done.stderr


def test_the_engine_starts_the_wizard_only_when_handed_one(capsys):
    """The engine's command line has no UI of its own: without the launcher's wizard it says so
    (and never reaches for the screens)."""
    from circleci_s3_wizard.wizard.cli import main

    assert main([]) == 1
    assert "no interactive wizard" in capsys.readouterr().err


def test_the_import_graph_has_no_circle():
    """No module of the package imports itself through others: every import made when the code
    runs (inside functions too) is an edge; imports only for the type checker never run."""
    import grimp

    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=True, cache_dir=None)
    circles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                circles.append(" -> ".join((importer, *back)))
    assert circles == []
