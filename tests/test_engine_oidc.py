"""The whole engine in OIDC mode: no user, no key; a role only this project's jobs can assume."""

from __future__ import annotations

import pytest

from tests.fixtures.engine import CallLog, actions, run_apply, run_destroy
from wizard.circleci.oidc import evaluate_trust
from wizard.config import IAM_PATH, AuthMode
from wizard.model import Action

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
