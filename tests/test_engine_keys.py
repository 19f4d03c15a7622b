"""The engine's steps in keys mode, against moto's server and the real GNOME Keyring."""

from __future__ import annotations

import json

import pytest

from tests.fixtures.engine import CallLog
from wizard.config import IAM_PATH, AccessLevel
from wizard.engine import Engine, NeedsConfirmation, PlanRefused
from wizard.errors import WizardError
from wizard.policy import build_policy, same_policy
from wizard.steps.access_key_step import AccessKeyStep, SecretHandoff
from wizard.steps.base import Action

POLICY_ARN = f"arn:aws:iam::123456789012:policy{IAM_PATH}s3_full_access_devops_builds"


def actions(plan):
    return {p.step.key: p.check.action for p in plan}


def results(done):
    return {d.step.key: d.result.action for d in done}


def test_plan_on_an_empty_account_creates_everything(make_ctx):
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert actions(plan) == {
        "bucket": Action.CREATE, "folder": Action.CREATE, "group": Action.CREATE,
        "policy": Action.CREATE, "attach": Action.CREATE, "user": Action.CREATE,
        "access_key": Action.CREATE, "circleci": Action.SKIP,
    }


def test_apply_builds_the_tutorial_setup_least_privilege(make_ctx, aws_session, secret_store):
    ctx = make_ctx(create_bucket=True)
    log = CallLog().attach(ctx)
    done = Engine(ctx).apply()
    assert results(done)["access_key"] is Action.CREATE
    s3, iam = aws_session.client("s3"), aws_session.client("iam")
    bucket = "devops-example-builds"

    pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                   "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert s3.head_object(Bucket=bucket, Key="builds/")["ContentLength"] == 0

    group = iam.get_group(GroupName="circleci_devops")
    assert group["Group"]["Path"] == IAM_PATH
    assert [u["UserName"] for u in group["Users"]] == ["circleci_service"]
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY_ARN]
    version = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId="v1")["PolicyVersion"]
    assert same_policy(version["Document"], build_policy(bucket, "builds/"))
    tags = iam.list_policy_tags(PolicyArn=POLICY_ARN)["Tags"]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in tags

    user = iam.get_user(UserName="circleci_service")["User"]
    assert user["Path"] == IAM_PATH
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName="circleci_service")  # programmatic only
    keys = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    stored = secret_store.load_access_key("circleci_service")
    assert [k["AccessKeyId"] for k in keys] == [stored.access_key_id]
    assert len(stored.secret_access_key) == 40

    # Only the mutating calls the steps need.
    assert log.mutating == [
        "s3.CreateBucket", "s3.PutPublicAccessBlock", "s3.PutBucketTagging", "s3.PutObject",
        "iam.CreateGroup", "iam.CreatePolicy", "iam.AttachGroupPolicy", "iam.CreateUser",
        "iam.AddUserToGroup", "iam.CreateAccessKey",
    ]


def test_second_apply_changes_nothing(make_ctx):
    Engine(make_ctx(create_bucket=True)).apply()
    ctx = make_ctx(create_bucket=True)
    log = CallLog().attach(ctx)
    engine = Engine(ctx)
    assert set(actions(engine.plan()).values()) <= {Action.EXISTS, Action.SKIP}
    assert set(results(engine.apply()).values()) <= {Action.EXISTS, Action.SKIP}
    assert log.mutating == []


def test_bucket_outside_us_east_1_gets_its_location(make_ctx, aws_session):
    Engine(make_ctx(create_bucket=True, region="eu-west-1")).apply()
    location = aws_session.client("s3").get_bucket_location(Bucket="devops-example-builds")
    assert location["LocationConstraint"] == "eu-west-1"


def test_existing_bucket_is_used_without_create(make_ctx, aws_session):
    aws_session.client("s3").create_bucket(Bucket="devops-example-builds")
    plan = Engine(make_ctx()).plan()
    assert actions(plan)["bucket"] is Action.EXISTS
    assert "exists" in plan[0].check.detail


def test_missing_bucket_without_create_refuses_and_touches_nothing(make_ctx, aws_session):
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    with pytest.raises(PlanRefused, match="does not exist"):
        Engine(ctx).apply()
    assert log.mutating == []
    assert aws_session.client("iam").list_groups()["Groups"] == []


def test_changed_prefix_is_a_conflict_until_confirmed(make_ctx, aws_session):
    Engine(make_ctx(create_bucket=True)).apply()
    changed = make_ctx(prefix="releases/")
    plan = Engine(changed).plan()
    assert actions(plan)["policy"] is Action.UPDATE
    with pytest.raises(NeedsConfirmation):
        Engine(changed).apply()
    iam = aws_session.client("iam")
    assert len(iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]) == 1

    done = Engine(make_ctx(prefix="releases/")).apply(allow_update=True)
    assert results(done)["policy"] is Action.UPDATE
    policy = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    document = iam.get_policy_version(PolicyArn=POLICY_ARN,
                                      VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert same_policy(document["Document"], build_policy("devops-example-builds", "releases/"))


def test_policy_updates_keep_at_most_five_versions(make_ctx, aws_session):
    Engine(make_ctx(create_bucket=True)).apply()
    for n in range(6):
        Engine(make_ctx(prefix=f"p{n}/")).apply(allow_update=True)
    versions = aws_session.client("iam").list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]
    assert len(versions) == 5
    default = next(v for v in versions if v["IsDefaultVersion"])
    doc = aws_session.client("iam").get_policy_version(
        PolicyArn=POLICY_ARN, VersionId=default["VersionId"])["PolicyVersion"]["Document"]
    assert same_policy(doc, build_policy("devops-example-builds", "p5/"))


def test_access_levels_reach_the_policy(make_ctx, aws_session):
    Engine(make_ctx(create_bucket=True, access=AccessLevel.UPLOAD_ONLY)).apply()
    doc = aws_session.client("iam").get_policy_version(
        PolicyArn=POLICY_ARN, VersionId="v1")["PolicyVersion"]["Document"]
    actions_granted = json.dumps(doc)
    assert "s3:PutObject" in actions_granted and "s3:GetObject" not in actions_granted


def test_user_with_console_password_is_a_conflict(make_ctx, aws_session):
    iam = aws_session.client("iam")
    iam.create_user(UserName="circleci_service")
    iam.create_login_profile(UserName="circleci_service", Password="Xx-123456789!")
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert actions(plan)["user"] is Action.CONFLICT
    assert "console password" in plan[5].check.detail


def test_insecure_keyring_blocks_before_any_key_exists(make_ctx, aws_session):
    from keyring.backends.fail import Keyring as FailKeyring

    from wizard.secret_store import SecretStore

    ctx = make_ctx(create_bucket=True)
    ctx.secrets = SecretStore(FailKeyring())
    plan = Engine(ctx).plan()
    assert actions(plan)["access_key"] is Action.BLOCKED
    assert "keyring" in plan[6].check.detail.lower()
    with pytest.raises(PlanRefused):
        Engine(ctx).apply(plan=plan)
    assert aws_session.client("iam").list_users()["Users"] == []


class _BrokenStore:
    """A keyring that passes its health check and then fails on the write that matters."""

    def __init__(self, real):
        self.real = real

    def ensure_usable(self):
        self.real.ensure_usable()

    def backend_name(self):
        return "broken"

    def load_access_key(self, user):
        return None

    def store_access_key(self, user, key):
        raise RuntimeError("the keyring went away")


def test_failed_store_deletes_the_new_key(make_ctx, aws_session, secret_store):
    ctx = make_ctx(create_bucket=True)
    ctx.secrets = _BrokenStore(secret_store)
    with pytest.raises(WizardError, match="deleted again"):
        Engine(ctx).apply()
    keys = aws_session.client("iam").list_access_keys(UserName="circleci_service")
    assert keys["AccessKeyMetadata"] == []


def test_failed_store_and_failed_delete_hand_the_secret_over_once(make_ctx, secret_store):
    ctx = make_ctx(create_bucket=True)
    Engine(ctx).apply()
    secret_store.delete_access_key("circleci_service")
    ctx = make_ctx()
    ctx.secrets = _BrokenStore(secret_store)
    iam = ctx.client("iam")
    iam.meta.events.register(
        "before-call.iam.DeleteAccessKey",
        lambda **_: (_ for _ in ()).throw(RuntimeError("network down")),
    )
    with pytest.raises(SecretHandoff) as raised:
        AccessKeyStep().create_and_store(ctx)
    secret = raised.value.access_key.secret_access_key
    assert len(secret) == 40
    assert secret not in str(raised.value) and secret not in repr(raised.value.access_key)


def test_destroy_removes_only_what_the_wizard_made(make_ctx, aws_session, secret_store):
    Engine(make_ctx(create_bucket=True)).apply()
    aws_session.client("s3").put_object(Bucket="devops-example-builds", Key="builds/app.zip",
                                        Body=b"x")
    engine = Engine(make_ctx())
    planned = {p.step.key: p.check.action for p in engine.plan_destroy()}
    assert planned["bucket"] is Action.KEEP and planned["folder"] is Action.KEEP
    assert planned["user"] is Action.DELETE and planned["group"] is Action.DELETE
    engine.destroy()

    iam, s3 = aws_session.client("iam"), aws_session.client("s3")
    assert iam.list_users()["Users"] == []
    assert iam.list_groups()["Groups"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert secret_store.load_access_key("circleci_service") is None
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket="devops-example-builds")["Contents"]}
    assert keys == {"builds/", "builds/app.zip"}
    again = {p.step.key: p.check.action for p in Engine(make_ctx()).plan_destroy()}
    assert set(again.values()) <= {Action.ABSENT, Action.KEEP, Action.SKIP}


def test_destroy_keeps_what_the_operator_made_by_hand(make_ctx, aws_session, secret_store):
    iam = aws_session.client("iam")
    iam.create_group(GroupName="circleci_devops")
    iam.create_user(UserName="circleci_service")
    document = json.dumps(build_policy("devops-example-builds", "builds/"))
    hand_made = iam.create_policy(PolicyName="s3_full_access_devops_builds",
                                  PolicyDocument=document)["Policy"]["Arn"]
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert actions(plan)["group"] is Action.EXISTS and actions(plan)["policy"] is Action.EXISTS
    Engine(make_ctx(create_bucket=True)).apply()
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [hand_made]

    Engine(make_ctx()).destroy()
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["circleci_devops"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["circleci_service"]
    assert iam.get_policy(PolicyArn=hand_made)["Policy"]["PolicyName"]
    # The key the wizard made is gone, from IAM and from the keyring.
    assert iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"] == []
    assert secret_store.load_access_key("circleci_service") is None


def test_rotate_replaces_the_key_after_delivering_the_new_one(make_ctx, aws_session,
                                                              secret_store):
    Engine(make_ctx(create_bucket=True)).apply()
    old = secret_store.load_access_key("circleci_service")
    seen = []
    new_id, old_id = AccessKeyStep().rotate(
        make_ctx(), deliver=lambda: seen.append(
            [k["AccessKeyId"] for k in aws_session.client("iam").list_access_keys(
                UserName="circleci_service")["AccessKeyMetadata"]]))
    assert old_id == old.access_key_id and new_id != old_id
    assert sorted(seen[0]) == sorted([old_id, new_id])  # both alive while CircleCI is updated
    keys = aws_session.client("iam").list_access_keys(UserName="circleci_service")
    assert [k["AccessKeyId"] for k in keys["AccessKeyMetadata"]] == [new_id]
    assert secret_store.load_access_key("circleci_service").access_key_id == new_id


TUTORIAL_AS_RECEIVED = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListAllMyBuckets"], "Resource": "arn:aws:s3:::*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ],
}


def test_the_tutorials_wildcard_policy_is_flagged_and_replaced_only_with_consent(make_ctx,
                                                                                aws_session):
    iam = aws_session.client("iam")
    arn = iam.create_policy(PolicyName="s3_full_access_devops_builds",
                            PolicyDocument=json.dumps(TUTORIAL_AS_RECEIVED))["Policy"]["Arn"]
    plan = Engine(make_ctx(create_bucket=True)).plan()
    policy_check = next(p.check for p in plan if p.step.key == "policy")
    assert policy_check.action is Action.UPDATE
    assert "every action on every resource" in policy_check.detail
    assert "dangerous" in policy_check.detail
    Engine(make_ctx(create_bucket=True)).apply(allow_update=True)
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
    assert same_policy(document["Document"], build_policy("devops-example-builds", "builds/"))
