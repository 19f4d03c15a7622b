"""OIDC: who the trust policy lets in, and the provider and role steps on moto's IAM.

moto does not evaluate web-identity trust conditions (its AssumeRoleWithWebIdentity accepts any
token), so who gets in is proven with :func:`wizard.circleci.oidc.evaluate_trust`, which applies
IAM's rules to exactly the operators the wizard writes. moto also lacks
AddClientIDToOpenIDConnectProvider, so that one call is checked with botocore's Stubber.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wizard.circleci.oidc import (
    check_branch,
    evaluate_trust,
    issuer_host_for,
    issuer_url,
    provider_host,
    string_like,
    trust_policy,
)
from wizard.circleci.oidc_steps import OidcProviderStep, OidcRoleStep, project_ids
from wizard.config import IAM_PATH, AuthMode, SetupConfig
from wizard.context import RunContext
from wizard.errors import ConflictError
from wizard.steps.base import Action

ORG = "0f1b8e6c-8d0c-4bd3-9df2-2f4f3c9d1a11"
OTHER_ORG = "9e8d7c6b-5a49-4838-a726-151413121110"
PROJECT = "6a1b2c3d-4e5f-4789-abcd-ef0123456789"
OTHER_PROJECT = "7b2c3d4e-5f60-4890-bcde-f01234567890"
USER = "11111111-2222-4333-8444-555555555555"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/{ORG}"


def token(org=ORG, project=PROJECT, *, aud=None, ref=None, origin="github.com/acme/site"):
    """The claims of a CircleCI OIDC token; with ``ref``, the V2 form the aws-cli orb sends."""
    sub = f"org/{org}/project/{project}/user/{USER}"
    if ref is not None:
        sub += f"/vcs-origin/{origin}/vcs-ref/{ref}"
    return {"iss": f"https://oidc.circleci.com/org/{org}", "aud": aud or org, "sub": sub}


# -- the document --------------------------------------------------------------------------------


def test_issuer_and_provider_names():
    assert issuer_url(ORG) == f"https://oidc.circleci.com/org/{ORG}"
    assert provider_host(ORG) == f"oidc.circleci.com/org/{ORG}"
    assert issuer_host_for("https://circleci.com") == "oidc.circleci.com"
    assert issuer_host_for(None) == "oidc.circleci.com"
    assert issuer_host_for("https://circleci.example.internal") == "circleci.example.internal"


def test_trust_policy_allows_one_action_for_one_provider_with_aud_and_sub():
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT)
    (statement,) = policy["Statement"]
    host = f"oidc.circleci.com/org/{ORG}"
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Condition"] == {
        "StringEquals": {f"{host}:aud": ORG},
        "StringLike": {f"{host}:sub": f"org/{ORG}/project/{PROJECT}/user/*"},
    }


def test_right_project_passes_with_either_token_version():
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT)
    assert evaluate_trust(policy, token())
    assert evaluate_trust(policy, token(ref="refs/heads/feature/x"))


def test_another_project_of_the_same_org_fails():
    assert not evaluate_trust(trust_policy(PROVIDER_ARN, ORG, PROJECT),
                              token(project=OTHER_PROJECT))


def test_another_audience_fails():
    assert not evaluate_trust(trust_policy(PROVIDER_ARN, ORG, PROJECT), token(aud=OTHER_ORG))


def test_another_organisation_fails_even_with_the_same_project_id():
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT)
    assert not evaluate_trust(policy, token(org=OTHER_ORG))
    forged = {**token(org=OTHER_ORG), "aud": ORG, "sub": token()["sub"]}
    assert not evaluate_trust(policy, forged)  # right claims, but issued by another provider


def test_branch_restriction_passes_only_that_branch():
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT, branch="main")
    assert evaluate_trust(policy, token(ref="refs/heads/main"))
    assert not evaluate_trust(policy, token(ref="refs/heads/develop"))
    assert not evaluate_trust(policy, token(ref="refs/heads/main-old"))
    assert not evaluate_trust(policy, token(ref="refs/tags/main"))
    assert not evaluate_trust(policy, token())  # V1 token: no ref, no proof of branch
    assert not evaluate_trust(policy, token(project=OTHER_PROJECT, ref="refs/heads/main"))


def test_a_branch_named_to_look_like_main_fails():
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT, branch="main")
    assert not evaluate_trust(policy, token(ref="refs/heads/evil/vcs-ref/refs/heads/main"))
    spoof = "refs/heads/x/vcs-origin/a/vcs-ref/refs/heads/main"
    assert not evaluate_trust(policy, token(ref=spoof))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./", min_size=1, max_size=40))
def test_no_other_branch_passes(branch):
    policy = trust_policy(PROVIDER_ARN, ORG, PROJECT, branch="main")
    assert evaluate_trust(policy, token(ref=f"refs/heads/{branch}")) == (branch == "main")


def test_branch_names_iam_would_misread_are_refused():
    assert check_branch("refs/heads/release/1.2") == "release/1.2"
    for bad in ("*", "rel?ase", "${aws:username}", "x/vcs-ref/y", ""):
        with pytest.raises(ValueError, match="cannot be used in a trust policy"):
            check_branch(bad)


def test_string_like_follows_iam_not_fnmatch():
    assert string_like("a/*", "a/b/c")
    assert string_like("a?c", "abc") and not string_like("a?c", "ac")
    assert string_like("[x]", "[x]") and not string_like("[x]", "x")
    assert not string_like("ABC", "abc")


# -- the steps on moto ---------------------------------------------------------------------------


def make_ctx(aws_session, circleci=None, **changes) -> RunContext:
    config = SetupConfig(
        bucket="acme-builds",
        auth=AuthMode.OIDC,
        circleci_project=f"circleci/{ORG}/{PROJECT}",
        region="us-east-1",
    ).with_changes(**changes)
    return RunContext(config, aws_session, circleci=circleci)


def make_policy(ctx):
    from wizard.steps.policy_step import PolicyStep

    assert PolicyStep().apply(ctx).action is Action.CREATE


def test_ids_come_from_a_circleci_slug_without_a_token(aws_session):
    ids = project_ids(make_ctx(aws_session))
    assert (ids.org_id, ids.project_id, ids.issuer_host) == (ORG, PROJECT, "oidc.circleci.com")


def test_a_gh_slug_without_a_token_is_blocked_with_advice(aws_session):
    ctx = make_ctx(aws_session, circleci_project="gh/acme/site")
    for step in (OidcProviderStep(), OidcRoleStep()):
        check = step.check(ctx)
        assert check.action is Action.BLOCKED
        assert "CIRCLE_TOKEN" in check.detail and "circleci/<organization-id>" in check.detail


def test_ids_come_from_the_api_with_a_token(aws_session, circleci_standin):
    project = circleci_standin.add_project("gh/acme/site")
    with circleci_standin.client() as client:
        ctx = make_ctx(aws_session, client, circleci_project="gh/acme/site")
        ids = project_ids(ctx)
        project_ids(ctx)
    assert (ids.org_id, ids.project_id) == (project["organization_id"], project["id"])
    assert len(circleci_standin.requests) == 1


def test_provider_and_role_are_created_tagged_and_idempotent(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    iam = ctx.client("iam")
    provider, role = OidcProviderStep(), OidcRoleStep()
    assert provider.check(ctx).action is Action.CREATE
    assert role.check(ctx).action is Action.CREATE

    made = provider.apply(ctx)
    arn = made.outputs["provider_arn"]
    assert arn == ctx.iam_arn("oidc-provider", f"oidc.circleci.com/org/{ORG}")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == [ORG]
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in tags

    result = role.apply(ctx)
    assert result.action is Action.CREATE
    assert result.outputs["role_arn"] == ctx.iam_arn("role", "circleci_s3_builds", IAM_PATH)
    stored = iam.get_role(RoleName="circleci_s3_builds")["Role"]
    assert stored["Path"] == IAM_PATH
    assert stored["AssumeRolePolicyDocument"] == trust_policy(arn, ORG, PROJECT)
    attached = iam.list_attached_role_policies(RoleName="circleci_s3_builds")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        ctx.iam_arn("policy", ctx.config.policy_name, IAM_PATH)
    ]
    assert evaluate_trust(stored["AssumeRolePolicyDocument"], token())
    assert not evaluate_trust(stored["AssumeRolePolicyDocument"], token(project=OTHER_PROJECT))

    assert provider.check(ctx).action is Action.EXISTS
    assert role.check(ctx).action is Action.EXISTS
    assert role.apply(ctx).action is Action.EXISTS
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_keys_mode_skips_both(aws_session):
    ctx = make_ctx(aws_session, auth=AuthMode.KEYS)
    assert OidcProviderStep().check(ctx).action is Action.SKIP
    assert OidcRoleStep().check(ctx).action is Action.SKIP


def test_a_provider_made_elsewhere_is_reused_and_kept(aws_session):
    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    arn = iam.create_open_id_connect_provider(Url=issuer_url(ORG), ClientIDList=[ORG])[
        "OpenIDConnectProviderArn"]
    step = OidcProviderStep()
    check = step.check(ctx)
    assert check.action is Action.EXISTS and "made outside the wizard" in check.detail
    assert step.apply(ctx).outputs["provider_arn"] == arn
    assert step.plan_destroy(ctx).action is Action.KEEP
    assert step.undo(ctx).action is Action.KEEP
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [ORG]


def test_a_provider_without_our_audience_is_an_update(aws_session):
    from botocore.stub import Stubber

    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url=issuer_url(ORG), ClientIDList=["sts.amazonaws.com"]
    )["OpenIDConnectProviderArn"]
    step = OidcProviderStep()
    check = step.check(ctx)
    assert check.action is Action.UPDATE and ORG in check.difference
    with pytest.raises(ConflictError):
        step.apply(ctx)
    current = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    # moto lacks AddClientIDToOpenIDConnectProvider: prove the exact call with a Stubber.
    with Stubber(iam) as stub:
        stub.add_response("get_open_id_connect_provider", current,
                          {"OpenIDConnectProviderArn": arn})
        stub.add_response("add_client_id_to_open_id_connect_provider", {},
                          {"OpenIDConnectProviderArn": arn, "ClientID": ORG})
        result = step.apply(ctx, allow_update=True)
        stub.assert_no_pending_responses()
    assert result.action is Action.UPDATE


def test_role_with_another_trust_is_updated_only_with_consent(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    OidcProviderStep().apply(ctx)
    role = OidcRoleStep()
    role.apply(ctx)
    branch_ctx = make_ctx(aws_session, circleci_branch="main")
    check = role.check(branch_ctx)
    assert check.action is Action.UPDATE and "branch main" in check.detail
    with pytest.raises(ConflictError):
        role.apply(branch_ctx)
    assert role.apply(branch_ctx, allow_update=True).action is Action.UPDATE
    stored = ctx.client("iam").get_role(RoleName="circleci_s3_builds")["Role"]
    doc = stored["AssumeRolePolicyDocument"]
    assert evaluate_trust(doc, token(ref="refs/heads/main"))
    assert not evaluate_trust(doc, token(ref="refs/heads/develop"))
    assert role.check(branch_ctx).action is Action.EXISTS


def test_a_role_not_made_by_the_wizard_is_a_conflict_and_kept(aws_session):
    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    iam.create_role(RoleName="circleci_s3_builds", AssumeRolePolicyDocument=json.dumps(
        trust_policy(PROVIDER_ARN, ORG, PROJECT)))
    role = OidcRoleStep()
    assert role.check(ctx).action is Action.CONFLICT
    with pytest.raises(ConflictError):
        role.apply(ctx)
    assert role.undo(ctx).action is Action.KEEP
    assert iam.get_role(RoleName="circleci_s3_builds")["Role"]["Path"] == "/"


def test_undo_removes_role_then_provider_but_keeps_a_provider_others_trust(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    iam = ctx.client("iam")
    provider, role = OidcProviderStep(), OidcRoleStep()
    arn = provider.apply(ctx).outputs["provider_arn"]
    role.apply(ctx)
    iam.create_role(RoleName="someone-elses", AssumeRolePolicyDocument=json.dumps(
        trust_policy(arn, ORG, OTHER_PROJECT)))

    assert provider.plan_destroy(ctx).action is Action.KEEP  # someone-elses still trusts it
    assert role.plan_destroy(ctx).action is Action.DELETE
    assert role.undo(ctx).action is Action.DELETE
    kept = provider.undo(ctx)
    assert kept.action is Action.KEEP and "someone-elses" in kept.detail
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]

    iam.delete_role(RoleName="someone-elses")
    assert provider.plan_destroy(ctx).action is Action.DELETE
    assert provider.undo(ctx).action is Action.DELETE
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert "circleci_s3_builds" not in names
    assert role.undo(ctx).action is Action.ABSENT
    assert provider.undo(ctx).action is Action.ABSENT


def test_plan_destroy_predicts_the_provider_goes_after_our_role(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    OidcProviderStep().apply(ctx)
    OidcRoleStep().apply(ctx)
    # Our own role still trusts it now, but destroy removes that role first.
    assert OidcProviderStep().plan_destroy(ctx).action is Action.DELETE

