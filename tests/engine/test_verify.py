"""Verification: the simulator request (botocore Stubber: moto has no simulator) and the live
probes with the new key against moto, where denials must be reported unproven, never passed."""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from circleci_s3_wizard.wizard.config import AccessLevel
from circleci_s3_wizard.wizard.verify import invariant_checks, simulation_cases, verify
from tests.fixtures.engine import run_apply

# The simulator's verdicts for the written policy, and a widened policy failing, are proven in
# tests/engine/test_verify_simulator.py, answered by an evaluator that reads the policies back
# from moto.


def test_upload_only_expects_reads_denied(make_ctx):
    run_apply(make_ctx(create_bucket=True, access=AccessLevel.UPLOAD_ONLY))
    ctx = make_ctx(access=AccessLevel.UPLOAD_ONLY)
    expected = {c.name: c.expect for c in simulation_cases(ctx)}
    assert expected["PutObject under builds/"] == "allowed"
    assert expected["GetObject under builds/"] == "denied"
    assert expected["DeleteObject under builds/"] == "denied"


def test_simulator_request_names_the_principal_and_prefix_context(make_ctx):
    run_apply(make_ctx(create_bucket=True))
    ctx = make_ctx()
    invariant_checks(ctx)  # its reads are remembered: the stub below sees only the simulator's
    iam = ctx.client("iam")
    stubber = Stubber(iam)
    user = iam.get_user(UserName="circleci_service")["User"]
    user_arn = user["Arn"]
    # First group of cases is the prefixed listing: the request must carry s3:prefix.
    stubber.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [{"EvalActionName": "s3:ListBucket", "EvalDecision": "allowed"}]},
        {"PolicySourceArn": user_arn, "ActionNames": ["s3:ListBucket"],
         "ResourceArns": ["arn:aws:s3:::devops-example-builds"],
         "ContextEntries": [{"ContextKeyName": "s3:prefix", "ContextKeyValues": ["builds/"],
                             "ContextKeyType": "string"}]},
    )
    stubber.add_client_error("simulate_principal_policy", "AccessDenied", "no",
                             expected_params={"PolicySourceArn": user_arn,
                                              "ActionNames": ANY, "ResourceArns": ANY,
                                              "ContextEntries": ANY})
    with stubber:
        report = verify(ctx, wait_seconds=0)
    stubber.assert_no_pending_responses()
    # A simulator refused part-way proves nothing: every simulated case is unproven, and the
    # note names the permission to grant.
    simulated = [c for c in report.checks if c.name.endswith("(simulator)")]
    assert simulated and all(c.outcome == "unproven" for c in simulated)
    assert any("simulator" in n for n in report.notes)


def test_sandbox_live_probes_pass_for_allowed_and_never_claim_denials(make_ctx):
    run_apply(make_ctx(create_bucket=True))
    report = verify(make_ctx(), wait_seconds=0)
    live = {c.name: c for c in report.checks if c.name.endswith("(with the new key)")}
    assert live["upload to builds/ (with the new key)"].outcome == "pass"
    assert live["download from builds/ (with the new key)"].outcome == "pass"
    assert live["delete in builds/ (with the new key)"].outcome == "pass"
    outside = live["upload outside the prefix (with the new key)"]
    assert outside.expectation == "denied" and outside.outcome == "unproven"
    assert not report.proven and report.ok
    assert any("does not enforce IAM (it accepted a key it never issued)" in n
               for n in report.notes)


def test_probes_leave_nothing_behind(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True))
    verify(make_ctx(), wait_seconds=0)
    listing = aws_session.client("s3").list_objects_v2(Bucket="devops-example-builds")
    assert [o["Key"] for o in listing["Contents"]] == ["builds/"]


@pytest.mark.parametrize("code", ["InvalidAccessKeyId"])
def test_new_key_propagation_is_waited_for(code):
    from circleci_s3_wizard.wizard.verify import _attempt

    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 2:
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": code, "Message": "not yet"}}, "PutObject")

    import circleci_s3_wizard.wizard.verify as v

    original = v.time.sleep
    v.time.sleep = lambda _: None
    try:
        assert _attempt(flaky, wait_seconds=5) == (True, "")
    finally:
        v.time.sleep = original
    assert len(calls) == 2
