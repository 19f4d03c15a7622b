"""The README's two commands stay true: CI runs its test command, and the sandbox command parses."""

from __future__ import annotations

import re
from pathlib import Path

from circleci_s3_wizard.wizard.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _fenced_after(heading: str) -> str:
    section = README.split(heading, 1)[1]
    return re.search(r"```sh\n(.+?)\n```", section, re.S).group(1).strip()


def test_ci_runs_the_readmes_test_command():
    command = _fenced_after("## Run the tests")
    assert command == "uv run pytest"
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert command in ci_lines


def test_the_sandbox_command_is_the_contract():
    command = _fenced_after("## Try it")
    assert command == "uv run circleci-s3-wizard --sandbox"
    args = build_parser().parse_args(command.split()[3:])
    assert args.sandbox and args.command is None
