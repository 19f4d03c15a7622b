"""The installed ``circleci-s3-wizard`` command end to end: moto's server and a real GNOME Keyring.

Each test runs the console script as a subprocess, exactly as an operator or a CI job would, with
``AWS_ENDPOINT_URL`` pointing at moto and ``DBUS_SESSION_BUS_ADDRESS`` at a private Secret
Service. The outcome is then read back independently: AWS state with boto3, the secret with the
``keyring`` library itself.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import urllib.request
from typing import Any

import pytest

from circleci_s3_wizard.wizard.config import IAM_PATH
from circleci_s3_wizard.wizard.policy import build_policy, canonical
from circleci_s3_wizard.wizard.secret_store import SERVICE
from tests.fixtures.wizard_runs import Run, wizard_command

pytestmark = pytest.mark.slow

BUCKET = "e2e-builds"
USER, GROUP, POLICY = "circleci_service", "circleci_devops", "s3_full_access_devops_builds"
SANDBOX_SERVICE = "circleci-s3-wizard-sandbox"
KEY_ENTRY = f"aws-access-key:{USER}"
ACCOUNT = "123456789012"
POLICY_ARN = f"arn:aws:iam::{ACCOUNT}:policy{IAM_PATH}{POLICY}"


@pytest.fixture
def wizard(aws_endpoint, secret_service, tmp_path, monkeypatch):
    """Run the CLI against moto and the test keyring, with a throwaway HOME.

    The wizard's keyring entries (real and sandbox service) are wiped afterwards.
    """
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.delenv("DISPLAY", raising=False)

    def run(*args: str, env: dict[str, str] | None = None, answer: str | None = None) -> Run:
        """Run the command; with ``answer``, its stdin is a terminal that types that line."""
        stdin: int = subprocess.DEVNULL
        if answer is not None:
            typist, stdin = pty.openpty()
            os.write(typist, f"{answer}\n".encode())
        try:
            done = subprocess.run(
                [*wizard_command(), *args], env=env if env is not None else os.environ.copy(),
                stdin=stdin, capture_output=True, text=True, timeout=120,
            )
        finally:
            if answer is not None:
                os.close(stdin)
                os.close(typist)
        assert "Traceback" not in done.stderr, done.stderr
        return Run(done.returncode, done.stdout, done.stderr)

    yield run
    secret_service.delete_items(SERVICE)
    secret_service.delete_items(SANDBOX_SERVICE)


@pytest.fixture
def aws(aws_session):
    """boto3 clients on the same moto account, to check what the wizard did."""

    class Clients:
        s3 = aws_session.client("s3")
        iam = aws_session.client("iam")

    return Clients


def _keyring_entry(service: str = SERVICE, username: str = KEY_ENTRY) -> dict[str, str] | None:
    """The raw keyring entry, read with the keyring library itself, not with the wizard's code."""
    from keyring.backends.SecretService import Keyring

    raw = Keyring().get_password(service, username)
    return json.loads(raw) if raw is not None else None


def _apply(wizard, *extra: str) -> dict[str, Any]:
    run = wizard("apply", "--yes", "--json", "--create-bucket", "--bucket", BUCKET, *extra)
    assert run.code == 0, run.out + run.err
    answer = run.json()
    assert answer["ok"] is True
    return answer


def _actions(answer: dict[str, Any]) -> dict[str, str]:
    return {s["key"]: s["action"] for s in answer["steps"]}


def _wizard_steps(actions: dict[str, str]) -> dict[str, str]:
    """The tutorial's AWS steps; CircleCI delivery is skipped when no project is given."""
    assert actions.pop("circleci") == "skip"
    return actions


AWS_STEPS = ["bucket", "folder", "group", "policy", "attach", "user", "access_key"]


def _state(aws) -> dict[str, Any]:
    """Everything in the moto account the wizard could have touched."""
    iam = aws.iam
    return {
        "buckets": [b["Name"] for b in aws.s3.list_buckets()["Buckets"]],
        "users": [u["UserName"] for u in iam.list_users()["Users"]],
        "groups": [g["GroupName"] for g in iam.list_groups()["Groups"]],
        "policies": [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]],
    }


# --- plan -------------------------------------------------------------------------------------

def test_plan_on_an_empty_account_creates_every_step(wizard, aws):
    run = wizard("plan", "--json", "--create-bucket", "--bucket", BUCKET)

    assert run.code == 0, run.err
    answer = run.json()
    actions = _wizard_steps(_actions(answer))
    assert list(actions) == AWS_STEPS
    assert set(actions.values()) == {"create"}
    assert answer["policy"] == build_policy(BUCKET, "builds/")
    assert answer["identity"]["account"] == ACCOUNT
    assert answer["identity"]["partition"] == "aws"
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}
    assert _keyring_entry() is None


def test_plan_text_shows_steps_and_the_policy(wizard):
    run = wizard("plan", "--create-bucket", "--bucket", BUCKET, "--prefix", "releases")

    assert run.code == 0, run.err
    assert f"Plan for s3://{BUCKET}/releases/ (keys mode)" in run.out
    assert "+ create   S3 bucket" in run.out
    assert "The policy document:" in run.out
    document = json.loads(run.out[run.out.index("{"):])
    assert document == build_policy(BUCKET, "releases/")


# --- apply ------------------------------------------------------------------------------------

def test_apply_builds_the_whole_setup_and_a_second_apply_changes_nothing(wizard, aws):
    run = wizard("apply", "--yes", "--json", "--create-bucket", "--bucket", BUCKET)
    assert run.code == 0, run.out + run.err
    answer = run.json()
    actions = _wizard_steps(_actions(answer))
    assert list(actions) == AWS_STEPS and set(actions.values()) == {"create"}

    # The bucket, locked down, with its folder marker.
    assert _state(aws)["buckets"] == [BUCKET]
    block = aws.s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                     "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    marker = aws.s3.head_object(Bucket=BUCKET, Key="builds/")
    assert marker["ContentLength"] == 0

    # The group, the policy (exactly the least-privilege document) and its attachment.
    assert aws.iam.get_group(GroupName=GROUP)["Group"]["Path"] == IAM_PATH
    policy = aws.iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    version = aws.iam.get_policy_version(PolicyArn=POLICY_ARN,
                                         VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert canonical(version["Document"]) == canonical(build_policy(BUCKET, "builds/"))
    attached = aws.iam.list_attached_group_policies(GroupName=GROUP)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [POLICY_ARN]

    # The user: in the group, programmatic only, with exactly one key, held by the keyring.
    groups = aws.iam.list_groups_for_user(UserName=USER)["Groups"]
    assert [g["GroupName"] for g in groups] == [GROUP]
    with pytest.raises(aws.iam.exceptions.NoSuchEntityException):
        aws.iam.get_login_profile(UserName=USER)
    keys = aws.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert len(keys) == 1
    entry = _keyring_entry()
    assert entry is not None
    assert entry["AccessKeyId"] == keys[0]["AccessKeyId"] == answer["outputs"]["access_key_id"]
    assert entry["SecretAccessKey"]
    assert entry["SecretAccessKey"] not in run.out + run.err

    # Again: everything exists, nothing is created.
    before = _state(aws)
    again = _apply(wizard)
    assert set(_wizard_steps(_actions(again)).values()) == {"exists"}
    assert _state(aws) == before
    assert aws.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"] == keys
    versions = aws.iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]
    assert len(versions) == 1
    assert _keyring_entry() == entry


def test_a_changed_prefix_is_planned_as_a_policy_update_and_applied_as_a_new_version(wizard, aws):
    _apply(wizard)

    plan = wizard("plan", "--json", "--bucket", BUCKET, "--prefix", "releases")
    assert plan.code == 0, plan.err
    actions = _wizard_steps(_actions(plan.json()))
    assert actions["policy"] == "update"
    assert actions["folder"] == "create"
    assert {k: v for k, v in actions.items() if k not in ("policy", "folder")} == \
        dict.fromkeys(["bucket", "group", "attach", "user", "access_key"], "exists")
    assert plan.json()["policy"] == build_policy(BUCKET, "releases/")

    applied = _apply(wizard, "--prefix", "releases")
    assert _actions(applied)["policy"] == "update"
    policy = aws.iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    assert policy["DefaultVersionId"] == "v2"
    document = aws.iam.get_policy_version(PolicyArn=POLICY_ARN,
                                          VersionId="v2")["PolicyVersion"]["Document"]
    assert canonical(document) == canonical(build_policy(BUCKET, "releases/"))


def test_apply_without_yes_and_without_a_terminal_refuses_and_changes_nothing(wizard, aws):
    run = wizard("apply", "--create-bucket", "--bucket", BUCKET)

    assert run.code == 2
    assert "no terminal to ask: pass --yes" in run.err
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}
    assert _keyring_entry() is None


def test_apply_on_a_terminal_asks_first_and_no_changes_nothing(wizard, aws):
    run = wizard("apply", "--create-bucket", "--bucket", BUCKET, answer="n")

    assert run.code == 1
    assert "Apply these changes? [y/N]" in run.out
    assert "+ create   S3 bucket" in run.err
    assert "Nothing was changed." in run.err
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}


def test_apply_on_a_terminal_yes_creates_the_setup(wizard, aws):
    run = wizard("apply", "--create-bucket", "--bucket", BUCKET, answer="y")

    assert run.code == 0, run.out + run.err
    assert f"Applied s3://{BUCKET}/builds/:" in run.out
    assert _state(aws) == {"buckets": [BUCKET], "users": [USER], "groups": [GROUP],
                           "policies": [POLICY]}
    assert _keyring_entry() is not None


def test_apply_on_a_terminal_yes_updates_a_changed_policy(wizard, aws):
    _apply(wizard)

    run = wizard("apply", "--bucket", BUCKET, "--prefix", "releases", answer="y")

    assert run.code == 0, run.out + run.err
    assert "~ update" in run.out
    document = aws.iam.get_policy_version(PolicyArn=POLICY_ARN,
                                          VersionId="v2")["PolicyVersion"]["Document"]
    assert canonical(document) == canonical(build_policy(BUCKET, "releases/"))


def test_a_missing_bucket_without_create_bucket_fails_with_a_sentence(wizard, aws):
    run = wizard("apply", "--yes", "--bucket", BUCKET)
    assert run.code == 1
    assert f"Bucket {BUCKET} does not exist" in run.err
    assert "--create-bucket" in run.err

    as_json = wizard("apply", "--yes", "--json", "--bucket", BUCKET)
    assert as_json.code == 1
    answer = as_json.json()
    assert answer["ok"] is False
    assert f"Bucket {BUCKET} does not exist" in answer["error"]
    assert _actions(answer)["bucket"] == "blocked"
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}


def _reset_auth(endpoint: str, count: str) -> None:
    """moto's own switch for IAM enforcement: after ``count`` requests, every call is checked."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=count.encode(),
                                     method="POST", headers={"Content-Type": "text/plain"})
    urllib.request.urlopen(request).close()


def test_a_bucket_the_operator_cannot_reach_fails_with_a_sentence(wizard, aws, aws_endpoint):
    """moto enforcing IAM: the operator may do anything except touch someone else's bucket."""
    other = "someone-elses-bucket"
    aws.s3.create_bucket(Bucket=other)
    aws.iam.create_user(UserName="operator")
    aws.iam.put_user_policy(UserName="operator", PolicyName="all-but-that-bucket",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Allow", "Action": "*", "Resource": "*"},
                                {"Effect": "Deny", "Action": "s3:*",
                                 "Resource": [f"arn:aws:s3:::{other}", f"arn:aws:s3:::{other}/*"]},
                            ]}))
    key = aws.iam.create_access_key(UserName="operator")["AccessKey"]
    env = os.environ.copy()
    env.update(AWS_ACCESS_KEY_ID=key["AccessKeyId"], AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])

    _reset_auth(aws_endpoint, "0")
    try:
        run = wizard("apply", "--yes", "--create-bucket", "--bucket", other, env=env)
        as_json = wizard("apply", "--yes", "--json", "--create-bucket", "--bucket", other,
                         env=env)
    finally:
        _reset_auth(aws_endpoint, "inf")

    assert run.code == 1
    assert f"Bucket {other} exists but you cannot reach it" in run.err
    assert "Nothing was changed" in run.err
    assert as_json.code == 1
    assert _actions(as_json.json())["bucket"] == "conflict"
    assert aws.iam.list_groups()["Groups"] == []
    assert [u["UserName"] for u in aws.iam.list_users()["Users"]] == ["operator"]
    assert _keyring_entry() is None


# --- credential-process, verify, destroy ------------------------------------------------------

def test_credential_process_prints_the_stored_key(wizard, aws):
    _apply(wizard)

    run = wizard("credential-process", "--user", USER)
    assert run.code == 0, run.err
    printed = run.json()
    entry = _keyring_entry()
    assert printed == {"Version": 1, "AccessKeyId": entry["AccessKeyId"],
                       "SecretAccessKey": entry["SecretAccessKey"]}
    keys = aws.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [printed["AccessKeyId"]]
    assert entry["SecretAccessKey"] not in run.err

    missing = wizard("credential-process", "--user", "nobody")
    assert missing.code == 1
    assert "No access key for IAM user 'nobody'" in missing.err


def test_credential_process_without_a_stored_key_says_so_plainly(wizard):
    run = wizard("credential-process", "--user", "nobody")

    assert run.code == 1
    assert run.out == ""
    assert run.err.startswith("circleci-s3-wizard: error: No access key for IAM user 'nobody' "
                              "in the keyring; run `circleci-s3-wizard apply` first")


def test_verify_after_apply_passes_live_probes_and_leaves_denials_unproven(wizard, aws):
    _apply(wizard)

    run = wizard("verify", "--json", "--bucket", BUCKET)
    assert run.code == 0, run.out + run.err
    report = run.json()
    assert report["ok"] is True and report["proven"] is False
    checks = report["checks"]
    simulated = [c for c in checks if c["name"].endswith("(simulator)")]
    live = [c for c in checks if c["name"].endswith("(with the new key)")]
    invariants = {c["name"]: c["outcome"] for c in checks if c not in simulated + live}
    assert simulated and live and invariants == {
        "Block Public Access on the bucket": "pass",
        "one active access key, held by your keyring": "pass",
        f"user {USER} holds only policy {POLICY}": "pass",
    }
    assert {c["outcome"] for c in simulated} == {"unproven"}
    for check in live:
        wanted = "pass" if check["expectation"] == "allowed" else "unproven"
        assert check["outcome"] == wanted, check
    assert {c["expectation"] for c in live} == {"allowed", "denied"}
    # Facts about the setup hold or not: nobody expects Block Public Access to be "allowed".
    assert {c["expectation"] for c in checks if c["name"] in invariants} == {"holds"}
    assert report["counts"]["fail"] == 0
    assert any("no IAM policy simulator" in n for n in report["notes"])
    # The probes tidy up after themselves: only the folder marker is left.
    listed = aws.s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert [o["Key"] for o in listed] == ["builds/"]


def test_destroy_removes_what_the_wizard_made_and_keeps_the_bucket(wizard, aws):
    _apply(wizard)
    aws.s3.put_object(Bucket=BUCKET, Key="builds/app-1.0.tar.gz", Body=b"artifact")

    run = wizard("destroy", "--yes", "--json", "--bucket", BUCKET)
    assert run.code == 0, run.out + run.err
    actions = _actions(run.json())
    assert actions["access_key"] == actions["user"] == actions["attach"] == "delete"
    assert actions["policy"] == actions["group"] == "delete"
    assert actions["bucket"] == actions["folder"] == "keep"

    assert _state(aws) == {"buckets": [BUCKET], "users": [], "groups": [], "policies": []}
    keys = sorted(o["Key"] for o in aws.s3.list_objects_v2(Bucket=BUCKET)["Contents"])
    assert keys == ["builds/", "builds/app-1.0.tar.gz"]
    assert _keyring_entry() is None

    again = wizard("destroy", "--yes", "--json", "--bucket", BUCKET)
    assert again.code == 0
    assert set(_actions(again.json()).values()) <= {"absent", "keep", "skip"}


def test_destroy_keeps_a_group_and_policy_made_by_hand(wizard, aws):
    """The tutorial's console steps made these at path '/': destroy must leave them alone."""
    aws.iam.create_group(GroupName=GROUP)
    hand_arn = aws.iam.create_policy(
        PolicyName=POLICY, PolicyDocument=json.dumps(build_policy(BUCKET, "builds/")),
    )["Policy"]["Arn"]
    aws.iam.attach_group_policy(GroupName=GROUP, PolicyArn=hand_arn)

    # Not the wizard's: a conflict that names them, and apply changes nothing.
    refused = wizard("apply", "--yes", "--json", "--bucket", BUCKET, "--create-bucket")
    assert refused.code == 1, refused.out + refused.err
    actions = _actions(refused.json())
    assert actions["group"] == actions["policy"] == "conflict"
    assert aws.iam.list_users()["Users"] == []

    run = wizard("destroy", "--yes", "--json", "--bucket", BUCKET)
    assert run.code == 0, run.out + run.err
    actions = _actions(run.json())
    assert actions["group"] == actions["policy"] == actions["attach"] == "keep"

    assert aws.iam.get_group(GroupName=GROUP)["Group"]["Path"] == "/"
    assert aws.iam.get_policy(PolicyArn=hand_arn)["Policy"]["PolicyName"] == POLICY
    attached = aws.iam.list_attached_group_policies(GroupName=GROUP)["AttachedPolicies"]
    assert [a["PolicyArn"] for a in attached] == [hand_arn]
    assert aws.iam.list_users()["Users"] == []
    assert _keyring_entry() is None


def test_destroy_without_yes_and_without_a_terminal_removes_nothing(wizard, aws):
    _apply(wizard)
    before = _state(aws)

    run = wizard("destroy", "--bucket", BUCKET)
    assert run.code == 2
    assert "pass --yes" in run.err
    assert _state(aws) == before
    assert _keyring_entry() is not None


# --- the sandbox ------------------------------------------------------------------------------

def test_sandbox_apply_needs_no_aws_and_its_key_goes_with_it(wizard, aws):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}

    run = wizard("--sandbox", "apply", "--yes", "--bucket", "sandbox-builds", "--create-bucket",
                 "--json", env=env)

    assert run.code == 0, run.out + run.err
    assert "SANDBOX" in run.err and "Nothing touches a real AWS account" in run.err
    answer = run.json()
    actions = _wizard_steps(_actions(answer))
    assert set(actions.values()) == {"create"}
    assert answer["outputs"]["access_key_id"]
    # The command's own sandbox stopped with it, and the key's keyring entry went with it;
    # the real service never held it.
    assert _keyring_entry(SANDBOX_SERVICE) is None
    assert _keyring_entry(SERVICE) is None
    # The sandbox is its own moto: the test account was never touched.
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}


def test_a_served_sandbox_keeps_its_keys_apart_until_it_stops(wizard, aws):
    """While `sandbox` runs, its key sits under the sandbox's own keyring service (never the
    real one); stopping the sandbox deletes that entry, and a token-like entry of another
    name is left alone."""
    import signal

    from keyring.backends.SecretService import Keyring

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    Keyring().set_password(SANDBOX_SERVICE, "token:circleci.com", "kept-on-purpose")
    served = subprocess.Popen([*wizard_command(), "sandbox"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert served.stdout is not None
        assert served.stdout.readline().startswith("export AWS_ENDPOINT_URL=")  # it serves
        run = wizard("apply", "--sandbox", "--yes", "--bucket", "served-builds",
                     "--create-bucket", "--json", env=env)
        assert run.code == 0, run.out + run.err
        entry = _keyring_entry(SANDBOX_SERVICE)
        assert entry is not None, "the served sandbox keeps its key while it runs"
        assert entry["AccessKeyId"] == run.json()["outputs"]["access_key_id"]
        assert _keyring_entry(SERVICE) is None
    finally:
        served.send_signal(signal.SIGINT)
        _, err = served.communicate(timeout=30)
    assert served.returncode == 0, err
    assert "Sandbox stopped." in err
    assert _keyring_entry(SANDBOX_SERVICE) is None
    assert Keyring().get_password(SANDBOX_SERVICE, "token:circleci.com") == "kept-on-purpose"
    assert _state(aws) == {"buckets": [], "users": [], "groups": [], "policies": []}


def test_verify_on_a_served_sandbox_proves_the_refusals_moto_can_judge(wizard, aws):
    """The served sandbox enforces IAM for the key the wizard made: the upload outside the prefix
    is refused for real (proven); only the listing, refused by a condition moto does not
    evaluate, stays unproven and says why."""
    import signal

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    served = subprocess.Popen([*wizard_command(), "sandbox"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert served.stdout is not None
        assert served.stdout.readline().startswith("export AWS_ENDPOINT_URL=")
        common = ("--sandbox", "--bucket", "served-builds")
        applied = wizard("apply", *common, "--yes", "--create-bucket", env=env)
        assert applied.code == 0, applied.out + applied.err
        run = wizard("verify", *common, "--json", env=env)
    finally:
        served.send_signal(signal.SIGINT)
        served.communicate(timeout=30)
    assert run.code == 0, run.out + run.err
    report = run.json()
    live = {c["name"]: c for c in report["checks"] if c["name"].endswith("(with the new key)")}
    assert live["upload outside the prefix (with the new key)"]["outcome"] == "pass"
    whole = live["list the whole bucket (with the new key)"]
    assert whole["outcome"] == "unproven" and "s3:prefix" in whole["detail"]
    assert {c["outcome"] for n, c in live.items() if c["expectation"] == "allowed"} == {"pass"}
    assert any("moto enforces IAM" in n for n in report["notes"])


def test_apply_delivers_to_circleci_and_rotate_replaces_the_key_everywhere(
        wizard, aws, circleci_standin, monkeypatch):
    circleci_standin.add_project("gh/acme/app")
    monkeypatch.setenv("CIRCLE_TOKEN", circleci_standin.token)
    monkeypatch.setenv("CIRCLE_HOST", circleci_standin.url)
    common = ("--bucket", "ci-builds", "--circleci-project", "gh/acme/app", "--yes", "--json")
    applied = wizard("apply", "--create-bucket", *common)
    assert applied.code == 0, applied.err
    first = _keyring_entry()["AccessKeyId"]
    assert circleci_standin.env("gh/acme/app")["AWS_ACCESS_KEY_ID"] == first
    assert circleci_standin.token not in applied.out + applied.err

    rotated = wizard("rotate", *common)
    assert rotated.code == 0, rotated.err
    data = rotated.json()
    new = _keyring_entry()
    assert data["deleted_access_key_id"] == first and data["access_key_id"] == new["AccessKeyId"]
    assert new["AccessKeyId"] != first
    variables = circleci_standin.env("gh/acme/app")
    assert variables["AWS_ACCESS_KEY_ID"] == new["AccessKeyId"]
    assert variables["AWS_SECRET_ACCESS_KEY"] == new["SecretAccessKey"]
    keys = aws.iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [new["AccessKeyId"]]
    assert new["SecretAccessKey"] not in rotated.out + rotated.err

    destroyed = wizard("destroy", *common)
    assert destroyed.code == 0, destroyed.err
    assert circleci_standin.env("gh/acme/app") == {}


@pytest.fixture
def circleci_env(circleci_standin, monkeypatch):
    """The CLI pointed at the CircleCI stand-in, with project gh/acme/app."""
    project = circleci_standin.add_project("gh/acme/app")
    monkeypatch.setenv("CIRCLE_TOKEN", circleci_standin.token)
    monkeypatch.setenv("CIRCLE_HOST", circleci_standin.url)
    return project


def test_plan_says_every_step_of_a_keys_to_oidc_move_and_apply_does_it(
        wizard, aws, circleci_standin, circleci_env):
    project = ("--bucket", "ci-builds", "--circleci-project", "gh/acme/app")
    assert wizard("apply", "--create-bucket", *project, "--yes", "--json").code == 0
    key_id = _keyring_entry()["AccessKeyId"]

    planned = wizard("plan", "--auth", "oidc", *project)
    assert planned.code == 0, planned.err
    text = planned.out
    move = text[text.index("update   Retire static keys"):text.index("\nThe policy, in words")]
    assert "Move off static keys: delete AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from " \
           f"project gh/acme/app, then deactivate and delete access key {key_id} of " \
           "circleci_service, then delete its keyring entry." in " ".join(move.split())
    assert "aws-cli orb uses static keys whenever it finds them" in " ".join(move.split())
    for line in ("- delete AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from project gh/acme/app",
                 f"- deactivate, then delete access key {key_id} of circleci_service (the user "
                 "stays)",
                 f"- delete the keyring entry of circleci_service (access key {key_id})"):
        assert f"      {line}\n" in move
    assert circleci_standin.env("gh/acme/app")["AWS_ACCESS_KEY_ID"] == key_id  # only a plan

    refused = wizard("apply", "--auth", "oidc", *project)  # no terminal, no --yes
    assert refused.code == 2 and "--yes" in refused.err
    moved = wizard("apply", "--auth", "oidc", *project, "--yes", "--json")
    assert moved.code == 0, moved.out + moved.err
    steps = {s["key"]: s for s in moved.json()["steps"]}
    assert steps["retire_keys"]["action"] == "update"
    assert set(circleci_standin.env("gh/acme/app")) == {"AWS_ROLE_ARN", "AWS_REGION",
                                                       "AWS_DEFAULT_REGION"}
    assert aws.iam.list_access_keys(UserName=USER)["AccessKeyMetadata"] == []
    assert _keyring_entry() is None
    assert [u["UserName"] for u in aws.iam.list_users()["Users"]] == [USER]

    gone = wizard("destroy", *project, "--yes", "--json")  # --auth keys: the user and group
    assert gone.code == 0, gone.out + gone.err
    assert aws.iam.list_users()["Users"] == [] and aws.iam.list_groups()["Groups"] == []
    assert "circleci_s3_builds" in [r["RoleName"] for r in aws.iam.list_roles()["Roles"]]


def test_context_restriction_and_session_options_reach_circleci_and_the_plan(
        wizard, aws, circleci_standin, circleci_env):
    oidc = ("--bucket", "ci-builds", "--auth", "oidc", "--circleci-project", "gh/acme/app")
    too_long = wizard("plan", *oidc, "--session-duration", "7200")
    assert too_long.code == 1
    assert "7200 seconds is longer than the role's MaxSessionDuration of 3600" in too_long.out

    not_seconds = wizard("plan", *oidc, "--session-duration", "2h")
    assert not_seconds.code == 2 and "--session-duration: must be a whole number" in \
        not_seconds.err
    alone = wizard("plan", *oidc, "--restrict-context-branch")
    assert alone.code == 2 and "--restrict-context-branch: needs --circleci-context" in alone.err

    restricted = wizard("apply", "--create-bucket", *oidc, "--circleci-context", "s3-deploy",
                        "--circleci-branch", "main", "--restrict-context-branch", "--yes")
    assert restricted.code == 0, restricted.out + restricted.err
    context = circleci_standin.context_named("s3-deploy")
    assert sorted((r["type"], r["value"]) for r in circleci_standin.restrictions_of(
        context["id"])) == [("expression", 'pipeline.git.branch == "main"'),
                            ("project", circleci_env["id"])]
    shown = wizard("plan", *oidc, "--circleci-context", "s3-deploy", "--circleci-branch",
                   "main", "--restrict-context-branch")
    assert f"= context s3-deploy is restricted to project app ({circleci_env['id']}) (added " \
           "by the wizard)" in shown.out
    assert "Expression restrictions fail closed" in shown.out


# --- the advice works as written --------------------------------------------------------------

def _suggested(answer: dict[str, Any]) -> dict[str, list[str]]:
    """The commands the run's next steps suggest, in backticks, by subcommand."""
    import re
    import shlex

    found: dict[str, list[str]] = {}
    for step in answer["next_steps"]:
        for command in re.findall(r"`(circleci-s3-wizard [^`]+)`", step["text"]):
            words = shlex.split(command)[1:]
            found[words[0]] = words
    return found


def test_each_suggested_command_finds_the_same_setup_when_typed_as_shown(wizard, aws):
    answer = _apply(wizard, "--prefix", "site/", "--group", "ci_group", "--user", "ci_user",
                    "--policy-name", "ci_policy")
    suggested = _suggested(answer)
    assert {"verify", "plan", "destroy", "credential-process"} <= set(suggested)
    for words in suggested.values():  # complete for the run: the bucket and every changed name
        if words[0] != "credential-process":
            assert words[words.index("--bucket") + 1] == BUCKET
            assert "--create-bucket" not in words  # the bucket exists now
            assert {"--prefix", "site/", "--user", "ci_user", "--group", "ci_group"} <= set(words)

    verified = wizard(*suggested["verify"])
    assert verified.code == 0, verified.out + verified.err
    planned = wizard(*suggested["plan"], "--json")
    assert planned.code == 0, planned.out + planned.err
    assert set(_wizard_steps(_actions(planned.json())).values()) == {"exists"}
    assert wizard(*suggested["credential-process"]).code == 0

    destroyed = wizard(*suggested["destroy"], answer="y")  # on a terminal, as the operator would
    assert destroyed.code == 0, destroyed.out + destroyed.err
    assert aws.iam.list_users()["Users"] == [] and aws.iam.list_groups()["Groups"] == []
    assert _state(aws)["buckets"] == [BUCKET]  # never the bucket


def test_verify_on_a_bucket_that_does_not_exist_says_so(wizard, aws):
    _apply(wizard)
    run = wizard("verify", "--bucket", "no-such-builds-bucket")
    assert run.code == 1, run.out + run.err
    assert "fail      the bucket no-such-builds-bucket exists; it does not exist" in run.out
    assert "--create-bucket" in run.out
    text = wizard("verify", "--bucket", BUCKET)
    assert text.code == 0, text.out + text.err
    assert "pass      Block Public Access on the bucket; fully on" in text.out
    assert "should be" in text.out  # the probes still say what they expect
    assert "Block Public Access on the bucket: should be" not in text.out
    assert " proven, 0 failed, " in text.out.splitlines()[-1]
