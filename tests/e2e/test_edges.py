"""The smaller edges of issue #14, each seen on main: odd digits, a token with a newline, the
wizard started without a terminal, and the state folder (umask, symlinks, read-only)."""

from __future__ import annotations

import os
import pty
import subprocess

import pytest

from circleci_s3_wizard.wizard.answers import BadAnswers, build_config
from tests.fixtures.wizard_runs import wizard_command

BUCKET = "acme-edges-builds"
TOKEN_PART = "cci-edges-token-0123456789"


# -- --session-duration and CIRCLE_TOKEN ---------------------------------------------------------


@pytest.mark.parametrize("seconds", ["٣٦٠٠", "３６００", "३६००", "36٠٠", "²"])
def test_a_session_duration_of_non_ascii_digits_is_bad_input(seconds):
    with pytest.raises(BadAnswers) as bad:
        build_config({"bucket": BUCKET, "auth": "oidc", "circleci_projects": ["gh/a/b"],
                      "session_duration": seconds}, environ={})
    assert bad.value.for_cli().startswith("--session-duration: must be a whole number of "
                                          "seconds")


def test_ascii_digits_are_still_seconds():
    built = build_config({"bucket": BUCKET, "auth": "oidc", "circleci_projects": ["gh/a/b"],
                          "session_duration": " 3600 "}, environ={})
    assert built.config.session_duration == 3600


@pytest.mark.parametrize("token", [f"{TOKEN_PART}\n", f"{TOKEN_PART} x", f" {TOKEN_PART}",
                                   f"{TOKEN_PART}\t", f"{TOKEN_PART}\r\n", f"{TOKEN_PART}\x00"])
def test_a_circle_token_with_spaces_or_a_newline_is_bad_input_never_shown(token):
    with pytest.raises(BadAnswers) as bad:
        build_config({"bucket": BUCKET}, environ={"CIRCLE_TOKEN": token})
    said = bad.value.for_cli()
    assert said.startswith("CIRCLE_TOKEN: must be the token alone"), said
    assert TOKEN_PART not in said


def test_a_clean_circle_token_passes():
    build_config({"bucket": BUCKET}, environ={"CIRCLE_TOKEN": TOKEN_PART})


@pytest.mark.parametrize("args", [("plan", "--bucket", BUCKET),
                                  ("apply", "--yes", "--bucket", BUCKET),
                                  ("--session-duration", "٣٦٠٠")])
def test_the_command_line_exits_2_naming_them(args, wizard_cli, faulty_aws):
    env = wizard_cli.env(CIRCLE_TOKEN=f"{TOKEN_PART}\n")
    if "--session-duration" in args:
        env = wizard_cli.env()
        args = ("plan", "--bucket", BUCKET, "--auth", "oidc", "--circleci-project", "gh/a/b",
                *args)
    run = wizard_cli.run(*args, env=env)
    assert run.code == 2, run.text
    assert ("CIRCLE_TOKEN: must be the token alone" in run.err
            or "--session-duration: must be a whole number" in run.err), run.err
    assert TOKEN_PART not in run.text and "Traceback" not in run.text
    assert faulty_aws.calls() == []


# -- the wizard without a terminal ---------------------------------------------------------------


def _start(stdin: int, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([*wizard_command(), "--bucket", BUCKET], stdin=stdin,
                          capture_output=True, env=env, timeout=60)


def test_the_wizard_into_a_pipe_says_how_to_run_headless(wizard_cli):
    done = _start(subprocess.DEVNULL, wizard_cli.env())
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "the interactive wizard needs a terminal, and stdin and stdout are not one" in err
    assert "circleci-s3-wizard plan --bucket BUCKET" in err
    assert b"\x1b" not in done.stdout + done.stderr, "no escape codes into a pipe"


def test_a_terminal_on_stdin_only_is_not_enough(wizard_cli):
    leader, follower = pty.openpty()
    try:
        done = _start(follower, wizard_cli.env())
    finally:
        os.close(follower)
        os.close(leader)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "and stdout is not one" in err
    assert b"\x1b" not in done.stdout
