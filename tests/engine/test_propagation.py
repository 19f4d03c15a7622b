"""Real AWS shows a new entity only after some seconds: the wizard waits that out, and only that.

The fault proxy's lag model (:mod:`tests.fixtures.propagation_model`) makes every user, group,
policy, role, OIDC provider and bucket invisible for a few seconds after its create answers, to
every request that names it, with the answers real IAM and S3 give in that window ("The user with
name ... cannot be found", ``NoSuchBucket``, "Invalid principal in policy"). The wizard runs as
the operator runs it (the real CLI in a subprocess, the session's GNOME Keyring, the CircleCI
stand-in), and what happened is read back from moto and the proxy's log, not from the wizard.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.fixtures.wizard_runs import APPLY, BUCKET, PROJECT, USER, read_world

pytestmark = pytest.mark.slow

#: Seconds each new entity stays invisible: longer than botocore's own retries would cover.
LAG = 3.0

CREATES = ("iam:CreateUser", "iam:CreateGroup", "iam:CreatePolicy", "iam:CreateRole",
           "iam:CreateOpenIDConnectProvider", "iam:CreateAccessKey", "s3:CreateBucket")


def _acted(proxy, operation: str) -> int:
    """How many ``operation`` requests moto really acted on (not answered by a fault or lag)."""
    return sum(1 for c in proxy.calls(operation) if c.moto_status is not None
               and c.moto_status < 300)


def _creates_once(proxy) -> dict[str, int]:
    return {op: n for op in CREATES if (n := _acted(proxy, op)) > 1}


def test_a_fresh_keys_apply_under_propagation_lag_finishes_in_one_run(wizard_cli, faulty_aws):
    lag = faulty_aws.lag(LAG)

    run = wizard_cli.run(*APPLY, timeout=120)

    assert run.code == 0, run.text
    world = read_world(faulty_aws)
    assert world.problems() == [], world.problems()
    assert len(world.active) == 1 and world.orphans == []
    met = Counter((c.operation, c.name) for c in lag.lagged)
    # The calls real AWS would refuse right after the creates met the lag, and went through.
    assert met[("iam:AddUserToGroup", USER)] >= 1
    assert met[("iam:CreateAccessKey", USER)] + met[("iam:AddUserToGroup", USER)] >= 1
    assert any(op.startswith("s3:") and name == BUCKET for op, name in met)
    assert _creates_once(faulty_aws) == {}, "a create was made twice"
    assert f"Waiting for AWS to show the new user {USER}" in run.err
    assert "waited" in run.err and "for AWS to show the new bucket" in run.err

    faulty_aws.clear_log()
    again = wizard_cli.run(*APPLY, timeout=120)
    assert again.code == 0, again.text
    assert [c.operation for c in faulty_aws.mutating()] == []


def test_a_fresh_oidc_apply_waits_for_the_new_provider_before_the_role_trusts_it(
        wizard_cli, faulty_aws, circleci_standin):
    circleci_standin.add_project(PROJECT)
    wizard_cli.extra_env.update(CIRCLE_TOKEN=circleci_standin.token,
                                CIRCLE_HOST=circleci_standin.url)
    lag = faulty_aws.lag(LAG)
    oidc = (*APPLY, "--auth", "oidc", "--circleci-project", PROJECT)

    run = wizard_cli.run(*oidc, timeout=120)

    assert run.code == 0, run.text
    refused_roles = [c for c in faulty_aws.calls("iam:CreateRole") if c.outcome == "lag"]
    assert refused_roles, "the lag model never refused the role's trust"
    assert _acted(faulty_aws, "iam:CreateRole") == 1
    assert _creates_once(faulty_aws) == {}, "a create was made twice"
    assert any(c.operation == "iam:CreateRole" and c.kind == "provider" for c in lag.lagged)
    inspector = faulty_aws.inspector_session().client("iam")
    role = inspector.get_role(RoleName="circleci_s3_builds")["Role"]
    provider = inspector.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in provider] == [
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"]]
    attached = inspector.list_attached_role_policies(RoleName="circleci_s3_builds")
    assert len(attached["AttachedPolicies"]) == 1
    assert set(circleci_standin.env(PROJECT)) == {"AWS_ROLE_ARN", "AWS_REGION",
                                                  "AWS_DEFAULT_REGION"}
    assert "Waiting for AWS to show the new OIDC provider" in run.err

    faulty_aws.clear_log()
    again = wizard_cli.run(*oidc, timeout=120)
    assert again.code == 0, again.text
    assert [c.operation for c in faulty_aws.mutating()] == []


def test_a_not_found_about_something_the_run_did_not_make_is_answered_at_once(
        wizard_cli, faulty_aws):
    plan = ("plan", "--create-bucket", "--bucket", BUCKET)
    without = wizard_cli.run(*plan, timeout=60)
    assert without.code == 0, without.text
    asked = Counter(c.operation for c in faulty_aws.calls() if c.service != "sts")
    faulty_aws.clear_log()
    faulty_aws.lag(LAG)

    run = wizard_cli.run(*plan, timeout=60)

    assert run.code == 0, run.text
    # Nothing exists, so every read is told "not found": each is asked as often as without
    # the lag (no retry), and nothing is waited for. (Who the caller is, the second run knows.)
    assert Counter(c.operation for c in faulty_aws.calls() if c.service != "sts") == asked
    assert sum(1 for c in faulty_aws.calls() if c.status == 404) >= 5
    assert "Waiting for AWS" not in run.err and "waited" not in run.err


async def test_the_tui_says_what_it_waits_for_and_the_step_goes_through(faulty_aws) -> None:
    import boto3

    from circleci_s3_wizard.screens.app import make_app
    from tests.tui.support import (
        MemoryClipboard,
        MemoryStore,
        flat,
        goto,
        screen_text,
        wait_for,
        wait_page,
    )

    faulty_aws.lag(LAG)
    app = make_app({"bucket": BUCKET, "create_bucket": True}, session=boto3.Session(),
                   secret_store=MemoryStore(), clipboard=MemoryClipboard())
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "bucket")
        await pilot.press("enter")  # its settings name the bucket made a moment before
        await wait_for(pilot, lambda: "Running: S3 bucket… Waiting for AWS to show the new "
                       f"bucket {BUCKET}" in flat(screen_text(app)), what="the wait, said")
        await wait_page(pilot, "folder", timeout=30)
        assert "✓ Done: Created bucket" in flat(screen_text(app))
        await pilot.press("enter")
        await wait_page(pilot, "group", timeout=30)
    s3 = faulty_aws.inspector_session().client("s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == ["builds/"]
    assert sum(1 for c in faulty_aws.calls("s3:PutPublicAccessBlock") if c.outcome == "lag") >= 1


def test_a_lag_longer_than_the_bound_is_a_sentence_and_the_rerun_converges(faulty_aws):
    import boto3

    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine
    from circleci_s3_wizard.wizard.errors import WizardError

    config = build_config({"bucket": BUCKET, "create_bucket": True}).config
    faulty_aws.lag(60.0)  # far longer than the (shortened) bound below
    ctx = RunContext(config, boto3.Session())
    ctx.propagation.bound = 1.5
    engine = Engine(ctx)

    with pytest.raises(WizardError) as failed:
        engine.apply_step(engine.plan_step("bucket"))

    sentence = str(failed.value)
    assert f"AWS still does not show the bucket {BUCKET} the wizard made 2 s ago" in sentence
    assert "run the command again in a minute" in sentence
    assert [w.gave_up for w in ctx.propagation.waits] and all(
        w.gave_up for w in ctx.propagation.waits)

    faulty_aws.lag(0.0)  # AWS caught up
    again = Engine(RunContext(config, boto3.Session()))
    # The bucket was made but never tagged, so it is not known as the wizard's: the re-run asks
    # before it locks it down and tags it (the CLI's --yes).
    result = again.apply_step(again.plan_step("bucket"), consent=True)
    assert result.action.changes
    assert _acted(faulty_aws, "s3:CreateBucket") == 1
    s3 = faulty_aws.inspector_session().client("s3")
    block = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_once_aws_showed_what_the_run_made_a_later_not_found_is_the_truth(faulty_aws):
    """Someone deletes the wizard's new user by hand between two TUI steps: the next call that
    names it is told at once, not after two minutes of waiting for lag that is not there."""
    import boto3
    from botocore.exceptions import ClientError

    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext

    config = build_config({"bucket": BUCKET}).config
    ctx = RunContext(config, boto3.Session())
    ctx.propagation.bound = 1.5
    iam = ctx.client("iam")
    by_hand = faulty_aws.inspector_session().client("iam")

    iam.create_user(UserName="shown")
    iam.get_user(UserName="shown")  # AWS shows it: from now on a not-found is true
    by_hand.delete_user(UserName="shown")
    iam.create_user(UserName="never-shown")
    by_hand.delete_user(UserName="never-shown")  # gone before any call saw it
    faulty_aws.clear_log()

    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_user(UserName="shown")
    assert faulty_aws.count("iam:GetUser") == 1 and ctx.propagation.waits == ()

    with pytest.raises(ClientError, match="NoSuchEntity"):  # could still be lag: waited out
        iam.get_user(UserName="never-shown")
    assert faulty_aws.count("iam:GetUser") > 2
    [wait] = ctx.propagation.waits
    assert (wait.name, wait.gave_up) == ("never-shown", True)


def test_a_not_found_about_something_inside_a_new_entity_is_answered_at_once(faulty_aws):
    """The folder marker not yet made in the new bucket, an inline policy the new user does not
    have: "not found" about what is asked for *in* the new thing is true at once, lag or not."""
    import boto3
    from botocore.exceptions import ClientError

    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext

    faulty_aws.lag(LAG)
    ctx = RunContext(build_config({"bucket": BUCKET}).config, boto3.Session())
    iam, s3 = ctx.client("iam"), ctx.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    iam.create_user(UserName=USER)
    faulty_aws.lag(0.0)  # AWS shows them now; the run has not seen them answer yet
    faulty_aws.clear_log()

    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=BUCKET, Key="builds/")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_user_policy(UserName=USER, PolicyName="not-there")

    assert faulty_aws.count("s3:HeadObject") == 1 and faulty_aws.count("iam:GetUserPolicy") == 1
    assert ctx.propagation.waits == ()
