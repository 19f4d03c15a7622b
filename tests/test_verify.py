"""Verification: the simulator's verdicts (botocore Stubber: moto has no simulator) and the live
probes with the new key against moto, where denials must be reported unproven, never passed."""

from __future__ import annotations

import pytest
from botocore.stub import ANY, Stubber

from circleci_s3_wizard.wizard.config import AccessLevel
from circleci_s3_wizard.wizard.verify import invariant_checks, simulation_cases, verify
from tests.fixtures.engine import run_apply


def _stub_simulator(ctx, decide):
    """Answer every SimulatePrincipalPolicy call with ``decide(action, resource, prefix)``."""
    iam = ctx.client("iam")
    real = iam.simulate_principal_policy

    def fake(**params):
        prefix = None
        for entry in params.get("ContextEntries", []):
            prefix = entry["ContextKeyValues"][0]
        resource = params["ResourceArns"][0]
        return {"EvaluationResults": [
            {"EvalActionName": a, "EvalResourceName": resource,
             "EvalDecision": decide(a, resource, prefix)} for a in params["ActionNames"]]}

    iam.simulate_principal_policy = fake
    return real


def _least_privilege(action, resource, prefix):
    """What IAM answers for the wizard's read-write policy."""
    inside = resource.endswith("/builds/circleci-s3-wizard-probe")
    if action == "s3:ListBucket":
        return "allowed" if prefix == "builds/" else "implicitDeny"
    if action in {"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} and inside:
        return "allowed"
    return "implicitDeny"


def test_simulator_verdicts_prove_least_privilege(make_ctx):
    run_apply(make_ctx(create_bucket=True))
    ctx = make_ctx()
    _stub_simulator(ctx, _least_privilege)
    report = verify(ctx, wait_seconds=0)
    simulated = [c for c in report.checks if c.name.endswith("(simulator)")]
    assert len(simulated) == len(simulation_cases(ctx)) >= 14
    assert all(c.outcome == "pass" for c in simulated), simulated
    assert {c.expectation for c in simulated} == {"allowed", "denied"}


def test_a_stray_wildcard_fails_verification(make_ctx):
    run_apply(make_ctx(create_bucket=True))
    ctx = make_ctx()
    _stub_simulator(ctx, lambda *_: "allowed")  # e.g. the tutorial's "Action": "*"
    report = verify(ctx, wait_seconds=0)
    assert not report.ok
    failed = {c.name for c in report.checks if c.outcome == "fail"}
    assert "create IAM users (simulator)" in failed
    assert "delete the bucket (simulator)" in failed


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
    assert any("moto does not enforce IAM" in n for n in report.notes)


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
