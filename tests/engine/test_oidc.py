"""OIDC: who the trust policy lets in, and the provider and role steps on moto's IAM.

moto does not evaluate web-identity trust conditions (its AssumeRoleWithWebIdentity accepts any
token), so who gets in is proven with :func:`wizard.circleci.oidc.evaluate_trust`, which applies
IAM's rules (and STS's set of condition keys) to exactly the operators the wizard writes. moto
also lacks AddClientIDToOpenIDConnectProvider, so that one call is checked with botocore's Stubber.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.circleci.oidc import (
    PROJECT_ID_CLAIM,
    UNENFORCEABLE_CLAIMS,
    UnenforceableClaim,
    check_branch,
    check_circleci_id,
    claim_condition_keys,
    condition_key,
    evaluate_trust,
    issuer_host_for,
    issuer_url,
    project_trust_policy,
    provider_host,
    read_trust,
    restriction_advice,
    string_like,
    trust_diff,
    trust_policy_length,
    trust_policy_size_problem,
)
from circleci_s3_wizard.wizard.circleci.oidc_steps import project_ids
from circleci_s3_wizard.wizard.config import IAM_PATH
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent
from circleci_s3_wizard.wizard.errors import WizardError
from circleci_s3_wizard.wizard.model import Action
from circleci_s3_wizard.wizard.registry import info

ORG = "0f1b8e6c-8d0c-4bd3-9df2-2f4f3c9d1a11"
OTHER_ORG = "9e8d7c6b-5a49-4838-a726-151413121110"
PROJECT = "6a1b2c3d-4e5f-4789-abcd-ef0123456789"
OTHER_PROJECT = "7b2c3d4e-5f60-4890-bcde-f01234567890"
THIRD_PROJECT = "8c3d4e5f-6071-4901-8def-012345678901"
USER = "11111111-2222-4333-8444-555555555555"
PROVIDER_ARN = f"arn:aws:iam::123456789012:oidc-provider/oidc.circleci.com/org/{ORG}"
HOST = f"oidc.circleci.com/org/{ORG}"
_SAME = object()


def token(org=ORG, project=PROJECT, *, aud=None, ref=None, origin="github.com/acme/site",
          claimed_project=_SAME):
    """The claims of a CircleCI OIDC token; with ``ref``, the V2 form the aws-cli orb sends.

    ``claimed_project`` is the ``oidc.circleci.com/project-id`` claim (None leaves it out); it
    names ``project`` unless told otherwise.
    """
    sub = f"org/{org}/project/{project}/user/{USER}"
    if ref is not None:
        sub += f"/vcs-origin/{origin}/vcs-ref/{ref}"
    claims = {"iss": f"https://oidc.circleci.com/org/{org}", "aud": aud or org, "sub": sub,
              "oidc.circleci.com/vcs-origin": origin, "oidc.circleci.com/org-id": org}
    if ref is not None:
        claims["oidc.circleci.com/vcs-ref"] = ref
    pid = project if claimed_project is _SAME else claimed_project
    if pid is not None:
        claims[PROJECT_ID_CLAIM] = pid
    return claims


def sub_only_trust(provider_arn, project):
    """The trust an earlier wizard wrote, with no project-id condition (written out here, as
    such roles exist in accounts: the wizard no longer makes it)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{HOST}:aud": ORG},
                      "StringLike": {f"{HOST}:sub": f"org/{ORG}/project/{project}/user/*"}}}]}


def trust(*projects, branch=None):
    return project_trust_policy(PROVIDER_ARN, ORG, list(projects) or [PROJECT], branch)


# -- the document --------------------------------------------------------------------------------


def test_issuer_and_provider_names():
    assert issuer_url(ORG) == f"https://oidc.circleci.com/org/{ORG}"
    assert provider_host(ORG) == f"oidc.circleci.com/org/{ORG}"
    assert issuer_host_for("https://circleci.com") == "oidc.circleci.com"
    assert issuer_host_for(None) == "oidc.circleci.com"
    assert issuer_host_for("https://circleci.example.internal") == "circleci.example.internal"


def test_trust_requires_audience_project_id_key_and_sub():
    (statement,) = trust()["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": PROVIDER_ARN}
    assert statement["Condition"] == {
        "StringEquals": {f"{HOST}:aud": ORG, f"{HOST}:oidc.circleci.com/project-id": PROJECT},
        "StringLike": {f"{HOST}:sub": f"org/{ORG}/project/{PROJECT}/user/*"},
    }


def test_trust_with_a_branch_pins_the_v2_sub_and_guards_it():
    condition = trust(branch="main")["Statement"][0]["Condition"]
    assert condition["StringLike"] == {
        f"{HOST}:sub": f"org/{ORG}/project/{PROJECT}/user/*/vcs-origin/*/vcs-ref/refs/heads/main"}
    assert condition["StringNotLike"] == {f"{HOST}:sub": "*/vcs-ref/*/vcs-ref/*"}


def test_this_project_passes_with_either_token_version():
    assert evaluate_trust(trust(), token())
    assert evaluate_trust(trust(), token(ref="refs/heads/feature/x"))


def test_another_project_of_the_same_org_fails():
    assert not evaluate_trust(trust(), token(project=OTHER_PROJECT))


def test_a_sub_naming_this_project_with_another_project_id_claim_fails():
    assert not evaluate_trust(trust(), token(claimed_project=OTHER_PROJECT))
    assert not evaluate_trust(trust(), token(project=OTHER_PROJECT, claimed_project=PROJECT))
    # No claim at all: the key is absent, so StringEquals on it cannot hold.
    assert not evaluate_trust(trust(), token(claimed_project=None))


def test_another_audience_fails():
    assert not evaluate_trust(trust(), token(aud=OTHER_ORG))


def test_another_organisation_fails_even_with_the_same_project_id():
    assert not evaluate_trust(trust(), token(org=OTHER_ORG))
    forged = {**token(org=OTHER_ORG), "aud": ORG, "sub": token()["sub"]}
    assert not evaluate_trust(trust(), forged)  # right claims, but issued by another provider


def test_branch_pin_passes_only_that_branch():
    policy = trust(branch="main")
    assert evaluate_trust(policy, token(ref="refs/heads/main"))
    assert not evaluate_trust(policy, token(ref="refs/heads/develop"))
    assert not evaluate_trust(policy, token(ref="refs/heads/main-old"))
    assert not evaluate_trust(policy, token(ref="refs/tags/main"))
    assert not evaluate_trust(policy, token())  # V1 token: no ref, no proof of branch
    assert not evaluate_trust(policy, token(project=OTHER_PROJECT, ref="refs/heads/main"))
    assert not evaluate_trust(policy, token(ref="refs/heads/main", claimed_project=OTHER_PROJECT))


def test_a_branch_named_to_look_like_main_fails():
    policy = trust(branch="main")
    assert not evaluate_trust(policy, token(ref="refs/heads/x/vcs-ref/refs/heads/main"))
    spoof = "refs/heads/x/vcs-origin/a/vcs-ref/refs/heads/main"
    assert not evaluate_trust(policy, token(ref=spoof))



@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_./", min_size=1, max_size=40))
def test_no_other_branch_passes(branch):
    policy = trust(branch="main")
    assert evaluate_trust(policy, token(ref=f"refs/heads/{branch}")) == (branch == "main")


def test_branch_names_iam_would_misread_are_refused():
    assert check_branch("refs/heads/release/1.2") == "release/1.2"
    for bad in ("*", "rel?ase", "${aws:username}", "x/vcs-ref/y", ""):
        with pytest.raises(ValueError, match="cannot be used in a trust policy"):
            check_branch(bad)
    with pytest.raises(ValueError, match="cannot be used in a trust policy"):
        trust(branch="feature/*")


def test_ids_that_are_not_uuids_are_refused_with_where_to_find_them():
    with pytest.raises(ValueError, match="Project Settings > Overview"):
        project_trust_policy(PROVIDER_ARN, ORG, ["*"])
    with pytest.raises(ValueError, match="Organization Settings > Overview"):
        project_trust_policy(PROVIDER_ARN, "acme", [PROJECT])
    with pytest.raises(ValueError, match="at least one CircleCI project"):
        project_trust_policy(PROVIDER_ARN, ORG, [])
    assert check_circleci_id(PROJECT.upper(), "project") == PROJECT


def test_string_like_follows_iam_not_fnmatch():
    assert string_like("a/*", "a/b/c")
    assert string_like("a?c", "abc") and not string_like("a?c", "ac")
    assert string_like("[x]", "[x]") and not string_like("[x]", "x")
    assert not string_like("ABC", "abc")


# -- several projects on one role ----------------------------------------------------------------


def test_two_projects_on_one_role_each_pass_and_a_third_fails():
    policy = trust(PROJECT, OTHER_PROJECT)
    equals = policy["Statement"][0]["Condition"]["StringEquals"]
    assert equals[f"{HOST}:oidc.circleci.com/project-id"] == sorted([PROJECT, OTHER_PROJECT])
    assert evaluate_trust(policy, token())
    assert evaluate_trust(policy, token(project=OTHER_PROJECT))
    assert not evaluate_trust(policy, token(project=THIRD_PROJECT))
    # A listed sub with an unlisted project-id claim, and the other way round, both fail.
    assert not evaluate_trust(policy, token(claimed_project=THIRD_PROJECT))
    assert not evaluate_trust(policy, token(project=THIRD_PROJECT, claimed_project=PROJECT))


def test_two_projects_with_a_branch_pin_share_the_pin():
    policy = trust(PROJECT, OTHER_PROJECT, branch="main")
    for project in (PROJECT, OTHER_PROJECT):
        assert evaluate_trust(policy, token(project=project, ref="refs/heads/main"))
        assert not evaluate_trust(policy, token(project=project, ref="refs/heads/main-old"))
        assert not evaluate_trust(
            policy, token(project=project, ref="refs/heads/x/vcs-ref/refs/heads/main"))
    assert not evaluate_trust(policy, token(project=THIRD_PROJECT, ref="refs/heads/main"))


def test_the_same_projects_in_any_order_give_the_same_document():
    assert trust(OTHER_PROJECT, PROJECT, PROJECT) == trust(PROJECT, OTHER_PROJECT)
    assert not trust_diff(trust(OTHER_PROJECT, PROJECT), trust(PROJECT, OTHER_PROJECT)).changed


def test_adding_and_removing_a_project_changes_the_policy_and_the_diff_says_so():
    one, two = trust(PROJECT), trust(PROJECT, OTHER_PROJECT)
    assert one != two
    added = trust_diff(one, two)
    assert added.projects_added == (OTHER_PROJECT,) and added.projects_removed == ()
    assert added.lines({OTHER_PROJECT: "gh/acme/api"}) == [
        f"+ project gh/acme/api ({OTHER_PROJECT}) may assume the role"]
    removed = trust_diff(two, one)
    assert removed.projects_removed == (OTHER_PROJECT,)
    assert str(removed) == f"- project {OTHER_PROJECT} may no longer assume the role"


def test_the_diff_names_a_branch_change_and_the_new_project_id_condition():
    diff = trust_diff(trust(), trust(branch="main"))
    assert diff.branch_changed and diff.lines() == ["~ any branch -> branch main"]
    assert trust_diff(trust(branch="main"), trust(branch="release")).lines() == [
        "~ branch main -> branch release"]
    upgrade = trust_diff(sub_only_trust(PROVIDER_ARN, PROJECT), trust())
    assert upgrade.lines() == [
        "~ the token's oidc.circleci.com/project-id claim must now name the project"]
    new = trust_diff(None, trust(PROJECT, branch="main"))
    assert new.lines() == ["+ a new role, trusted on branch main",
                           f"+ project {PROJECT} may assume the role"]
    assert trust_diff(trust(), trust()).lines() == ["  no change to the trust policy"]


def test_the_diff_says_what_a_foreign_trust_loses():
    foreign = trust()
    foreign["Statement"][0]["Condition"]["StringEquals"][f"{HOST}:amr"] = "x"
    foreign["Statement"].append({"Sid": "Ops", "Effect": "Allow", "Action": "sts:AssumeRole",
                                 "Principal": {"AWS": "arn:aws:iam::123456789012:root"}})
    summary = read_trust(foreign)
    assert summary.project_ids == (PROJECT,) and summary.project_id_key
    assert summary.unrecognised == (f"StringEquals on {HOST}:amr",
                                    "a statement the wizard did not write (Ops)")
    lines = trust_diff(foreign, trust()).lines()
    assert f"~ StringEquals on {HOST}:amr (not written by the wizard) is dropped" in lines
    assert "~ a statement the wizard did not write (Ops) (not written by the wizard) is dropped" \
        in lines


# -- claims that are not condition keys ----------------------------------------------------------


@pytest.mark.parametrize("claim", ["vcs-ref", "vcs-origin", "context-ids", "org-id", "ssh-rerun"])
def test_claims_sts_does_not_expose_get_advice_not_a_condition(claim):
    advice = restriction_advice(claim)
    assert advice is not None and "is not an AWS STS condition key" in advice
    assert UNENFORCEABLE_CLAIMS[f"oidc.circleci.com/{claim}"] in advice
    with pytest.raises(UnenforceableClaim) as caught:
        condition_key(ORG, claim)
    assert caught.value.claim == f"oidc.circleci.com/{claim}"


def test_each_piece_of_advice_names_what_to_enforce_instead():
    assert "--circleci-branch" in restriction_advice("vcs-ref")
    assert "forked pull requests" in restriction_advice("vcs-origin")
    assert "project restriction" in restriction_advice("context-ids")
    assert "aud" in restriction_advice("org-id")
    assert "not job.ssh.enabled" in restriction_advice("ssh-rerun")
    assert "context restrictions" in restriction_advice("oidc.circleci.com/pipeline-id")


def test_a_condition_on_a_claim_sts_does_not_expose_never_matches():
    # Why the wizard refuses to write one: even a token that carries the claim is refused.
    policy = trust()
    policy["Statement"][0]["Condition"]["StringEquals"][
        f"{HOST}:oidc.circleci.com/vcs-ref"] = "refs/heads/main"
    assert token(ref="refs/heads/main")["oidc.circleci.com/vcs-ref"] == "refs/heads/main"
    assert not evaluate_trust(policy, token(ref="refs/heads/main"))


def test_keys_that_exist_are_built():
    assert condition_key(ORG, "aud") == f"{HOST}:aud"
    assert condition_key(ORG, "project-id") == f"{HOST}:oidc.circleci.com/project-id"
    assert restriction_advice("sub") is None and restriction_advice(PROJECT_ID_CLAIM) is None


def test_a_circleci_server_issuer_has_no_project_id_key():
    server = "circleci.example.internal"
    assert PROJECT_ID_CLAIM not in claim_condition_keys(server)
    assert "only for tokens from oidc.circleci.com" in restriction_advice("project-id", server)
    arn = f"arn:aws:iam::123456789012:oidc-provider/{server}/org/{ORG}"
    policy = project_trust_policy(arn, ORG, [PROJECT], issuer_host=server)
    equals = policy["Statement"][0]["Condition"]["StringEquals"]
    assert list(equals) == [f"{server}/org/{ORG}:aud"]
    claims = {**token(), "iss": f"https://{server}/org/{ORG}"}
    assert evaluate_trust(policy, claims)
    assert not evaluate_trust(policy, {**claims, "sub": token(project=OTHER_PROJECT)["sub"]})


# -- IAM semantics of the evaluator --------------------------------------------------------------


def test_listed_values_are_or_and_keys_and_operators_are_and():
    policy = trust(PROJECT, OTHER_PROJECT)
    condition = policy["Statement"][0]["Condition"]
    condition["StringEquals"][f"{HOST}:aud"] = [OTHER_ORG, ORG]  # OR within a key
    assert evaluate_trust(policy, token())
    condition["StringNotLike"] = {f"{HOST}:sub": f"*/project/{PROJECT}/*"}  # AND across operators
    assert not evaluate_trust(policy, token())
    assert evaluate_trust(policy, token(project=OTHER_PROJECT))


def test_a_matching_deny_wins_and_an_unknown_operator_raises():
    policy = trust()
    deny = json.loads(json.dumps(policy["Statement"][0]))
    deny.update(Effect="Deny", Sid="NoFeature", Condition={
        "StringLike": {f"{HOST}:sub": "*/vcs-ref/refs/heads/feature/*"}})
    policy["Statement"].append(deny)
    assert evaluate_trust(policy, token(ref="refs/heads/main"))
    assert not evaluate_trust(policy, token(ref="refs/heads/feature/x"))
    policy["Statement"][0]["Condition"] = {"ForAllValues:StringEquals": {f"{HOST}:aud": ORG}}
    with pytest.raises(ValueError, match="does not know the condition operator"):
        evaluate_trust(policy, token())


def test_the_trust_policy_size_sentence_names_the_length_and_the_quota():
    eight = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(8)]
    assert trust_policy_size_problem(trust(*eight, branch="main")) is None
    twelve = [f"{n:08x}-0000-4000-8000-000000000000" for n in range(12)]
    big = trust(*twelve, branch="main")
    problem = trust_policy_size_problem(big)
    assert problem is not None and str(trust_policy_length(big)) in problem
    assert "2048" in problem and "Role trust policy length" in problem
    assert trust_policy_size_problem(big, limit=4096) is None


# -- the steps on moto ---------------------------------------------------------------------------


def make_ctx(aws_session, circleci=None, **changes) -> RunContext:
    answers = {"bucket": "acme-builds", "auth": "oidc", "region": "us-east-1",
               "circleci_projects": [f"circleci/{ORG}/{PROJECT}"], **changes}
    return RunContext(build_config(answers).config, aws_session, circleci=circleci)


def plan(ctx, key):
    return Engine(ctx).plan_step(key)


def apply(ctx, key, *, consent=False):
    engine = Engine(ctx)
    return engine.apply_step(engine.plan_step(key), consent=consent)


def plan_destroy(ctx, key):
    return info(key).step().plan_destroy(ctx)


def destroy(ctx, key):
    step = info(key).step()
    return step.destroy(ctx, step.plan_destroy(ctx))


def make_policy(ctx):
    assert apply(ctx, "policy").action is Action.CREATE


def test_ids_come_from_a_circleci_slug_without_a_token(aws_session):
    ids = project_ids(make_ctx(aws_session))
    assert (ids.org_id, ids.project_ids, ids.issuer_host) == (ORG, (PROJECT,),
                                                              "oidc.circleci.com")


def test_a_gh_slug_without_a_token_is_blocked_with_advice(aws_session):
    ctx = make_ctx(aws_session, circleci_projects=["gh/acme/site"])
    for key in ("oidc_provider", "oidc_role"):
        check = plan(ctx, key)
        assert check.action is Action.BLOCKED
        assert "CIRCLE_TOKEN" in check.detail and "circleci/<organization-id>" in check.detail


def test_ids_come_from_the_api_with_a_token(aws_session, circleci_standin):
    project = circleci_standin.add_project("gh/acme/site")
    with circleci_standin.client() as client:
        ctx = make_ctx(aws_session, client, circleci_projects=["gh/acme/site"])
        ids = project_ids(ctx)
        project_ids(ctx)
    assert (ids.org_id, ids.project_ids) == (project["organization_id"], (project["id"],))
    assert len(circleci_standin.requests) == 1


def test_projects_of_two_organisations_are_refused(aws_session):
    ctx = make_ctx(aws_session, circleci_projects=[f"circleci/{ORG}/{PROJECT}",
                                                   f"circleci/{OTHER_ORG}/{OTHER_PROJECT}"])
    check = plan(ctx, "oidc_role")
    assert check.action is Action.BLOCKED and "different CircleCI organisations" in check.detail


def test_provider_and_role_are_created_tagged_and_idempotent(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    iam = ctx.client("iam")
    assert plan(ctx, "oidc_provider").action is Action.CREATE
    assert plan(ctx, "oidc_role").action is Action.CREATE

    made = apply(ctx, "oidc_provider")
    arn = made.outputs["provider_arn"]
    assert arn == ctx.iam_arn("oidc-provider", f"oidc.circleci.com/org/{ORG}")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert got["ClientIDList"] == [ORG]
    assert not got.get("ThumbprintList")  # optional since 2024: AWS checks the issuer itself
    tags = iam.list_open_id_connect_provider_tags(OpenIDConnectProviderArn=arn)["Tags"]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in tags

    result = apply(ctx, "oidc_role")
    assert result.action is Action.CREATE
    assert result.outputs["role_arn"] == ctx.iam_arn("role", "circleci_s3_builds", IAM_PATH)
    stored = iam.get_role(RoleName="circleci_s3_builds")["Role"]
    assert stored["Path"] == IAM_PATH
    assert stored["AssumeRolePolicyDocument"] == project_trust_policy(arn, ORG, [PROJECT])
    attached = iam.list_attached_role_policies(RoleName="circleci_s3_builds")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        ctx.iam_arn("policy", ctx.config.policy_name, IAM_PATH)
    ]
    doc = stored["AssumeRolePolicyDocument"]
    assert evaluate_trust(doc, token())
    assert not evaluate_trust(doc, token(project=OTHER_PROJECT))
    assert not evaluate_trust(doc, token(claimed_project=OTHER_PROJECT))  # sub and claim differ

    again = make_ctx(aws_session)
    assert plan(again, "oidc_provider").action is Action.EXISTS
    assert plan(again, "oidc_role").action is Action.EXISTS
    assert apply(again, "oidc_role").action is Action.EXISTS
    assert len(iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]) == 1


def test_several_projects_share_one_role_and_adding_one_is_a_shown_update(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    apply(ctx, "oidc_provider")
    apply(ctx, "oidc_role")
    both = make_ctx(aws_session, circleci_projects=[f"circleci/{ORG}/{PROJECT}",
                                                    f"circleci/{ORG}/{OTHER_PROJECT}"])
    check = plan(both, "oidc_role")
    assert check.action is Action.UPDATE
    assert any(line.startswith("+ project") and OTHER_PROJECT in line
               for line in check.differences)
    with pytest.raises(NeedsConsent):
        apply(both, "oidc_role")
    apply(both, "oidc_role", consent=True)
    doc = ctx.client("iam").get_role(RoleName="circleci_s3_builds")["Role"][
        "AssumeRolePolicyDocument"]
    assert evaluate_trust(doc, token()) and evaluate_trust(doc, token(project=OTHER_PROJECT))
    assert not evaluate_trust(doc, token(project=THIRD_PROJECT))

    removed = plan(make_ctx(aws_session), "oidc_role")
    assert removed.action is Action.UPDATE
    assert any(line.startswith("- project") and OTHER_PROJECT in line
               for line in removed.differences)


def test_a_provider_made_elsewhere_is_reused_and_kept(aws_session):
    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    arn = iam.create_open_id_connect_provider(Url=issuer_url(ORG), ClientIDList=[ORG])[
        "OpenIDConnectProviderArn"]
    check = plan(ctx, "oidc_provider")
    assert check.action is Action.EXISTS and "made outside the wizard" in check.detail
    assert apply(ctx, "oidc_provider").outputs["provider_arn"] == arn
    assert plan_destroy(ctx, "oidc_provider").action is Action.KEEP
    assert destroy(ctx, "oidc_provider").action is Action.KEEP
    assert iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)["ClientIDList"] == [ORG]


def test_a_provider_without_our_audience_is_an_update(aws_session):
    from botocore.stub import Stubber

    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    arn = iam.create_open_id_connect_provider(
        Url=issuer_url(ORG), ClientIDList=["sts.amazonaws.com"]
    )["OpenIDConnectProviderArn"]
    check = plan(ctx, "oidc_provider")
    assert check.action is Action.UPDATE and any(ORG in d for d in check.differences)
    with pytest.raises(NeedsConsent):
        Engine(ctx).apply_step(check)
    # moto lacks AddClientIDToOpenIDConnectProvider: prove the exact call with a Stubber.
    with Stubber(iam) as stub:
        stub.add_response("add_client_id_to_open_id_connect_provider", {},
                          {"OpenIDConnectProviderArn": arn, "ClientID": ORG})
        result = Engine(ctx).apply_step(check, consent=True)
        stub.assert_no_pending_responses()
    assert result.action is Action.UPDATE


def test_role_with_another_trust_is_updated_only_with_consent(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    apply(ctx, "oidc_provider")
    apply(ctx, "oidc_role")
    branch_ctx = make_ctx(aws_session, circleci_branch="main")
    check = plan(branch_ctx, "oidc_role")
    assert check.action is Action.UPDATE and "branch main" in check.detail
    assert any("branch" in d for d in check.differences)
    with pytest.raises(NeedsConsent):
        Engine(branch_ctx).apply_step(check)
    assert Engine(branch_ctx).apply_step(check, consent=True).action is Action.UPDATE
    stored = ctx.client("iam").get_role(RoleName="circleci_s3_builds")["Role"]
    doc = stored["AssumeRolePolicyDocument"]
    assert evaluate_trust(doc, token(ref="refs/heads/main"))
    assert not evaluate_trust(doc, token(ref="refs/heads/develop"))
    assert plan(make_ctx(aws_session, circleci_branch="main"), "oidc_role").action is \
        Action.EXISTS


def test_a_role_not_made_by_the_wizard_is_a_conflict_and_kept(aws_session):
    ctx = make_ctx(aws_session)
    iam = ctx.client("iam")
    iam.create_role(RoleName="circleci_s3_builds", AssumeRolePolicyDocument=json.dumps(
        sub_only_trust(PROVIDER_ARN, PROJECT)))
    check = plan(ctx, "oidc_role")
    assert check.action is Action.CONFLICT
    with pytest.raises(WizardError):
        Engine(ctx).apply_step(check)
    assert destroy(ctx, "oidc_role").action is Action.KEEP
    assert iam.get_role(RoleName="circleci_s3_builds")["Role"]["Path"] == "/"


def test_undo_removes_role_then_provider_but_keeps_a_provider_others_trust(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    iam = ctx.client("iam")
    arn = apply(ctx, "oidc_provider").outputs["provider_arn"]
    apply(ctx, "oidc_role")
    iam.create_role(RoleName="someone-elses", AssumeRolePolicyDocument=json.dumps(
        sub_only_trust(arn, OTHER_PROJECT)))

    assert plan_destroy(ctx, "oidc_provider").action is Action.KEEP  # someone-elses trusts it
    assert plan_destroy(ctx, "oidc_role").action is Action.DELETE
    assert destroy(ctx, "oidc_role").action is Action.DELETE
    kept = destroy(ctx, "oidc_provider")
    assert kept.action is Action.KEEP and "someone-elses" in kept.detail
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": arn}]

    iam.delete_role(RoleName="someone-elses")
    fresh = make_ctx(aws_session)
    assert plan_destroy(fresh, "oidc_provider").action is Action.DELETE
    assert destroy(fresh, "oidc_provider").action is Action.DELETE
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    names = [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert "circleci_s3_builds" not in names
    again = make_ctx(aws_session)
    assert destroy(again, "oidc_role").action is Action.ABSENT
    assert destroy(again, "oidc_provider").action is Action.ABSENT


def test_plan_destroy_predicts_the_provider_goes_after_our_role(aws_session):
    ctx = make_ctx(aws_session)
    make_policy(ctx)
    apply(ctx, "oidc_provider")
    apply(ctx, "oidc_role")
    # Our own role still trusts it now, but destroy removes that role first.
    assert plan_destroy(make_ctx(aws_session), "oidc_provider").action is Action.DELETE
