"""AWS throttles: idempotent calls back off and go through, creates are never made twice.

The fault proxy's throttle model (:mod:`tests.fixtures.throttle_model`) puts IAM's account-wide
rate limit in front of moto (one token bucket shared by IAM's APIs, or by the writes), answering
what AWS answers when a bucket is empty (400 ``Throttling``; S3 503 ``SlowDown``, a bare 503 to a
HEAD), without moto acting. The wizard runs as the operator runs it (the real CLI in a
subprocess, the session's GNOME Keyring, the CircleCI stand-in for OIDC); what happened is read
back from moto, the keyring and the proxy's log, never from the wizard.

Two kinds of run:

* with botocore's own backoff (the process started afresh, without the fault matrix's shortened
  waits of ``tests/fixtures/quick_backoff``): a fresh keys or OIDC apply under a rate that
  throttles many of its calls either finishes whole in one run, or says AWS throttled it and the
  re-run converges;
* with the shortened waits (botocore gives up within a fraction of a second): the run is
  throttled past its bound in the middle of its writes, says so in a sentence, and the re-run,
  once the account is quiet, converges.

Either way no create reaches AWS twice across all the runs (a throttled request never does), and
a last apply writes nothing.
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.fixtures.wizard_runs import (
    APPLY,
    PROJECT,
    QUICK_BACKOFF,
    Run,
    WizardCLI,
    check_output,
    finish,
    read_world,
)

pytestmark = pytest.mark.slow

CREATES = ("iam:CreateUser", "iam:CreateGroup", "iam:CreatePolicy", "iam:CreateAccessKey",
           "iam:CreateRole", "iam:CreateOpenIDConnectProvider", "s3:CreateBucket")
#: IAM's rate for the whole account: a burst of 2, then 4 calls a second. A plan alone asks IAM
#: about ten things at once, so many calls meet it; botocore's jittered backoff (up to 5
#: attempts, waits of rand(0, 2^i) s) spreads them out again within a few seconds.
IAM_RATE, IAM_BURST = 4.0, 2
#: Writes only, shared: the plan goes through, and the writes are throttled as they start.
WRITES = ("iam:Create*", "iam:Attach*", "iam:Add*", "iam:Tag*", "iam:Put*", "s3:Create*",
          "s3:Put*")
OIDC = (*APPLY, "--auth", "oidc", "--circleci-project", PROJECT)


def _botocore_backoff(cli: WizardCLI, *args: str) -> Run:
    """A run started afresh with botocore's real waits (no ``quick_backoff`` on its path)."""
    env = cli.env()
    env["PYTHONPATH"] = os.pathsep.join(p for p in env["PYTHONPATH"].split(os.pathsep)
                                        if p != str(QUICK_BACKOFF))
    return finish(cli.start(*args, env=env), timeout=180)


def _made_twice(proxy) -> dict[str, int]:
    """Creates moto acted on more than once, over every run so far (one entity each here)."""
    acted = Counter(c.operation for c in proxy.calls() if c.operation in CREATES
                    and c.moto_status is not None and c.moto_status < 300)
    return {op: n for op, n in acted.items() if n > 1}


def _says_throttled(run: Run) -> None:
    assert "Traceback" not in run.text
    sentence = run.sentence()
    assert "throttling requests" in sentence, sentence
    assert "[Throttling]" in sentence or "[SlowDown]" in sentence or "[503]" in sentence


def _throttle_account(proxy):
    """IAM's one bucket for the whole account, full."""
    return proxy.throttle_rate(IAM_RATE, IAM_BURST, ["iam:*"], shared=True)


def _converges(cli: WizardCLI, proxy, args: tuple[str, ...], first: Run, circleci=None) -> None:
    """After ``first``: whole (or, when throttled, whole after one re-run), nothing made twice,
    and one more apply writes nothing."""
    world = read_world(proxy, circleci)
    check_output(first, world)
    if first.code != 0:
        assert first.code == 1, first.text
        _says_throttled(first)
        again = _botocore_backoff(cli, *args)
        assert again.code == 0, again.text
        world = read_world(proxy, circleci)
        check_output(again, world)
    if circleci is None:
        assert world.problems() == [], world.problems()
    assert _made_twice(proxy) == {}, "a create reached AWS twice"
    writes = len(proxy.mutating())
    last = _botocore_backoff(cli, *args)
    assert last.code == 0, last.text
    assert [c.operation for c in proxy.mutating()[writes:]] == []


def test_a_keys_apply_under_iam_throttling_finishes_or_converges(wizard_cli, faulty_aws):
    model = _throttle_account(faulty_aws)

    run = _botocore_backoff(wizard_cli, *APPLY)

    assert len(model.throttled) >= 5, "the rate was too loose to throttle anything"
    assert all(c.moto_status is None for c in faulty_aws.calls() if c.outcome == "throttled")
    _converges(wizard_cli, faulty_aws, APPLY, run)


def test_an_oidc_apply_under_iam_throttling_finishes_or_converges(
        wizard_cli, faulty_aws, circleci_standin):
    circleci_standin.add_project(PROJECT)
    wizard_cli.extra_env.update(CIRCLE_TOKEN=circleci_standin.token,
                                CIRCLE_HOST=circleci_standin.url)
    model = _throttle_account(faulty_aws)

    run = _botocore_backoff(wizard_cli, *OIDC)

    assert len(model.throttled) >= 5, "the rate was too loose to throttle anything"
    _converges(wizard_cli, faulty_aws, OIDC, run, circleci_standin)
    inspector = faulty_aws.inspector_session().client("iam")
    role = inspector.get_role(RoleName="circleci_s3_builds")["Role"]
    providers = inspector.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [
        role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Federated"]]
    assert len(inspector.list_attached_role_policies(
        RoleName="circleci_s3_builds")["AttachedPolicies"]) == 1
    assert set(circleci_standin.env(PROJECT)) == {"AWS_ROLE_ARN", "AWS_REGION",
                                                  "AWS_DEFAULT_REGION"}


@pytest.mark.parametrize("args", [APPLY, OIDC], ids=["keys", "oidc"])
def test_writes_throttled_past_the_bound_say_so_and_the_rerun_converges(
        args, wizard_cli, faulty_aws, circleci_standin):
    circleci = None
    if args is OIDC:
        circleci = circleci_standin
        circleci.add_project(PROJECT)
        wizard_cli.extra_env.update(CIRCLE_TOKEN=circleci.token, CIRCLE_HOST=circleci.url)
    model = faulty_aws.throttle_rate(1.0, 1, WRITES, shared=True)

    run = wizard_cli.run(*args, timeout=120)  # the matrix's shortened waits: gives up early

    assert run.code == 1, run.text
    _says_throttled(run)
    assert model.throttled, "nothing was throttled"
    check_output(run, read_world(faulty_aws, circleci))
    assert _made_twice(faulty_aws) == {}
    faulty_aws.unthrottle()  # later, the account is quiet again
    again = wizard_cli.run(*args, timeout=120)
    assert again.code == 0, again.text
    world = read_world(faulty_aws, circleci)
    check_output(again, world)
    if circleci is None:
        assert world.problems() == [], world.problems()
    assert _made_twice(faulty_aws) == {}, "a create reached AWS twice"
    writes = len(faulty_aws.mutating())
    last = wizard_cli.run(*args, timeout=120)
    assert last.code == 0, last.text
    assert [c.operation for c in faulty_aws.mutating()[writes:]] == []


# --- the model itself ---------------------------------------------------------------------


def test_a_token_bucket_answers_its_burst_then_its_rate():
    from tests.fixtures.aws_operations import Operation
    from tests.fixtures.throttle_model import ThrottleModel

    now = [0.0]
    model = ThrottleModel(2.0, 3, ["iam:*"], clock=lambda: now[0])
    user, group = Operation("iam", "GetUser", None), Operation("iam", "GetGroup", None)
    assert [model.refuses(user) for _ in range(4)] == [False, False, False, True]
    assert not model.refuses(group), "each API has its own bucket"
    now[0] = 0.5  # one token back (2 a second)
    assert [model.refuses(user) for _ in range(2)] == [False, True]
    assert not model.refuses(Operation("s3", "HeadBucket", None)), "not an API it covers"
    assert [(t.operation, t.at) for t in model.throttled] == [("iam:GetUser", 0.0),
                                                             ("iam:GetUser", 0.5)]
    shared = ThrottleModel(1.0, 1, ["iam:*"], shared=True, clock=lambda: now[0])
    assert [shared.refuses(user), shared.refuses(group)] == [False, True]


def test_the_proxy_throttles_as_aws_does_and_moto_never_acts(faulty_aws, inspector):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    faulty_aws.throttle_rate(0.01, 1, ["iam:CreateGroup", "s3:CreateBucket"])
    once = Config(retries={"total_max_attempts": 1})
    iam = boto3.client("iam", region_name="us-east-1", config=once)
    s3 = boto3.client("s3", region_name="us-east-1", config=once)
    iam.create_group(GroupName="first")
    s3.create_bucket(Bucket="first-bucket")
    with pytest.raises(ClientError) as iam_error:
        iam.create_group(GroupName="second")
    with pytest.raises(ClientError) as s3_error:
        s3.create_bucket(Bucket="second-bucket")

    assert iam_error.value.response["Error"]["Code"] == "Throttling"
    assert iam_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert s3_error.value.response["Error"]["Code"] == "SlowDown"
    assert s3_error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    throttled = [c for c in faulty_aws.calls() if c.outcome == "throttled"]
    assert [(c.operation, c.moto_status) for c in throttled] == [
        ("iam:CreateGroup", None), ("s3:CreateBucket", None)]
    real = inspector()
    assert [g["GroupName"] for g in real.client("iam").list_groups()["Groups"]] == ["first"]
    assert [b["Name"] for b in real.client("s3").list_buckets()["Buckets"]] == ["first-bucket"]
    faulty_aws.unthrottle()
    iam.create_group(GroupName="second")


def test_s3_throttling_a_head_says_so(wizard_cli, faulty_aws):
    """A HEAD has no body: S3's 503 to a throttled HeadBucket carries no code, only the
    status; the sentence still says it is throttling."""
    faulty_aws.fail("s3:HeadBucket", "throttle", times=None)

    run = wizard_cli.run("plan", "--create-bucket", "--bucket", "fault-builds", timeout=60)

    assert run.code == 1, run.text
    _says_throttled(run)
    assert "[503]" in run.sentence()


async def test_a_tui_walk_under_iam_throttling_goes_through_each_step_once(faulty_aws) -> None:
    """The TUI, in this process (botocore's real backoff), from the group page to the key:
    every page's checks and writes meet IAM's account-wide rate, and each step is done once,
    the key held by the store."""
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

    store = MemoryStore()
    model = _throttle_account(faulty_aws)
    app = make_app({"bucket": "fault-builds", "create_bucket": True}, session=boto3.Session(),
                   secret_store=store, clipboard=MemoryClipboard())
    done = {"group": ("policy", "Created IAM group circleci_devops"),
            "policy": ("attach", "Created policy s3_full_access_devops_builds"),
            "attach": ("user", "Attached policy"),
            "user": ("access_key", "Created IAM user circleci_service")}
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        for page, (after, said) in done.items():
            await pilot.press("enter")
            await wait_page(pilot, after, timeout=60)
            assert f"✓ Done: {said}" in flat(screen_text(app)), (page, screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", timeout=60, what="the key")
        assert "Traceback" not in screen_text(app)

    assert model.throttled, "the rate was too loose to throttle anything"
    assert _made_twice(faulty_aws) == {}
    iam = faulty_aws.inspector_session().client("iam")
    groups = iam.list_groups_for_user(UserName="circleci_service")["Groups"]
    assert [g["GroupName"] for g in groups] == ["circleci_devops"]
    keys = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [
        store.load_access_key("circleci_service").access_key_id]
