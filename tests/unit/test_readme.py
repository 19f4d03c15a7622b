"""The README's two commands stay true: CI runs its test command, and the sandbox command parses."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from circleci_s3_wizard.wizard.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def _fenced_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


def test_ci_runs_the_readmes_test_command():
    command = _fenced_after("## Run the tests")
    assert command == "uv run pytest"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_ci_runs_the_type_checker_and_the_contracts_before_the_tests():
    """The checks gate the tests (#17): each on a line of its own, under `set -e`, before pytest."""
    lines = [line.split("#")[0].strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "set -euo pipefail" in lines
    tests = lines.index("uv run pytest")
    for check in ("uv run mypy", "uv run lint-imports", "uv run ruff check ."):
        assert check in lines[:tests], f"{check} does not run before the tests"


SANDBOX_COMMAND = "uv run --no-dev --extra sandbox circleci-s3-wizard --sandbox"


def test_the_sandbox_command_is_the_contract():
    first_run = _fenced_after("## Try it").splitlines()
    assert first_run[0].startswith("git clone "), "the first run starts from the clone"
    assert first_run[-1] == SANDBOX_COMMAND
    args = build_parser().parse_args(SANDBOX_COMMAND.split()[6:])
    assert args.sandbox and args.command is None


def _closure(*flags: str) -> set[str]:
    """The packages `uv run <flags>` installs, from the committed lock (no network)."""
    done = subprocess.run(["uv", "export", "--frozen", "--no-hashes", "--no-emit-project",
                           "--no-header", *flags], cwd=ROOT, capture_output=True, text=True,
                          check=True)
    return {line.split("==")[0].strip() for line in done.stdout.splitlines()
            if "==" in line and not line.lstrip().startswith("#")}


# What moto[server] used to bring into the process that holds AWS secrets, and the test tools.
NOT_AT_RUNTIME = {"docker", "sympy", "networkx", "cfn-lint", "aws-xray-sdk", "graphql-core",
                  "pydantic", "openapi-spec-validator", "pytest", "hypothesis", "ruff",
                  "policy-sentry", "keyrings-alt", "openapi-core", "pytest-textual-snapshot"}


def test_trying_the_wizard_installs_no_test_tools_and_a_lean_sandbox():
    sandbox_run = _closure("--no-dev", "--extra", "sandbox")
    assert not sandbox_run & NOT_AT_RUNTIME, sorted(sandbox_run & NOT_AT_RUNTIME)
    assert {"moto", "flask", "flask-cors", "textual", "boto3", "keyring"} <= sandbox_run
    assert len(sandbox_run) <= 60, len(sandbox_run)


def test_a_real_run_carries_no_local_aws():
    real_run = _closure("--no-dev")
    assert not real_run & {"moto", "flask", "flask-cors", "werkzeug", "responses"}, real_run
    assert not real_run & NOT_AT_RUNTIME


def test_the_test_command_installs_the_test_tools_and_the_sandbox():
    tests = _closure()
    assert {"pytest", "moto", "flask", "hypothesis"} <= tests


def test_uv_run_does_not_recompile_the_environment_each_time() -> None:
    """`compile-bytecode` in [tool.uv] makes every `uv run` (the README's command) recompile all
    of site-packages (uv issue 12202): a second before the wizard starts, on every run."""
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "compile-bytecode" not in pyproject.get("tool", {}).get("uv", {})


def test_every_test_module_lives_in_the_folder_of_its_layer():
    """unit/, engine/, tui/, e2e/ (tests/conftest.py says what each holds); none at the top."""
    tests = ROOT / "tests"
    stray = sorted(p.name for p in tests.glob("test_*.py"))
    assert stray == [], f"put these in tests/unit, engine, tui or e2e: {stray}"
    folders = {p.parent.name for p in tests.rglob("test_*.py")} - {"benchmarks"}
    assert folders == {"unit", "engine", "tui", "e2e"}
