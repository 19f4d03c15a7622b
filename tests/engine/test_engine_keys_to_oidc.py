"""Moving a keys setup to OIDC leaves no key behind, and touches only the wizard's own key.

A keys setup is applied for real (moto's IAM, the GNOME Keyring, the CircleCI stand-in), then the
same project is applied with ``--auth oidc``. What is asserted is what is left where: CircleCI's
variables, IAM's access keys, the keyring entry, the user and group, in the order the brief asks
(CircleCI first, then IAM, then the keyring).
"""

from __future__ import annotations

import pytest

from circleci_s3_wizard.wizard.circleci.reads import CONTEXT_MARKER
from circleci_s3_wizard.wizard.config import AuthMode
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent
from circleci_s3_wizard.wizard.model import Action
from tests.fixtures.engine import CallLog, actions, run_apply, run_destroy

APP, OTHER = "gh/acme/app", "gh/acme/other"
USER = "circleci_service"


@pytest.fixture
def org(circleci_standin):
    first = circleci_standin.add_project(APP)
    return {APP: first, OTHER: circleci_standin.add_project(
        OTHER, org_id=first["organization_id"])}


@pytest.fixture
def ci_ctx(make_ctx, circleci_standin, org):
    clients = []

    def make(project: str = APP, **answers):
        ctx = make_ctx(circleci_projects=[project], **answers)
        ctx.circleci = circleci_standin.client()
        clients.append(ctx.circleci)
        return ctx

    yield make
    for client in clients:
        client.close()


def iam_keys(aws_session) -> list[dict]:
    return aws_session.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]


def test_the_move_says_everything_first_then_removes_the_wizards_key_everywhere(
        ci_ctx, circleci_standin, aws_session, secret_store):
    assert run_apply(ci_ctx(create_bucket=True)).ok
    key_id = secret_store.load_access_key(USER).access_key_id
    assert circleci_standin.env(APP)["AWS_ACCESS_KEY_ID"] == key_id

    plan = Engine(ci_ctx(auth=AuthMode.OIDC)).plan()
    move = plan.step("retire_keys")
    assert move.action is Action.UPDATE
    assert move.differences == (
        f"- delete AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from project {APP}",
        f"- deactivate, then delete access key {key_id} of {USER} (the user stays)",
        f"- delete the keyring entry of {USER} (access key {key_id})",
    )
    assert "aws-cli orb uses static keys whenever it finds them" in move.detail
    assert "IAM user and group stay" in move.detail
    assert move.calls == ("DELETE /project/{slug}/envvar/{name}", "iam:UpdateAccessKey",
                          "iam:DeleteAccessKey")

    with pytest.raises(NeedsConsent):
        run_apply(ci_ctx(auth=AuthMode.OIDC))
    assert circleci_standin.env(APP)["AWS_ACCESS_KEY_ID"] == key_id  # nothing happened
    assert [k["Status"] for k in iam_keys(aws_session)] == ["Active"]

    ctx = ci_ctx(auth=AuthMode.OIDC)
    log = CallLog().attach(ctx)
    report = run_apply(ctx, consent=True)
    assert report.ok, report.failure
    assert report.result("retire_keys").outputs["retired_access_keys"] == [key_id]
    role_arn = report.outputs["role_arn"]
    assert circleci_standin.env(APP) == {"AWS_ROLE_ARN": role_arn, "AWS_REGION": "us-east-1",
                                         "AWS_DEFAULT_REGION": "us-east-1"}
    assert iam_keys(aws_session) == []
    assert secret_store.load_access_key(USER) is None
    iam = aws_session.client("iam")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=USER)["Groups"]] == [
        "circleci_devops"]
    # Order: AWS_ROLE_ARN before the keys left CircleCI; deactivated before deleted.
    writes = [(m, p) for m, p in circleci_standin.requests if m != "GET"]
    assert writes.index(("POST", f"/api/v2/project/{APP}/envvar")) < writes.index(
        ("DELETE", f"/api/v2/project/{APP}/envvar/AWS_ACCESS_KEY_ID"))
    retire = [c for c in log.mutating if "AccessKey" in c]
    assert retire == ["iam.UpdateAccessKey", "iam.DeleteAccessKey"]

    again = run_apply(ci_ctx(auth=AuthMode.OIDC))
    assert actions(again)["retire_keys"] is Action.EXISTS

    # destroy --auth keys removes the user and the group; the role and its policy stay.
    removed = run_destroy(ci_ctx())
    assert actions(removed)["user"] is actions(removed)["group"] is Action.DELETE
    assert USER not in [u["UserName"] for u in iam.list_users()["Users"]]
    assert iam.get_role(RoleName="circleci_s3_builds")["Role"]["Arn"] == role_arn
    assert removed.result("policy").action is Action.KEEP
    assert circleci_standin.env(APP)["AWS_ROLE_ARN"] == role_arn


def test_a_key_made_by_someone_else_is_reported_and_left_alone(
        ci_ctx, make_ctx, circleci_standin, aws_session, secret_store):
    assert run_apply(make_ctx(create_bucket=True)).ok  # a keys setup, never delivered
    ours = secret_store.load_access_key(USER).access_key_id
    iam = aws_session.client("iam")
    iam.create_user(UserName="someone")
    theirs = iam.create_access_key(UserName="someone")["AccessKey"]
    with circleci_standin.client() as client:
        client.set_project_envvar(APP, "AWS_ACCESS_KEY_ID", theirs["AccessKeyId"])
        client.set_project_envvar(APP, "AWS_SECRET_ACCESS_KEY", theirs["SecretAccessKey"])

    move = Engine(ci_ctx(auth=AuthMode.OIDC)).plan().step("retire_keys")
    assert move.action is Action.EXISTS
    foreign = next(w for w in move.warnings if w.startswith(f"Project {APP} has"))
    assert f"AWS_ACCESS_KEY_ID (xxxx{theirs['AccessKeyId'][-4:]})" in foreign
    assert "made by someone else" in foreign and "static keys whenever" in foreign
    assert theirs["SecretAccessKey"][-4:] not in " ".join(move.warnings)
    assert any(ours in w and "left alone" in w for w in move.warnings)

    assert run_apply(ci_ctx(auth=AuthMode.OIDC)).ok
    assert circleci_standin.env(APP)["AWS_ACCESS_KEY_ID"] == theirs["AccessKeyId"]
    assert [k["Status"] for k in iam_keys(aws_session)] == ["Active"]
    assert secret_store.load_access_key(USER).access_key_id == ours
    assert iam.list_access_keys(UserName="someone")["AccessKeyMetadata"][0]["Status"] == "Active"


def test_a_keys_setup_of_another_project_keeps_its_key(ci_ctx, circleci_standin, aws_session,
                                                        secret_store):
    assert run_apply(ci_ctx(OTHER, create_bucket=True)).ok
    key_id = secret_store.load_access_key(USER).access_key_id

    move = Engine(ci_ctx(APP, auth=AuthMode.OIDC)).plan().step("retire_keys")
    assert move.action is Action.EXISTS
    assert any(f"{key_id} (your keyring)" in w and "another project's keys setup" in w
               for w in move.warnings)
    assert run_apply(ci_ctx(APP, auth=AuthMode.OIDC)).ok
    assert circleci_standin.env(OTHER)["AWS_ACCESS_KEY_ID"] == key_id
    assert [k["AccessKeyId"] for k in iam_keys(aws_session)] == [key_id]
    assert secret_store.load_access_key(USER).access_key_id == key_id


def test_keys_leave_the_wizards_context_but_not_an_operators(
        ci_ctx, circleci_standin, aws_session, secret_store, org):
    answers = dict(circleci_context="s3-deploy")
    assert run_apply(ci_ctx(create_bucket=True, **answers)).ok
    key_id = secret_store.load_access_key(USER).access_key_id
    shared = circleci_standin.add_context(org[APP]["organization_id"], "shared", {
        "AWS_ACCESS_KEY_ID": "example-shared-key-id", "AWS_SECRET_ACCESS_KEY": "not-a-secret"})

    move = Engine(ci_ctx(auth=AuthMode.OIDC, **answers)).plan().step("retire_keys")
    assert move.differences[0] == ("- delete AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from "
                                   "context s3-deploy")
    assert f"- deactivate, then delete access key {key_id} of {USER} (the user stays)" in \
        move.differences
    assert run_apply(ci_ctx(auth=AuthMode.OIDC, **answers), consent=True).ok
    left = circleci_standin.context_named("s3-deploy")["vars"]
    assert "AWS_ACCESS_KEY_ID" not in left and "AWS_SECRET_ACCESS_KEY" not in left
    assert {CONTEXT_MARKER, "AWS_ROLE_ARN"} <= set(left)
    assert iam_keys(aws_session) == [] and secret_store.load_access_key(USER) is None

    # An operator's context: CircleCI never shows its values, so whose key it is cannot be told.
    other = Engine(ci_ctx(auth=AuthMode.OIDC, circleci_context="shared")).plan()
    move = other.step("retire_keys")
    assert move.action is Action.EXISTS
    assert any("Context shared holds AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY" in w
               and "cannot tell whose key" in w for w in move.warnings)
    assert run_apply(ci_ctx(auth=AuthMode.OIDC, circleci_context="shared"), consent=True).ok
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(
        circleci_standin.contexts[shared]["vars"])


def test_without_a_circleci_token_no_key_is_retired(make_ctx, aws_session, secret_store):
    assert run_apply(make_ctx(create_bucket=True)).ok
    key_id = secret_store.load_access_key(USER).access_key_id
    org_id, project_id = ("0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d",
                          "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9")
    ctx = make_ctx(auth=AuthMode.OIDC, circleci_project=f"circleci/{org_id}/{project_id}")
    move = Engine(ctx).plan().step("retire_keys")
    assert move.action is Action.SKIP
    assert any("Without a CircleCI token" in w and "remove them by hand" in w
               for w in move.warnings)
    assert run_apply(make_ctx(auth=AuthMode.OIDC,
                              circleci_project=f"circleci/{org_id}/{project_id}")).ok
    assert [k["AccessKeyId"] for k in iam_keys(aws_session)] == [key_id]
    assert secret_store.load_access_key(USER).access_key_id == key_id
