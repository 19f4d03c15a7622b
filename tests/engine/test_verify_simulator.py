"""verify's simulator path against an evaluator that is not the wizard's.

moto has no ``iam:SimulatePrincipalPolicy``; the stand-in in tests/fixtures/iam_simulator.py
answers it by reading the principal's policies back from moto and deciding each question with
tests/fixtures/iam_evaluator.py (written from IAM's documented evaluation logic). So these tests
fail when the policy the wizard wrote is wrong, or when something else grants the identity more:
the widened-policy cases below show the proof failing for the right checks.
"""

from __future__ import annotations

import json

import pytest

from circleci_s3_wizard.wizard.config import AccessLevel, AuthMode
from circleci_s3_wizard.wizard.verify import simulation_cases, verify
from tests.fixtures.engine import run_apply
from tests.fixtures.iam_evaluator import Policy, Request, UnsupportedPolicy, evaluate

BUCKET = "devops-example-builds"
OBJECTS = f"arn:aws:s3:::{BUCKET}/builds/*"


def _simulated(report):
    return {c.name.removesuffix(" (simulator)"): c for c in report.checks
            if c.name.endswith("(simulator)")}


def _wizard_policy_arn(iam):
    [policy] = iam.list_policies(Scope="Local")["Policies"]
    return policy["Arn"]


def _replace_document(iam, arn, document):
    """Someone edits the wizard's policy by hand: a new default version."""
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document),
                              SetAsDefault=True)


@pytest.mark.parametrize("access", list(AccessLevel))
def test_the_written_policy_proves_least_privilege(make_ctx, policy_simulator, access):
    run_apply(make_ctx(create_bucket=True, access=access))
    simulator = policy_simulator()
    ctx = make_ctx(access=access)
    report = verify(ctx, wait_seconds=0)
    simulated = _simulated(report)
    assert len(simulated) == len(simulation_cases(ctx)) >= 14
    assert {n: c.outcome for n, c in simulated.items() if c.outcome != "pass"} == {}
    assert {c.expectation for c in simulated.values()} == {"allowed", "denied"}
    # The answers came from the policies moto holds, for the user the wizard made.
    user = ":user/circleci-s3-wizard/circleci_service"
    assert simulator.asked and all(q["PolicySourceArn"].endswith(user)
                                   for q in simulator.asked), simulator.asked


def test_the_oidc_role_is_proven_from_its_attached_policy(make_ctx, circleci_standin,
                                                           policy_simulator):
    circleci_standin.add_project("gh/acme/app")

    def oidc():
        ctx = make_ctx(auth=AuthMode.OIDC, circleci_project="gh/acme/app", create_bucket=True)
        ctx.circleci = circleci_standin.client()
        return ctx

    first = oidc()
    run_apply(first)
    first.circleci.close()
    simulator = policy_simulator()
    ctx = oidc()
    try:
        report = verify(ctx, wait_seconds=0)
    finally:
        ctx.circleci.close()
    simulated = _simulated(report)
    assert simulated and all(c.outcome == "pass" for c in simulated.values()), simulated
    assert all(":role/" in q["PolicySourceArn"] for q in simulator.asked)


def test_a_policy_widened_to_the_whole_bucket_fails_verify(make_ctx, aws_session,
                                                           policy_simulator):
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    _replace_document(iam, _wizard_policy_arn(iam), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}"},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{BUCKET}/*"}]})
    policy_simulator()
    report = verify(make_ctx(), wait_seconds=0)
    assert not report.ok
    failed = {n for n, c in _simulated(report).items() if c.outcome == "fail"}
    assert failed == {"list the whole bucket", "PutObject outside builds/",
                      "GetObject outside builds/", "DeleteObject outside builds/"}


def test_a_prefix_without_its_slash_fails_verify(make_ctx, aws_session, policy_simulator):
    """``bucket/builds*`` also grants ``bucket/builds-secret/``: the evaluator sees it."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    _replace_document(iam, _wizard_policy_arn(iam), {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"StringLike": {"s3:prefix": ["builds/", "builds/*"]}}},
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
         "Resource": f"arn:aws:s3:::{BUCKET}/*builds*"}]})
    policy_simulator()
    report = verify(make_ctx(), wait_seconds=0)
    failed = {n for n, c in _simulated(report).items() if c.outcome == "fail"}
    # the outside probe is "outside-builds/probe": a careless wildcard reaches it
    assert failed == {"PutObject outside builds/", "GetObject outside builds/",
                      "DeleteObject outside builds/"}


def test_a_grant_on_the_group_from_someone_else_fails_verify(make_ctx, aws_session,
                                                             policy_simulator):
    """The tutorial's own mistake, made by a colleague: ``*`` on ``*`` on the wizard's group."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    [group] = iam.list_groups()["Groups"]
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="everything",
                         PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                             {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
    policy_simulator()
    report = verify(make_ctx(), wait_seconds=0)
    simulated = _simulated(report)
    assert {n for n, c in simulated.items() if c.outcome == "fail"} == {
        n for n, c in simulated.items() if c.expectation == "denied"}
    assert simulated["create IAM users"].outcome == "fail"


def test_a_deny_elsewhere_that_breaks_uploads_fails_verify(make_ctx, aws_session,
                                                           policy_simulator):
    """Too little is also wrong: a colleague's Deny on the group makes uploads fail the proof."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    [group] = iam.list_groups()["Groups"]
    iam.put_group_policy(GroupName=group["GroupName"], PolicyName="no-writes",
                         PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                             {"Effect": "Deny", "Action": ["s3:Put*", "s3:Delete*"],
                              "Resource": "*"}]}))
    policy_simulator()
    report = verify(make_ctx(), wait_seconds=0)
    simulated = _simulated(report)
    failed = {n for n, c in simulated.items() if c.outcome == "fail"}
    assert failed == {"PutObject under builds/", "DeleteObject under builds/"}
    assert "explicitDeny" in simulated["PutObject under builds/"].detail


# --- the evaluator itself, on the documentation's own rules ------------------------------------

def _allow(action, resource, condition=None, effect="Allow"):
    statement = {"Effect": effect, "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return Policy("p", {"Version": "2012-10-17", "Statement": [statement]})


def test_evaluator_explicit_deny_beats_allow_and_default_is_implicit_deny():
    allow = _allow("s3:*", "*")
    deny = _allow("s3:DeleteObject", OBJECTS, effect="Deny")
    assert evaluate(Request("s3:GetObject", f"{OBJECTS[:-1]}x"), [allow, deny]).decision == \
        "allowed"
    assert evaluate(Request("s3:DeleteObject", f"{OBJECTS[:-1]}x"), [allow, deny]).decision == \
        "explicitDeny"
    assert evaluate(Request("iam:CreateUser", "*"), [allow]).decision == "implicitDeny"


def test_evaluator_actions_ignore_case_resources_do_not_and_wildcards_stay_in_their_segment():
    policy = _allow("S3:get*", OBJECTS)
    assert evaluate(Request("s3:GetObject", f"arn:aws:s3:::{BUCKET}/builds/a"), [policy]
                    ).decision == "allowed"
    assert evaluate(Request("s3:GetObject", f"arn:aws:s3:::{BUCKET}/Builds/a"), [policy]
                    ).decision == "implicitDeny"
    region_wild = _allow("ec2:*", "arn:aws:ec2:*:*:instance/*")
    assert evaluate(Request("ec2:RunInstances", "arn:aws:ec2:eu-west-1:1:instance/i-1"),
                    [region_wild]).decision == "allowed"
    assert evaluate(Request("ec2:RunInstances", "arn:aws:ec2:eu-west-1:1:volume/v:instance/x"),
                    [region_wild]).decision == "implicitDeny"


def test_evaluator_conditions_missing_keys_and_negation():
    listing = _allow("s3:ListBucket", "*", {"StringLike": {"s3:prefix": ["builds/", "builds/*"]}})
    ask = lambda **ctx: evaluate(Request("s3:ListBucket", "arn:aws:s3:::b", ctx), [listing])  # noqa: E731
    assert ask(**{"s3:prefix": ["builds/x"]}).decision == "allowed"
    assert ask(**{"S3:Prefix": ["builds/"]}).decision == "allowed"  # key names ignore case
    assert ask(**{"s3:prefix": [""]}).decision == "implicitDeny"
    assert ask().decision == "implicitDeny"  # a missing key makes the condition false
    negated = _allow("s3:*", "*", {"StringNotEquals": {"aws:username": ["a", "b"]}})
    assert evaluate(Request("s3:GetObject", "*"), [negated]).decision == "allowed"  # missing
    assert evaluate(Request("s3:GetObject", "*", {"aws:username": ["b"]}), [negated]
                    ).decision == "implicitDeny"  # not any of the values
    if_exists = _allow("s3:*", "*", {"StringEqualsIfExists": {"aws:username": "a"}})
    assert evaluate(Request("s3:GetObject", "*"), [if_exists]).decision == "allowed"
    null = _allow("s3:*", "*", {"Null": {"aws:username": "true"}})
    assert evaluate(Request("s3:GetObject", "*", {"aws:username": ["a"]}), [null]
                    ).decision == "implicitDeny"


def test_evaluator_boundary_must_also_allow_and_variables_resolve():
    own = _allow("s3:*", "arn:aws:s3:::b/${aws:username}/*")
    boundary = _allow("s3:GetObject", "*")
    request = Request("s3:GetObject", "arn:aws:s3:::b/ann/f", {"aws:username": ["ann"]})
    assert evaluate(request, [own], boundary).decision == "allowed"
    assert evaluate(Request("s3:PutObject", request.resource, request.context), [own],
                    boundary).decision == "implicitDeny"
    assert evaluate(Request("s3:GetObject", "arn:aws:s3:::b/bob/f", request.context), [own]
                    ).decision == "implicitDeny"
    assert evaluate(Request("s3:GetObject", request.resource), [own]).decision == "implicitDeny"


def test_evaluator_refuses_what_it_does_not_model():
    with pytest.raises(UnsupportedPolicy):
        evaluate(Request("s3:GetObject", "*"),
                 [_allow("s3:*", "*", {"StringMatchesRegex": {"aws:username": "a"}})])
    with pytest.raises(UnsupportedPolicy):
        evaluate(Request("s3:GetObject", "*"),
                 [Policy("p", {"Statement": [{"Effect": "Allow", "Action": "s3:*"}]})])
