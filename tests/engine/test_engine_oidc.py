"""The whole engine in OIDC mode: no user, no key; a role only this project's jobs can assume."""

from __future__ import annotations

import pytest

from circleci_s3_wizard.wizard.circleci.oidc import evaluate_trust
from circleci_s3_wizard.wizard.config import IAM_PATH, AuthMode
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent, PlanRefused
from circleci_s3_wizard.wizard.model import Action
from tests.fixtures.engine import CallLog, actions, run_apply, run_destroy

SLUG = "gh/acme/app"


@pytest.fixture
def oidc_ctx(make_ctx, circleci_standin):
    project = circleci_standin.add_project(SLUG)
    clients = []

    def make(**answers):
        ctx = make_ctx(auth=AuthMode.OIDC, circleci_project=SLUG, **answers)
        client = circleci_standin.client()
        clients.append(client)
        ctx.circleci = client
        return ctx

    make.project = project
    yield make
    for client in clients:
        client.close()


def test_oidc_apply_makes_a_role_and_no_long_lived_key(oidc_ctx, aws_session, circleci_standin):
    report = run_apply(oidc_ctx(create_bucket=True))
    by_key = actions(report)
    assert "group" not in by_key and "user" not in by_key and "access_key" not in by_key
    assert by_key["oidc_provider"] is by_key["oidc_role"] is Action.CREATE

    iam = aws_session.client("iam")
    assert iam.list_users()["Users"] == [] and iam.list_groups()["Groups"] == []
    role = iam.get_role(RoleName="circleci_s3_builds")["Role"]
    assert role["Path"] == IAM_PATH
    attached = iam.list_attached_role_policies(RoleName="circleci_s3_builds")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["s3_full_access_devops_builds"]
    assert circleci_standin.env(SLUG)["AWS_ROLE_ARN"] == role["Arn"]

    org, pid = oidc_ctx.project["organization_id"], oidc_ctx.project["id"]
    trust = role["AssumeRolePolicyDocument"]
    issuer = circleci_standin.url.removeprefix("http://")
    good = {"iss": f"https://{issuer}/org/{org}", "aud": org,
            "sub": f"org/{org}/project/{pid}/user/0b7ef8a9-4b2c-4f38-9a3c-1d2e3f405162"}
    assert evaluate_trust(trust, good)
    assert not evaluate_trust(trust, {**good, "aud": "another-org"})
    assert not evaluate_trust(trust, {**good, "sub": good["sub"].replace(pid, "other-project")})


def test_oidc_second_apply_changes_nothing(oidc_ctx, circleci_standin):
    run_apply(oidc_ctx(create_bucket=True))
    writes_before = len([r for r in circleci_standin.requests if r[0] != "GET"])
    ctx = oidc_ctx()
    log = CallLog().attach(ctx)
    report = run_apply(ctx)
    assert set(actions(report).values()) <= {Action.EXISTS, Action.SKIP}
    assert log.mutating == []
    assert len([r for r in circleci_standin.requests if r[0] != "GET"]) == writes_before


def test_oidc_destroy_leaves_a_keys_setup_alone(oidc_ctx, make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True, policy_name="keys_policy"))
    run_apply(oidc_ctx())
    run_destroy(oidc_ctx())
    iam = aws_session.client("iam")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["circleci_service"]
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["circleci_devops"]
    assert "circleci_s3_builds" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


# -- the provider ---------------------------------------------------------------------------------


def _issuer(standin, org_id: str) -> str:
    """The stand-in is not circleci.com, so its OIDC issuer is its own host (a server install)."""
    return f"https://{standin.url.removeprefix('http://')}/org/{org_id}"


def test_the_provider_is_made_without_a_thumbprint(oidc_ctx, aws_session):
    report = run_apply(oidc_ctx(create_bucket=True))
    arn = report.outputs["provider_arn"]
    provider = aws_session.client("iam").get_open_id_connect_provider(
        OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == [oidc_ctx.project["organization_id"]]
    assert not provider.get("ThumbprintList")


def test_an_existing_provider_for_the_issuer_is_reused_with_its_thumbprint(
        oidc_ctx, aws_session, circleci_standin):
    org_id = oidc_ctx.project["organization_id"]
    iam = aws_session.client("iam")
    theirs = iam.create_open_id_connect_provider(
        Url=_issuer(circleci_standin, org_id), ClientIDList=[org_id],
        ThumbprintList=["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"])["OpenIDConnectProviderArn"]
    plan = Engine(oidc_ctx(create_bucket=True)).plan()
    assert plan.step("oidc_provider").action is Action.EXISTS
    assert "made outside the wizard" in plan.step("oidc_provider").detail
    run_apply(oidc_ctx(create_bucket=True))
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": theirs}]
    trust = iam.get_role(RoleName="circleci_s3_builds")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Federated": theirs}
    kept = run_destroy(oidc_ctx())
    assert kept.result("oidc_provider").action is Action.KEEP
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == [{"Arn": theirs}]


def test_a_provider_lacking_the_audience_makes_the_whole_apply_ask_first(
        oidc_ctx, aws_session, circleci_standin):
    org_id = oidc_ctx.project["organization_id"]
    iam = aws_session.client("iam")
    iam.create_open_id_connect_provider(Url=_issuer(circleci_standin, org_id),
                                        ClientIDList=["sts.amazonaws.com"])
    plan = Engine(oidc_ctx(create_bucket=True)).plan()
    step = plan.step("oidc_provider")
    assert step.action is Action.UPDATE
    assert step.differences == (f"audience {org_id} is missing from its client id list",)
    assert step.calls == ("iam:AddClientIDToOpenIDConnectProvider",)
    with pytest.raises(NeedsConsent):
        run_apply(oidc_ctx(create_bucket=True))
    assert "circleci_s3_builds" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]
    # moto has no AddClientIDToOpenIDConnectProvider: the consented call itself is proven with
    # botocore's Stubber in tests/engine/test_oidc.py.


# -- the session duration -------------------------------------------------------------------------


def test_a_session_longer_than_the_new_roles_maximum_is_refused_in_the_plan(oidc_ctx,
                                                                           aws_session):
    plan = Engine(oidc_ctx(create_bucket=True, session_duration=7200)).plan()
    role = plan.step("oidc_role")
    assert role.action is Action.BLOCKED
    assert "--session-duration 7200" in role.detail
    assert "7200 seconds is longer than the role's MaxSessionDuration of 3600" in role.detail
    with pytest.raises(PlanRefused):
        run_apply(oidc_ctx(create_bucket=True, session_duration=7200))
    assert aws_session.client("iam").list_roles()["Roles"] == []


def test_an_existing_roles_maximum_is_read_and_reaches_the_snippet(oidc_ctx, aws_session):
    import yaml

    from circleci_s3_wizard.wizard.circleci.config_snippet import config_yml
    from circleci_s3_wizard.wizard.circleci.oidc_steps import max_session_duration

    first = run_apply(oidc_ctx(create_bucket=True))
    assert first.result("oidc_role").outputs["max_session_duration"] == 3600
    iam = aws_session.client("iam")
    iam.update_role(RoleName="circleci_s3_builds", MaxSessionDuration=7200)

    ctx = oidc_ctx(session_duration=7200)
    plan = Engine(ctx).plan()
    assert plan.step("oidc_role").action is Action.EXISTS
    assert "sessions last 7200 seconds (the role allows up to 7200)" in \
        plan.step("oidc_role").detail
    arn = iam.get_role(RoleName="circleci_s3_builds")["Role"]["Arn"]
    snippet = yaml.safe_load(config_yml(ctx.config, arn,
                                        max_session_duration=max_session_duration(ctx)))
    setup = snippet["jobs"]["upload"]["steps"][1]["aws-cli/setup"]
    assert setup["session_duration"] == "7200" and setup["role_session_name"] == "${CIRCLE_JOB}"

    longer = Engine(oidc_ctx(session_duration=10800)).plan().step("oidc_role")
    assert longer.action is Action.BLOCKED
    assert "10800" in longer.detail and "MaxSessionDuration of 7200" in longer.detail


def test_a_trust_policy_longer_than_iams_quota_is_refused_before_any_write(make_ctx,
                                                                          aws_session):
    """Twelve projects on one role on a branch: about 2.3k characters of trust, past IAM's
    default 2048; IAM would refuse the role only after the provider and policy were made."""
    org = "6f6a1d2e-0000-4000-8000-000000000000"
    projects = [f"circleci/{org}/{n:08x}-0000-4000-8000-000000000000" for n in range(12)]
    ctx = make_ctx(auth=AuthMode.OIDC, circleci_projects=projects, circleci_branch="main",
                   create_bucket=True)
    role = Engine(ctx).plan().step("oidc_role")
    assert role.action is Action.BLOCKED
    assert "more than the 2048 IAM allows for a role trust policy" in role.detail
    assert "Role trust policy length" in role.detail
    with pytest.raises(PlanRefused):
        run_apply(make_ctx(auth=AuthMode.OIDC, circleci_projects=projects,
                           circleci_branch="main", create_bucket=True))
    iam = aws_session.client("iam")
    assert iam.list_roles()["Roles"] == []
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert aws_session.client("s3").list_buckets()["Buckets"] == []


def test_eight_projects_on_a_branch_fit_the_quota(make_ctx):
    org = "6f6a1d2e-0000-4000-8000-000000000000"
    projects = [f"circleci/{org}/{n:08x}-0000-4000-8000-000000000000" for n in range(8)]
    ctx = make_ctx(auth=AuthMode.OIDC, circleci_projects=projects, circleci_branch="main",
                   create_bucket=True)
    assert Engine(ctx).plan().step("oidc_role").action is Action.CREATE
