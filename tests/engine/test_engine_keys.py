"""The engine in keys mode, against moto's server and the real GNOME Keyring."""

from __future__ import annotations

import json

import pytest

from circleci_s3_wizard.wizard.config import IAM_PATH, AccessLevel
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent, PlanRefused
from circleci_s3_wizard.wizard.model import Action
from circleci_s3_wizard.wizard.policy import build_policy, same_policy
from tests.fixtures.engine import CallLog, actions, run_apply, run_destroy

POLICY_ARN = f"arn:aws:iam::123456789012:policy{IAM_PATH}s3_full_access_devops_builds"
BUCKET = "devops-example-builds"
USER = "circleci_service"
FRESH_WRITES = sorted([
    "s3.CreateBucket", "s3.PutPublicAccessBlock", "s3.PutBucketTagging", "s3.PutObject",
    "iam.CreateGroup", "iam.CreatePolicy", "iam.AttachGroupPolicy", "iam.CreateUser",
    "iam.AddUserToGroup", "iam.CreateAccessKey", "iam.TagUser", "iam.TagUser",
])


def test_plan_on_an_empty_account_creates_everything(make_ctx):
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert actions(plan) == {
        "bucket": Action.CREATE, "folder": Action.CREATE, "group": Action.CREATE,
        "policy": Action.CREATE, "attach": Action.CREATE, "user": Action.CREATE,
        "access_key": Action.CREATE, "circleci": Action.SKIP,
    }
    assert [s.key for s in plan.steps] == list(actions(plan))  # the tutorial's order


def test_apply_builds_the_tutorial_setup_least_privilege(make_ctx, aws_session, secret_store):
    ctx = make_ctx(create_bucket=True)
    log = CallLog().attach(ctx)
    report = run_apply(ctx)
    assert report.ok and actions(report)["access_key"] is Action.CREATE
    s3, iam = aws_session.client("s3"), aws_session.client("iam")

    pab = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert pab == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                   "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in \
        s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert s3.head_object(Bucket=BUCKET, Key="builds/")["ContentLength"] == 0

    group = iam.get_group(GroupName="circleci_devops")
    assert group["Group"]["Path"] == IAM_PATH
    assert [u["UserName"] for u in group["Users"]] == [USER]
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [POLICY_ARN]
    version = iam.get_policy_version(PolicyArn=POLICY_ARN, VersionId="v1")["PolicyVersion"]
    assert same_policy(version["Document"], build_policy(BUCKET, "builds/"))
    tags = iam.list_policy_tags(PolicyArn=POLICY_ARN)["Tags"]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in tags

    user = iam.get_user(UserName=USER)["User"]
    assert user["Path"] == IAM_PATH
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_login_profile(UserName=USER)  # programmatic only
    keys = iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]
    stored = secret_store.load_access_key(USER)
    assert [k["AccessKeyId"] for k in keys] == [stored.access_key_id]
    assert len(stored.secret_access_key) == 40
    assert report.outputs["access_key_id"] == stored.access_key_id

    # Only the ten writes the tutorial needs, and the key's record (began, stored), each once
    # (they run concurrently: order varies).
    assert sorted(log.mutating) == FRESH_WRITES


def test_results_come_back_in_tutorial_order_with_outputs(make_ctx):
    report = run_apply(make_ctx(create_bucket=True))
    assert [r.key for r in report.results] == [s.key for s in report.plan.steps]
    outputs = report.outputs
    assert outputs["bucket_arn"] == f"arn:aws:s3:::{BUCKET}"
    assert outputs["policy_arn"] == POLICY_ARN
    assert outputs["user_arn"].endswith(f":user{IAM_PATH}{USER}")
    assert outputs["group_arn"].endswith(f":group{IAM_PATH}circleci_devops")


def test_second_apply_changes_nothing(make_ctx):
    run_apply(make_ctx(create_bucket=True))
    ctx = make_ctx(create_bucket=True)
    log = CallLog().attach(ctx)
    report = run_apply(ctx)
    assert set(actions(report.plan).values()) <= {Action.EXISTS, Action.SKIP}
    assert set(actions(report).values()) <= {Action.EXISTS, Action.SKIP}
    assert log.mutating == []
    # The outputs of a run that changed nothing still name every resource.
    assert {"bucket_arn", "policy_arn", "user_arn", "group_arn", "access_key_id"} <= \
        set(report.outputs)


def test_bucket_outside_us_east_1_gets_its_location(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True, region="eu-west-1"))
    location = aws_session.client("s3").get_bucket_location(Bucket=BUCKET)
    assert location["LocationConstraint"] == "eu-west-1"


def test_existing_bucket_is_used_without_create_and_left_as_it_is(make_ctx, aws_session):
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    plan = Engine(ctx).plan()
    bucket = plan.step("bucket")
    assert bucket.action is Action.EXISTS and "exists" in bucket.detail
    # Not the wizard's bucket: no repair, only a warning that it is not locked down.
    assert any("Block Public Access is not fully on" in w for w in bucket.warnings)
    run_apply(ctx)
    assert not any(c.startswith("s3.PutPublicAccessBlock") for c in log.mutating)


def test_missing_bucket_without_create_refuses_and_touches_nothing(make_ctx, aws_session):
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    with pytest.raises(PlanRefused, match="does not exist"):
        run_apply(ctx)
    assert log.mutating == []
    assert aws_session.client("iam").list_groups()["Groups"] == []


def test_changed_prefix_is_an_update_until_consented(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True))
    changed = make_ctx(prefix="releases")  # as typed: the builder adds the slash
    plan = Engine(changed).plan()
    assert actions(plan)["policy"] is Action.UPDATE
    assert plan.step("policy").differences
    with pytest.raises(NeedsConsent):
        Engine(changed).apply(plan)
    iam = aws_session.client("iam")
    assert len(iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]) == 1

    report = run_apply(make_ctx(prefix="releases/"), consent=True)
    assert actions(report)["policy"] is Action.UPDATE
    policy = iam.get_policy(PolicyArn=POLICY_ARN)["Policy"]
    document = iam.get_policy_version(PolicyArn=POLICY_ARN,
                                      VersionId=policy["DefaultVersionId"])["PolicyVersion"]
    assert same_policy(document["Document"], build_policy(BUCKET, "releases/"))


def test_policy_updates_keep_at_most_five_versions(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True))
    for n in range(6):
        run_apply(make_ctx(prefix=f"p{n}/"), consent=True)
    iam = aws_session.client("iam")
    versions = iam.list_policy_versions(PolicyArn=POLICY_ARN)["Versions"]
    assert len(versions) == 5
    default = next(v for v in versions if v["IsDefaultVersion"])
    doc = iam.get_policy_version(PolicyArn=POLICY_ARN,
                                 VersionId=default["VersionId"])["PolicyVersion"]["Document"]
    assert same_policy(doc, build_policy(BUCKET, "p5/"))


def test_access_levels_reach_the_policy(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True, access=AccessLevel.UPLOAD_ONLY))
    doc = aws_session.client("iam").get_policy_version(
        PolicyArn=POLICY_ARN, VersionId="v1")["PolicyVersion"]["Document"]
    granted = json.dumps(doc)
    assert "s3:PutObject" in granted and "s3:GetObject" not in granted


def test_user_with_console_password_is_a_conflict(make_ctx, aws_session):
    iam = aws_session.client("iam")
    iam.create_user(UserName=USER)
    iam.create_login_profile(UserName=USER, Password="Xx-123456789!")
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert actions(plan)["user"] is Action.CONFLICT
    assert "console password" in plan.step("user").detail
    assert not plan.ok


def test_insecure_keyring_blocks_before_anything_is_created(make_ctx, aws_session):
    from keyring.backends.fail import Keyring as FailKeyring

    from circleci_s3_wizard.wizard.secret_store import SecretStore

    ctx = make_ctx(create_bucket=True)
    ctx.secrets = SecretStore(FailKeyring())
    plan = Engine(ctx).plan()
    assert actions(plan)["access_key"] is Action.BLOCKED
    assert "keyring" in plan.step("access_key").detail.lower()
    with pytest.raises(PlanRefused):
        Engine(ctx).apply(plan)
    assert aws_session.client("iam").list_users()["Users"] == []
    assert aws_session.client("s3").list_buckets()["Buckets"] == []


class _BrokenStore:
    """A keyring that passes its health check and then fails on the write that matters."""

    def __init__(self, real):
        self.real = real
        self.service = real.service

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
    report = run_apply(ctx)
    assert not report.ok and report.handoff is None
    assert report.result("access_key").action is Action.FAILED
    assert "deleted again" in report.result("access_key").detail
    keys = aws_session.client("iam").list_access_keys(UserName=USER)
    assert keys["AccessKeyMetadata"] == []
    # Everything else was made; a re-run with a working keyring finishes the job.
    assert actions(run_apply(make_ctx(create_bucket=True)))["access_key"] is Action.CREATE


def test_failed_store_and_failed_delete_hand_the_secret_over_once(make_ctx, aws_session,
                                                                   secret_store):
    ctx = make_ctx(create_bucket=True)
    ctx.secrets = _BrokenStore(secret_store)
    iam = ctx.client("iam")
    iam.meta.events.register(
        "before-call.iam.DeleteAccessKey",
        lambda **_: (_ for _ in ()).throw(RuntimeError("network down")),
    )
    report = run_apply(ctx)
    handoff = report.handoff
    assert handoff is not None and not report.ok
    keys = aws_session.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [handoff.access_key_id]
    assert len(handoff.secret_access_key) == 40
    assert handoff.secret_access_key not in repr(handoff)
    assert all(handoff.secret_access_key not in r.detail for r in report.results)
    assert "rotate" in handoff.instruction


def test_destroy_removes_only_what_the_wizard_made(make_ctx, aws_session, secret_store):
    run_apply(make_ctx(create_bucket=True))
    aws_session.client("s3").put_object(Bucket=BUCKET, Key="builds/app.zip", Body=b"x")
    planned = actions(Engine(make_ctx()).plan_destroy())
    assert planned["bucket"] is Action.KEEP and planned["folder"] is Action.KEEP
    assert planned["user"] is Action.DELETE and planned["group"] is Action.DELETE
    report = run_destroy(make_ctx())
    assert report.ok

    iam, s3 = aws_session.client("iam"), aws_session.client("s3")
    assert iam.list_users()["Users"] == []
    assert iam.list_groups()["Groups"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert secret_store.load_access_key(USER) is None
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {"builds/", "builds/app.zip"}
    again = actions(Engine(make_ctx()).plan_destroy())
    assert set(again.values()) <= {Action.ABSENT, Action.KEEP, Action.SKIP}


def test_what_the_operator_made_by_hand_is_a_conflict_and_destroy_keeps_it(make_ctx,
                                                                          aws_session):
    """Same-named group, user and policy made by hand (even with the right document) are not
    the wizard's: each is a conflict naming what it grants, and nothing is changed."""
    iam = aws_session.client("iam")
    iam.create_group(GroupName="circleci_devops")
    iam.create_user(UserName=USER)
    document = json.dumps(build_policy(BUCKET, "builds/"))
    hand_made = iam.create_policy(PolicyName="s3_full_access_devops_builds",
                                  PolicyDocument=document)["Policy"]["Arn"]
    plan = Engine(make_ctx(create_bucket=True)).plan()
    assert {k: actions(plan)[k] for k in ("group", "policy", "user")} == {
        "group": Action.CONFLICT, "policy": Action.CONFLICT, "user": Action.CONFLICT}
    assert "--adopt" in plan.step("group").detail
    with pytest.raises(PlanRefused):
        run_apply(make_ctx(create_bucket=True))
    assert iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"] == []
    assert iam.list_groups_for_user(UserName=USER)["Groups"] == []

    run_destroy(make_ctx())
    assert [g["GroupName"] for g in iam.list_groups()["Groups"]] == ["circleci_devops"]
    assert [u["UserName"] for u in iam.list_users()["Users"]] == [USER]
    assert iam.get_policy(PolicyArn=hand_made)["Policy"]["PolicyName"]


def test_adopting_what_the_operator_made_by_hand(make_ctx, aws_session, secret_store):
    iam = aws_session.client("iam")
    iam.create_group(GroupName="circleci_devops")
    iam.create_user(UserName=USER)
    document = json.dumps(build_policy(BUCKET, "builds/"))
    hand_made = iam.create_policy(PolicyName="s3_full_access_devops_builds",
                                  PolicyDocument=document)["Policy"]["Arn"]
    plan = Engine(make_ctx(create_bucket=True, adopt=True)).plan()
    assert {k: actions(plan)[k] for k in ("group", "policy", "user")} == {
        "group": Action.UPDATE, "policy": Action.UPDATE, "user": Action.UPDATE}
    report = run_apply(make_ctx(create_bucket=True, adopt=True), consent=True)
    assert report.ok, report.results
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [hand_made]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in iam.get_policy(
        PolicyArn=hand_made)["Policy"]["Tags"]
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in iam.list_user_tags(
        UserName=USER)["Tags"]
    assert secret_store.load_access_key(USER) is not None


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
    policy = plan.step("policy")
    assert policy.action is Action.CONFLICT  # someone else's: named, never rewritten
    assert "every action on every resource" in policy.detail
    assert "attached to: nothing else" in policy.detail
    plan = Engine(make_ctx(create_bucket=True, adopt=True)).plan()
    policy = plan.step("policy")
    assert policy.action is Action.UPDATE
    assert any("every action on every resource" in d for d in policy.differences)
    with pytest.raises(NeedsConsent):
        run_apply(make_ctx(create_bucket=True, adopt=True))
    run_apply(make_ctx(create_bucket=True, adopt=True), consent=True)
    default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
    assert same_policy(document["Document"], build_policy(BUCKET, "builds/"))
