"""What the command line promises when things go wrong, end to end (issue 7, items 4, 5, 6, 9).

Each test runs the wizard as a subprocess against moto behind the fault proxy, with the real
GNOME Keyring and, where delivery matters, the CircleCI stand-in, and reads the outcome back
without the wizard's code (:mod:`tests.fixtures.wizard_runs`):

* the hand-over: a secret the keyring refuses, whose key AWS will not let the wizard delete, is
  printed once, on stderr (or only in ``--json``'s ``secret_handoff``), with what to do, exit 1;
* staged rotation: a rejected CircleCI token creates nothing; failing delivery or a failing probe
  roll back to the old key, still the only one, held by the keyring and CircleCI, and say so;
* Block Public Access that failed on a fresh bucket is reported by plan and verify, then repaired;
* input from the environment: URLs with credentials are never echoed, malformed ones are bad
  input naming the variable, a CircleCI host answering a web page is a sentence, a closed pipe
  ends ``plan`` silently, and ``verify`` turns AWS errors into "unproven"/"failed" but never
  swallows a bug.
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.fault_table import Row
from tests.fixtures.keyring_service import start_secret_service
from tests.fixtures.wizard_runs import (
    APPLY,
    BUCKET,
    PROJECT,
    ROTATE,
    USER,
    WizardCLI,
    check_output,
    describe,
    finish,
    read_world,
    secrets_in,
    set_up,
    wizard_command,
)

pytestmark = pytest.mark.slow

URL_SECRET = "pa55-in-the-url"


# --- 4. the hand-over ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["text", "json"])
def test_a_secret_the_keyring_refuses_is_handed_over_once(mode, wizard_cli: WizardCLI,
                                                          faulty_aws, tmp_path, fault_table):
    """The keyring works when the plan checks it, then locks while CreateAccessKey's answer is
    on its way (a screen saver, a timeout); AWS refuses to delete the key again. The secret then
    exists in one place only: the operator's terminal."""
    private = start_secret_service(tmp_path / "keyring")
    try:
        faulty_aws.fail("iam:CreateAccessKey", "late", delay=60)
        faulty_aws.fail("iam:DeleteAccessKey", "refuse", times=None)
        args = (*APPLY, "--json") if mode == "json" else APPLY
        process = wizard_cli.start(*args, env=wizard_cli.env(
            DBUS_SESSION_BUS_ADDRESS=private.address))
        try:
            faulty_aws.wait_for("iam:CreateAccessKey", timeout=30)
            private.lock()
        finally:
            faulty_aws.release_late()
        run = finish(process)
    finally:
        private.stop()

    world = read_world(faulty_aws)
    [key] = world.keys  # AWS kept it: the wizard could neither store nor delete it
    assert world.keyring is None
    assert run.code == 1, run.text
    assert "Traceback" not in run.text
    if mode == "text":
        assert run.out.count(key.secret) == 0, "the secret must never reach stdout"
        assert run.err.count(key.secret) == 1
        assert f"AWS_ACCESS_KEY_ID      {key.key_id}" in run.err
        assert "This is the only time the secret is shown" in run.err
        assert "Store this secret somewhere safe now" in run.err
        assert "The secret is in your OS keyring" not in run.text, "a false promise"
    else:
        assert key.secret not in run.err
        assert run.out.count(key.secret) == 1
        answer = run.json()
        assert answer["ok"] is False
        handoff = answer["secret_handoff"]
        assert (handoff["access_key_id"], handoff["secret_access_key"]) == (key.key_id,
                                                                            key.secret)
        assert "Store this secret somewhere safe now" in handoff["instruction"]
        assert "keyring" in handoff["reason"]
        steps = {s["key"]: s for s in answer["steps"]}
        assert steps["access_key"]["action"] == "failed"
        assert not any("in your OS keyring" in n["text"] for n in answer["next_steps"])

    # The instruction's own command, once the keyring works again, replaces the handed-over key
    # with one the keyring holds (on a terminal it would ask first; here --yes answers).
    faulty_aws.clear_rules()
    instruction = (run.json()["secret_handoff"]["instruction"] if mode == "json" else run.err)
    command = instruction.split("`circleci-s3-wizard ", 1)[1].split("`", 1)[0].split()
    assert command == ["rotate", "--user", USER]
    again = wizard_cli.run(*command, "--yes")
    after = read_world(faulty_aws)
    check_output(again, after, key.secret)
    assert again.code == 0, again.text
    assert after.key_problems(whole=True) == []
    assert key.key_id not in {k.key_id for k in after.keys}
    fault_table.add(Row(
        order=(2, int(mode == "json")), command=f"apply ({mode})",
        call="iam:CreateAccessKey, then iam:DeleteAccessKey",
        fault="keyring locked meanwhile; delete refused", exit=str(run.code),
        after="the key, handed over once on " + ("stdout's secret_handoff" if mode == "json"
                                                 else "stderr") + ", held by nobody else",
        rerun="exit 0 (the instruction's `rotate --user`)",
        after_rerun=describe(after, "apply"),
        orphans=f"{len(world.orphans)} (its secret handed to the operator) / "
        f"{len(after.orphans)}"))


# --- 5. staged rotation -----------------------------------------------------------------------


@pytest.fixture
def delivered(wizard_cli: WizardCLI, faulty_aws, circleci_standin) -> Any:
    """A whole setup whose key the keyring and CircleCI hold; the CLI pointed at the stand-in."""
    circleci_standin.add_project(PROJECT)
    wizard_cli.extra_env.update(CIRCLE_TOKEN=circleci_standin.token,
                                CIRCLE_HOST=circleci_standin.url)
    set_up(circleci_standin)
    faulty_aws.clear_log()
    return circleci_standin


def test_rotate_with_a_rejected_token_creates_nothing(wizard_cli, faulty_aws, delivered,
                                                     fault_table):
    before = read_world(faulty_aws, delivered)
    run = wizard_cli.run(*ROTATE, env=wizard_cli.env(CIRCLE_TOKEN="cci-test-rejected-token"))

    assert run.code == 1, run.text
    assert "rejected the API token" in run.err
    assert "cci-test-rejected-token" not in run.text
    assert faulty_aws.mutating() == [], "nothing may change before every destination is checked"
    after = read_world(faulty_aws, delivered)
    check_output(run, after)
    assert after == before
    fault_table.add(Row(order=(3, 0), command="rotate", call="CircleCI GET /project (check)",
                        fault="token rejected (401)", exit=str(run.code),
                        after=describe(after, "rotate") + "; nothing created", rerun="-",
                        after_rerun="-", orphans=str(len(after.orphans))))


@dataclass(frozen=True)
class Rollback:
    fault: tuple[str, dict[str, Any]]  #: ("circleci", fail_next kwargs) or ("aws", fail kwargs)
    stage: str  #: the stage the message names
    circleci_after: str  #: "old": CircleCI holds the old key; "broken": it could not be restored


ROLLBACKS = {
    # CircleCI fails every attempt (three) of the first write, then takes the old key back.
    "delivery failing": Rollback(("circleci", {"status": 500, "times": 3}),
                                 "delivering it to CircleCI", "old"),
    # CircleCI refuses every write: nothing was replaced, and the wizard checks that it is so.
    "delivery refused": Rollback(("circleci", {"status": 403, "times": 50}),
                                 "delivering it to CircleCI", "old"),
    # The new key's id is written, its secret refused, and so is putting the old id back:
    # CircleCI is left with neither key, and the message must say so, not "in CircleCI".
    "delivery half done": Rollback(("circleci", {"status": 403, "times": 2, "after": 1}),
                                   "delivering it to CircleCI", "broken"),
    # AWS refuses every call signed with the new key (AWS makes AKIA... ids; the operator signs
    # with "testing").
    "probe failing": Rollback(("aws", {"operation": "sts:GetCallerIdentity", "fault": "refuse",
                                       "times": None, "key_id": "AKIA*"}),
                              "proving it works", "old"),
}


@pytest.mark.parametrize("what", ROLLBACKS)
def test_rotate_rolls_back_to_the_old_key_and_says_where_it_is(what, wizard_cli, faulty_aws,
                                                               delivered, fault_table):
    case = ROLLBACKS[what]
    before = read_world(faulty_aws, delivered)
    [old] = before.active
    where, fault = case.fault
    if where == "circleci":
        delivered.fail_next(method="POST", **fault)
    else:
        faulty_aws.fail(**fault)

    run = wizard_cli.run(*ROTATE)

    after = read_world(faulty_aws, delivered)
    check_output(run, after, *secrets_in(before))
    assert run.code == 1, run.text
    assert faulty_aws.count("iam:CreateAccessKey") == 1, "the new key was made, then undone"
    assert "Rolled back: deleted the new key" in run.err
    assert f"Failed while {case.stage}" in run.err
    assert after.key_problems(whole=True) == [] and after.active == [old]
    assert after.keyring == before.keyring
    row = {"order": (3, 1 + list(ROLLBACKS).index(what)), "command": "rotate",
           "call": "CircleCI POST envvar" if where == "circleci" else "sts:GetCallerIdentity "
           "(the probe, signed with the new key)", "fault": what, "exit": str(run.code),
           "after": describe(after, "rotate") + ", rolled back", "rerun": "-",
           "after_rerun": "-", "orphans": str(len(after.orphans))}
    if case.circleci_after == "old":
        assert after.circleci == before.circleci
        assert f"The old key {old} is still the only active one, in your keyring and in " \
            "CircleCI." in run.err
        fault_table.add(Row(**row))
        return
    assert after.circleci != before.circleci
    assert f"The old key {old} is still the only active one, in your keyring, but CircleCI " \
        f"(project {PROJECT}) does NOT hold it" in run.err
    assert "and in CircleCI" not in run.err
    again = wizard_cli.run("apply", "--yes", "--bucket", BUCKET, "--circleci-project", PROJECT)
    assert again.code == 0, again.text
    restored = read_world(faulty_aws, delivered)
    assert restored.problems(circleci=True) == []
    row.update(after="1 active key, held by the keyring; CircleCI not (the message says so)",
               rerun="exit 0 (`apply --yes`, as the message says)",
               after_rerun=describe(restored, "rotate"),
               orphans=f"{len(after.orphans)} / {len(restored.orphans)}")
    fault_table.add(Row(**row))


DELIVERY_FAULTS = {
    "delivery failing": {"status": 500, "times": 3},
    "delivery refused": {"status": 403, "times": 1},  # a 403 is not retried: the run stops
    "delivery half done": {"status": 403, "times": 1, "after": 1},
}


@pytest.mark.parametrize("what", DELIVERY_FAULTS)
def test_apply_whose_delivery_fails_keeps_the_key_in_the_keyring_and_delivers_on_a_rerun(
        what, wizard_cli, faulty_aws, circleci_standin, fault_table):
    circleci_standin.add_project(PROJECT)
    wizard_cli.extra_env.update(CIRCLE_TOKEN=circleci_standin.token,
                                CIRCLE_HOST=circleci_standin.url)
    circleci_standin.fail_next(method="POST", **DELIVERY_FAULTS[what])
    args = (*APPLY, "--circleci-project", PROJECT)

    run = wizard_cli.run(*args)

    world = read_world(faulty_aws, circleci_standin)
    check_output(run, world)
    assert run.code == 1, run.text
    assert "CircleCI failed:" in run.err
    assert world.missing() == [] and world.key_problems(whole=True) == []
    assert world.circleci is None or world.circleci != world.keyring
    rerun = wizard_cli.run(*args)
    after = read_world(faulty_aws, circleci_standin)
    check_output(rerun, after, *secrets_in(world))
    assert rerun.code == 0, rerun.text
    assert after.problems(circleci=True) == []
    assert after.active == world.active, "the re-run delivers the same key, it makes no other"
    fault_table.add(Row(
        order=(3, 10 + list(DELIVERY_FAULTS).index(what)), command="apply (with CircleCI)",
        call="CircleCI POST envvar", fault=what, exit=str(run.code),
        after=describe(world, "apply") + "; CircleCI does not hold it yet", rerun="exit 0",
        after_rerun=describe(after, "rotate"), orphans=f"{len(world.orphans)} / "
        f"{len(after.orphans)}"))


# --- 6. Block Public Access -------------------------------------------------------------------


def test_block_public_access_that_failed_on_a_fresh_bucket_is_reported_then_repaired(
        wizard_cli, faulty_aws, fault_table):
    faulty_aws.fail("s3:PutPublicAccessBlock", "refuse", times=None)
    first = wizard_cli.run(*APPLY)
    assert first.code == 1, first.text
    assert "[AccessDenied]" in first.err
    failed = read_world(faulty_aws)
    assert failed.block is None and failed.key_problems() == []
    faulty_aws.clear_rules()

    plan = wizard_cli.run("plan", "--json", "--bucket", BUCKET)  # even without --create-bucket
    assert plan.code == 0, plan.text
    bucket = next(s for s in plan.json()["steps"] if s["key"] == "bucket")
    assert bucket["action"] == "repair", bucket
    assert bucket["differences"] == ["Block Public Access is not fully on"]
    verify = wizard_cli.run("verify", "--json", "--bucket", BUCKET)
    assert verify.code == 1, verify.text
    checks = {c["name"]: c for c in verify.json()["checks"]}
    assert checks["Block Public Access on the bucket"]["outcome"] == "fail"

    again = wizard_cli.run(*APPLY)
    assert again.code == 0, again.text
    assert "Turned Block Public Access fully on" in again.out
    world = read_world(faulty_aws)
    assert world.problems() == []
    verify = wizard_cli.run("verify", "--json", "--bucket", BUCKET)
    checks = {c["name"]: c for c in verify.json()["checks"]}
    assert checks["Block Public Access on the bucket"]["outcome"] == "pass"
    assert verify.code == 0, verify.text
    fault_table.add(Row(order=(4, 0), command="apply, then plan and verify",
                        call="s3:PutPublicAccessBlock", fault="refused", exit=str(first.code),
                        after="plan: bucket `repair`; verify: Block Public Access `fail`",
                        rerun="exit 0", after_rerun=describe(world, "apply") + "; verify passes",
                        orphans=f"{len(failed.orphans)} / {len(world.orphans)}"))


# --- 9. input from the environment ------------------------------------------------------------


def test_credentials_in_aws_endpoint_url_are_never_echoed(wizard_cli, faulty_aws):
    """Nothing listens on port 1: the message names the endpoint, without its user info."""
    run = wizard_cli.run("plan", "--bucket", BUCKET, env=wizard_cli.env(
        AWS_ENDPOINT_URL=f"http://operator:{URL_SECRET}@127.0.0.1:1"))

    assert run.code == 1, run.text
    assert "Could not reach http://127.0.0.1:1" in run.err
    assert URL_SECRET not in run.text and "operator:" not in run.text
    assert "Traceback" not in run.text


@pytest.mark.parametrize("failure", ["unreachable", "server error"])
def test_credentials_in_circle_host_are_never_echoed(failure, wizard_cli, faulty_aws,
                                                     circleci_standin):
    circleci_standin.add_project(PROJECT)
    if failure == "unreachable":
        host, shown = f"http://operator:{URL_SECRET}@127.0.0.1:1", "http://127.0.0.1:1"
    else:
        circleci_standin.fail_next(500, times=10)
        host = circleci_standin.url.replace("http://", f"http://operator:{URL_SECRET}@")
        shown = circleci_standin.url
    run = wizard_cli.run("plan", "--bucket", BUCKET, "--create-bucket", "--circleci-project",
                         PROJECT, env=wizard_cli.env(CIRCLE_TOKEN=circleci_standin.token,
                                                     CIRCLE_HOST=host))

    assert run.code == 1, run.text
    assert f"CircleCI at {shown}" in run.out
    assert URL_SECRET not in run.text and "operator:" not in run.text
    assert circleci_standin.token not in run.text
    assert "Traceback" not in run.text


@pytest.mark.parametrize(("variable", "value"), [
    ("AWS_ENDPOINT_URL", "127.0.0.1:4566"),
    ("AWS_ENDPOINT_URL", "http://127.0.0.1:not-a-port"),
    ("AWS_ENDPOINT_URL", "http://[::1"),
    ("CIRCLE_HOST", "circleci.example.com"),
    ("CIRCLE_HOST", "https://"),
])
def test_a_malformed_endpoint_variable_is_bad_input_naming_it(variable, value, wizard_cli,
                                                              faulty_aws):
    for args in (("plan", "--bucket", BUCKET), ("apply", "--yes", "--bucket", BUCKET)):
        run = wizard_cli.run(*args, env=wizard_cli.env(**{variable: value}))
        assert run.code == 2, run.text
        assert run.err.startswith(f"circleci-s3-wizard: error: {variable}: "), run.err
        assert "Unexpected error" not in run.err and "Traceback" not in run.err
    assert faulty_aws.calls() == [], "bad input is refused before AWS is asked anything"


@pytest.fixture
def web_page_host() -> Iterator[str]:
    """A host that answers every request with a login page, as a proxy or a typo would."""
    from werkzeug.serving import make_server

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = b"<!doctype html><html><body><form>Sign in</form></body></html>"
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_a_circleci_host_answering_a_web_page_is_a_sentence(wizard_cli, faulty_aws,
                                                            web_page_host):
    env = wizard_cli.env(CIRCLE_TOKEN="cci-test-token-for-a-web-page", CIRCLE_HOST=web_page_host)
    for args in (("plan",), ("apply", "--yes")):
        run = wizard_cli.run(*args, "--bucket", BUCKET, "--create-bucket", "--circleci-project",
                             PROJECT, env=env)
        assert run.code == 1, run.text
        assert "with something that is not CircleCI's API (text/html)" in run.text
        assert "Check CIRCLE_HOST" in run.text
        assert "Unexpected error" not in run.text and "Traceback" not in run.text
        assert "cci-test-token-for-a-web-page" not in run.text
    assert faulty_aws.mutating() == [], "a blocked plan changes nothing"


@pytest.mark.parametrize("reader", ["head -1", "head -c 0"])
def test_plan_into_a_pipe_whose_reader_left_ends_silently(reader, wizard_cli, faulty_aws,
                                                          tmp_path: Path):
    """A real shell pipe: ``head -1`` leaves after one line, ``head -c 0`` before the first."""
    err = tmp_path / "stderr"
    command = " ".join([*wizard_command(), "plan", "--bucket", BUCKET, "--create-bucket"])
    shell = f"{command} 2>{err} | {reader}; echo \"exit=${{PIPESTATUS[0]}}\""
    done = subprocess.run(["bash", "-c", shell], env=wizard_cli.env(), capture_output=True,
                          text=True, timeout=60)

    lines = done.stdout.splitlines()
    first = [] if reader == "head -c 0" else [f"Plan for s3://{BUCKET}/builds/ (keys mode)"]
    assert lines == [*first, lines[-1]], done.stdout
    said = err.read_text()
    assert said == "", said  # no BrokenPipeError, no "Exception ignored", nothing
    assert lines[-1] in ("exit=0", "exit=1"), lines[-1]


SIMULATION_WITHOUT_DECISIONS = (
    '<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">'
    "<SimulatePrincipalPolicyResult><EvaluationResults><member>"
    "<EvalActionName>s3:ListBucket</EvalActionName><EvalResourceName>*</EvalResourceName>"
    "</member></EvaluationResults><IsTruncated>false</IsTruncated>"
    "</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>r</RequestId>"
    "</ResponseMetadata></SimulatePrincipalPolicyResponse>")


def test_verify_turns_aws_errors_into_unproven_or_failed(wizard_cli, faulty_aws):
    set_up()
    faulty_aws.fail("iam:SimulatePrincipalPolicy", "refuse", times=None)
    faulty_aws.fail("s3:PutObject", "refuse", times=None, key_id="AKIA*")  # the new key's write

    run = wizard_cli.run("verify", "--json", "--bucket", BUCKET)

    assert run.code == 1, run.text  # a refused allowed write is a failure, not a crash
    report = run.json()
    checks = {c["name"]: c["outcome"] for c in report["checks"]}
    assert {o for n, o in checks.items() if n.endswith("(simulator)")} == {"unproven"}
    assert checks["upload to builds/ (with the new key)"] == "fail"
    assert report["counts"]["fail"] >= 1 and report["ok"] is False
    assert "Traceback" not in run.text


def test_verify_does_not_swallow_a_bug_as_unproven(wizard_cli, faulty_aws):
    """An answer the wizard's code cannot handle (here: decisions missing from the simulator's
    results) is a bug: verify must fail loudly, not report the checks as unproven and exit 0."""
    set_up()
    faulty_aws.fail("iam:SimulatePrincipalPolicy", "reply", times=None,
                    reply=(200, SIMULATION_WITHOUT_DECISIONS))

    run = wizard_cli.run("verify", "--bucket", BUCKET)

    assert faulty_aws.count("iam:SimulatePrincipalPolicy") >= 1
    assert run.code == 1, run.text
    assert "Unexpected error" in run.err and "KeyError" in run.err, run.err
    assert "unproven" not in run.out
    assert "Traceback" not in run.text


def test_a_json_error_stays_json(wizard_cli, faulty_aws):
    """A script reading ``--json`` gets JSON on stdout even when the run fails."""
    faulty_aws.fail("iam:CreateGroup", "refuse", times=None)
    run = wizard_cli.run(*APPLY, "--json")
    assert run.code == 1
    answer = json.loads(run.out)
    assert answer["ok"] is False
    assert {s["key"]: s["action"] for s in answer["steps"]}["group"] == "failed"
