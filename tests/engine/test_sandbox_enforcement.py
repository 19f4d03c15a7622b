"""The sandbox enforces IAM for the identity the wizard makes, so verify proves refusals there.

A real sandbox (moto's server in this process, as ``--sandbox`` starts it) with the real GNOME
Keyring: the sandbox's operator signs with its fixed fake key and may do anything; the new CI key
is judged by moto on Action and Resource. What moto cannot judge (the ``s3:prefix`` condition)
stays unproven and says why; a policy widened by hand fails the proof in the sandbox itself.
"""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.sandbox import OPERATOR, PER_PROCESS, Sandbox
from circleci_s3_wizard.wizard.verify import enforces_iam, verify
from tests.fixtures.engine import run_apply

BUCKET = "sandbox-demo-builds"


def _empty_moto():
    """moto keeps one state per process (the suite's server and any sandbox in it share it):
    start from nothing, as a ``--sandbox`` command's own process does."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@pytest.fixture
def sandbox(monkeypatch):
    """A per-process sandbox this process points at (the environment is restored after)."""
    _empty_moto()
    for name in Sandbox().environment():
        monkeypatch.setenv(name, "restored-after-test")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with Sandbox() as box:
        box.activate()
        yield box


@pytest.fixture
def sandbox_ctx(sandbox, secret_store):
    def make(**answers):
        answers.setdefault("bucket", BUCKET)
        return RunContext(build_config(answers).config, sandbox.session(), secrets=secret_store,
                          sandbox=PER_PROCESS)

    return make


def _live(report):
    return {c.name.removesuffix(" (with the new key)"): c for c in report.checks
            if c.name.endswith("(with the new key)")}


def _client(service, key):
    return boto3.Session(aws_access_key_id=key.access_key_id,
                         aws_secret_access_key=key.secret_access_key,
                         region_name="us-east-1").client(service)


def test_verify_in_the_sandbox_proves_refusals_on_action_and_resource(sandbox_ctx):
    run_apply(sandbox_ctx(create_bucket=True))
    ctx = sandbox_ctx()
    assert enforces_iam(ctx)
    report = verify(ctx, wait_seconds=0)
    live = _live(report)
    assert {n: c.outcome for n, c in live.items()} == {
        "upload to builds/": "pass", "download from builds/": "pass", "list builds/": "pass",
        "delete in builds/": "pass",
        "upload outside the prefix": "pass",  # refused by moto: proven
        "list the whole bucket": "unproven",  # only the s3:prefix condition refuses it
    }
    assert "AccessDenied" in live["upload outside the prefix"].detail
    assert "does not evaluate policy conditions" in live["list the whole bucket"].detail
    assert "s3:prefix" in live["list the whole bucket"].detail
    assert report.ok and not report.proven
    assert any("moto enforces IAM" in n for n in report.notes)
    listed = sandbox_ctx().session.client("s3").list_objects_v2(Bucket=BUCKET)["Contents"]
    assert [o["Key"] for o in listed] == ["builds/"]  # the probes left nothing behind


def test_a_policy_widened_by_hand_fails_verify_in_the_sandbox(sandbox_ctx):
    run_apply(sandbox_ctx(create_bucket=True))
    iam = sandbox_ctx().session.client("iam")  # the operator: allowed everything
    [policy] = iam.list_policies(Scope="Local")["Policies"]
    iam.create_policy_version(PolicyArn=policy["Arn"], SetAsDefault=True,
                              PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                                  {"Effect": "Allow", "Action": "s3:*",
                                   "Resource": f"arn:aws:s3:::{BUCKET}/*"}]}))
    report = verify(sandbox_ctx(), wait_seconds=0)
    live = _live(report)
    assert live["upload outside the prefix"].outcome == "fail"
    assert not report.ok
    # a policy without ListBucket is refused for real too: the prefix listing fails
    assert live["list builds/"].outcome == "fail"


def test_the_new_key_is_judged_and_the_operator_is_not(sandbox_ctx):
    run_apply(sandbox_ctx(create_bucket=True))
    ctx = sandbox_ctx()
    key = ctx.secrets.load_access_key("circleci_service")
    with pytest.raises(ClientError) as refused:
        _client("iam", key).list_users()
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    # sts:GetCallerIdentity needs no permission in AWS, so rotate can prove a new key with it
    assert _client("sts", key).get_caller_identity()["Account"] == "123456789012"
    users = [u["UserName"] for u in ctx.session.client("iam").list_users()["Users"]]
    assert OPERATOR in users  # the operator's own calls are allowed, including this one


def test_a_key_nobody_was_given_is_refused_and_enforcement_ends_with_the_sandbox(
        monkeypatch, moto_server):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    stranger = {"aws_access_key_id": "AKIANOBODYGAVETHIS00", "aws_secret_access_key": "x" * 40,
                "region_name": "us-east-1"}
    with Sandbox() as box:
        with pytest.raises(ClientError) as refused:
            boto3.client("s3", endpoint_url=box.endpoint, **stranger).list_buckets()
        assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    # moto's switch is one per process: once the sandbox stops, the suite's own server (in this
    # same process) takes any key again, as every other test expects
    boto3.client("s3", endpoint_url=moto_server, **stranger).list_buckets()


def test_a_second_sandbox_in_the_same_process_enforces_too(monkeypatch):
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for _ in range(2):
        with Sandbox() as box:
            operator = boto3.client("iam", endpoint_url=box.endpoint, region_name="us-east-1",
                                    aws_access_key_id="sandbox-not-a-real-key",
                                    aws_secret_access_key="sandbox-not-a-real-key")
            assert OPERATOR in [u["UserName"] for u in operator.list_users()["Users"]]


def test_rotate_in_the_sandbox_proves_the_new_key_with_a_call_it_signs(sandbox_ctx):
    """rotate's proof (GetCallerIdentity signed with the new key) passes under enforcement."""
    from circleci_s3_wizard.wizard.rotate import Rotation

    run_apply(sandbox_ctx(create_bucket=True))
    ctx = sandbox_ctx()
    old = ctx.secrets.load_access_key("circleci_service").access_key_id
    rotation = Rotation(ctx, propagation_seconds=0)
    outcome = rotation.run(rotation.check())
    assert outcome.ok, outcome.error
    new = ctx.secrets.load_access_key("circleci_service")
    assert new.access_key_id != old
    report = verify(sandbox_ctx(), wait_seconds=0)
    assert _live(report)["upload outside the prefix"].outcome == "pass"
