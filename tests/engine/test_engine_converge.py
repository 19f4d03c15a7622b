"""Convergence, not existence: every run compares what exists with what the setup wants.

Drift on what the wizard manages is repaired by apply; orphaned access keys (whose secret nobody
holds) are found by plan, deleted by apply and fail verify; two runs cannot interleave.
"""

from __future__ import annotations

import threading

from circleci_s3_wizard.wizard.engine import Engine
from circleci_s3_wizard.wizard.keys import Holder
from circleci_s3_wizard.wizard.model import Action
from circleci_s3_wizard.wizard.verify import verify
from tests.fixtures.engine import CallLog, actions, run_apply

BUCKET = "devops-example-builds"
USER = "circleci_service"


def _check(report, name):
    return next(c for c in report.checks if c.name == name)


def test_block_public_access_turned_off_is_repaired(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True))
    s3 = aws_session.client("s3")
    s3.delete_public_access_block(Bucket=BUCKET)

    failing = verify(make_ctx(), wait_seconds=0)
    assert _check(failing, "Block Public Access on the bucket").outcome == "fail"
    plan = Engine(make_ctx()).plan()  # no --create-bucket: the wizard's tag says it is its own
    assert plan.step("bucket").action is Action.REPAIR
    assert "Block Public Access is not fully on" in plan.step("bucket").differences
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    run_apply(ctx)
    assert log.mutating == ["s3.PutPublicAccessBlock"]
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
               .values())
    assert _check(verify(make_ctx(), wait_seconds=0),
                  "Block Public Access on the bucket").outcome == "pass"


def test_a_created_bucket_missing_its_tag_and_lock_is_updated_with_consent(make_ctx,
                                                                          aws_session):
    # What a run leaves when both calls after CreateBucket failed: an untagged, open bucket.
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_tagging(Bucket=BUCKET, Tagging={"TagSet": [{"Key": "team", "Value": "web"}]})
    plan = Engine(make_ctx(create_bucket=True)).plan()
    bucket = plan.step("bucket")
    assert bucket.action is Action.UPDATE
    assert set(bucket.differences) == {"Block Public Access is not fully on",
                                       "the managed-by tag is missing"}
    run_apply(make_ctx(create_bucket=True), consent=True)
    tags = s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    assert {"Key": "team", "Value": "web"} in tags  # the operator's own tag is kept
    assert {"Key": "managed-by", "Value": "circleci-s3-wizard"} in tags
    assert actions(Engine(make_ctx()).plan())["bucket"] is Action.EXISTS


def test_membership_and_attachment_removed_by_hand_are_put_back(make_ctx, aws_session):
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    iam.remove_user_from_group(UserName=USER, GroupName="circleci_devops")
    arn = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"][0][
        "PolicyArn"]
    iam.detach_group_policy(GroupName="circleci_devops", PolicyArn=arn)
    plan = Engine(make_ctx()).plan()
    assert plan.step("user").action is Action.REPAIR
    assert plan.step("attach").action is Action.CREATE
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    run_apply(ctx)
    assert sorted(log.mutating) == ["iam.AddUserToGroup", "iam.AttachGroupPolicy"]
    assert [u["UserName"] for u in iam.get_group(GroupName="circleci_devops")["Users"]] == [USER]


def _killed_create(ctx) -> None:
    """An apply killed the moment CreateAccessKey answered: the key exists, its secret is in
    no keyring (the kill is a KeyboardInterrupt raised on AWS's answer, before the wizard sees
    it)."""
    def kill(**_):
        raise KeyboardInterrupt

    ctx.client("iam", attempts=1).meta.events.register("after-call.iam.CreateAccessKey", kill)
    report = run_apply(ctx)  # the step's interrupt is its result; nothing after it ran
    assert not report.ok


def _key_ids(iam) -> list[str]:
    return [k["AccessKeyId"] for k in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]


def test_an_orphaned_key_is_shown_deleted_and_fails_verify(make_ctx, aws_session, secret_store):
    """Only the wizard's own record makes an orphan: create began here, the secret never stored."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    held = secret_store.load_access_key(USER).access_key_id
    secret_store.delete_access_key(USER)
    iam.delete_access_key(UserName=USER, AccessKeyId=held)
    _killed_create(make_ctx())
    [orphan] = _key_ids(iam)
    assert secret_store.load_access_key(USER) is None

    check = _check(verify(make_ctx(), wait_seconds=0),
                   "one active access key, held by your keyring")
    assert check.outcome == "fail" and orphan in check.detail
    plan = Engine(make_ctx()).plan()
    key = plan.step("access_key")
    assert key.action is Action.CREATE
    assert orphan in key.detail and "orphaned" in key.detail
    assert [k.holder for k in key.facts.orphans] == [Holder.ORPHAN]

    report = run_apply(make_ctx())
    assert orphan in report.result("access_key").detail
    left = _key_ids(iam)
    assert left == [secret_store.load_access_key(USER).access_key_id] != [orphan]
    assert _check(verify(make_ctx(), wait_seconds=0),
                  "one active access key, held by your keyring").outcome == "pass"
    tags = {t["Key"]: t["Value"] for t in iam.get_user(UserName=USER)["User"]["Tags"]}
    assert f"circleci-s3-wizard:key:{left[0]}" in tags
    assert not any(orphan in k for k in tags) and "state=began" not in tags.values()
    assert Engine(make_ctx()).plan().step("access_key").action is Action.EXISTS


def test_a_key_made_by_hand_on_the_wizards_user_is_never_touched(make_ctx, aws_session,
                                                                 secret_store):
    """No record, never used, in no keyring: the old rule called it an orphan; it is not the
    wizard's, so it is reported and left alone."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    made = iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"]
    plan = Engine(make_ctx()).plan()
    key = plan.step("access_key")
    assert key.action is Action.EXISTS and not key.facts.orphans
    assert any(made in w and "not made by the wizard" in w for w in key.warnings)
    assert not any("rotate" in w for w in key.warnings)  # two keys: rotate would refuse
    run_apply(make_ctx())
    assert made in _key_ids(iam)


def test_a_key_used_elsewhere_is_never_deleted(make_ctx, aws_session, secret_store):
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    made = iam.create_access_key(UserName=USER)["AccessKey"]
    import boto3

    # Someone holds this one: it has been used (moto records the use).
    boto3.Session(aws_access_key_id=made["AccessKeyId"],
                  aws_secret_access_key=made["SecretAccessKey"],
                  region_name="us-east-1").client("sts").get_caller_identity()
    plan = Engine(make_ctx()).plan()
    key = plan.step("access_key")
    assert key.action is Action.EXISTS
    assert any(made["AccessKeyId"] in w and "last used" in w for w in key.warnings)
    run_apply(make_ctx())
    assert made["AccessKeyId"] in _key_ids(iam)


def test_two_orphans_at_the_limit_are_cleared_and_a_key_made(make_ctx, aws_session,
                                                             secret_store):
    """What two killed runs leave: the old tool then refused with a conflict; now it converges."""
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    secret_store.delete_access_key(USER)
    iam.delete_access_key(UserName=USER, AccessKeyId=_key_ids(iam)[0])
    _killed_create(make_ctx())
    orphans = set(_key_ids(iam))
    # The second killed run sees the first's orphan and deletes it... unless it is killed
    # first too: a record written by hand as the first run left it, plus a second key.
    from circleci_s3_wizard.wizard import key_records

    key_records.begin(make_ctx(), USER, set())
    orphans.add(iam.create_access_key(UserName=USER)["AccessKey"]["AccessKeyId"])
    plan = Engine(make_ctx()).plan()
    assert plan.step("access_key").action is Action.CREATE
    assert {k.key_id for k in plan.step("access_key").facts.orphans} == orphans
    run_apply(make_ctx())
    left = _key_ids(iam)
    assert len(left) == 1 and left[0] not in orphans
    assert left == [secret_store.load_access_key(USER).access_key_id]


def test_a_stale_keyring_entry_is_replaced(make_ctx, aws_session, secret_store):
    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    stale = secret_store.load_access_key(USER).access_key_id
    iam.delete_access_key(UserName=USER, AccessKeyId=stale)  # deleted in the console
    plan = Engine(make_ctx()).plan()
    assert plan.step("access_key").action is Action.CREATE
    assert stale in plan.step("access_key").detail
    run_apply(make_ctx())
    fresh = secret_store.load_access_key(USER).access_key_id
    assert fresh != stale
    assert [k["AccessKeyId"] for k in iam.list_access_keys(UserName=USER)[
        "AccessKeyMetadata"]] == [fresh]


def test_two_applies_at_once_leave_one_key_held_by_the_keyring(make_ctx, aws_session,
                                                               secret_store):
    contexts = [make_ctx(create_bucket=True) for _ in range(2)]
    reports = []
    threads = [threading.Thread(target=lambda c=c: reports.append(run_apply(c)))
               for c in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(reports) == 2 and all(r.ok for r in reports)
    created = [r for r in reports if actions(r)["access_key"] is Action.CREATE]
    assert len(created) == 1  # the second run waited, planned afresh and found it done
    keys = aws_session.client("iam").list_access_keys(UserName=USER)["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [secret_store.load_access_key(USER).access_key_id]


def test_a_handed_over_key_is_never_taken_for_an_orphan_and_rotate_retires_it(
        make_ctx, aws_session, secret_store):
    """The hand-over says "store it somewhere safe"; deleting that key later as an orphan would
    make the operator's copy useless. It is remembered (by id) until rotate replaces it."""
    from circleci_s3_wizard.wizard.rotate import Rotation
    from circleci_s3_wizard.wizard.state import handed_over
    from tests.engine.test_engine_keys import _BrokenStore

    ctx = make_ctx(create_bucket=True)
    ctx.secrets = _BrokenStore(secret_store)
    ctx.client("iam").meta.events.register(
        "before-call.iam.DeleteAccessKey",
        lambda **_: (_ for _ in ()).throw(RuntimeError("network down")))
    handed = run_apply(ctx).handoff.access_key_id
    assert handed_over(secret_store.service, USER) == {handed}

    plan = Engine(make_ctx()).plan()
    key = plan.step("access_key")
    assert key.action is Action.BLOCKED and "rotate --user circleci_service" in key.detail
    assert not key.facts.orphans

    rotation = Rotation(make_ctx(), propagation_seconds=0)
    outcome = rotation.run(rotation.check())
    assert outcome.ok and outcome.deleted_key_id == handed
    iam = aws_session.client("iam")
    left = [k["AccessKeyId"] for k in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]]
    assert left == [secret_store.load_access_key(USER).access_key_id] != [handed]
    assert handed_over(secret_store.service, USER) == set()
    assert Engine(make_ctx()).plan().step("access_key").action is Action.EXISTS


def test_rotations_from_fresh_machines_never_fill_the_users_tags(make_ctx, aws_session,
                                                                 secret_store):
    """A CI job that rotates from a fresh container is a new install each time. Each leaves an
    idle pending tag; the next key's attempt removes them, so IAM's 50 tags per user are never
    reached. Another install's attempt still under way (state=began) is kept."""
    from circleci_s3_wizard.wizard.rotate import Rotation

    run_apply(make_ctx(create_bucket=True))
    iam = aws_session.client("iam")
    prefix = "circleci-s3-wizard:key-pending:"
    ended = [{"Key": f"{prefix}ci-{n:02}", "Value": "state=idle"} for n in range(40)]
    under_way = {"Key": f"{prefix}laptop-b", "Value": "state=began when=2026-12-03T10:00Z"}
    for start in range(0, len(ended), 10):  # as forty earlier CI runs left them
        iam.tag_user(UserName=USER, Tags=ended[start:start + 10])
    iam.tag_user(UserName=USER, Tags=[under_way])

    rotation = Rotation(make_ctx(), propagation_seconds=0)
    outcome = rotation.run(rotation.check())

    assert outcome.ok
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=USER)["Tags"]}
    pending = {k: v for k, v in tags.items() if k.startswith(prefix)}
    assert not any(k in pending for k in (t["Key"] for t in ended))
    assert pending[under_way["Key"]] == under_way["Value"]
    assert len(pending) == 2  # the attempt under way, and this install's (now idle)
    assert len(tags) < 50
    new = secret_store.load_access_key(USER).access_key_id
    assert f"circleci-s3-wizard:key:{new}" in tags
