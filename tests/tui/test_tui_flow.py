"""The wizard in the terminal, driven with Pilot against moto: what the operator sees and gets.

Most tests use an in-memory keyring stand-in (``MemoryStore``); one walks with the real GNOME
Keyring. Every assertion is about an outcome: resources in moto, entries in the keyring, text on
the screen, keys pressed, requests made.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from circleci_s3_wizard.screens.app import WizardApp, make_app
from circleci_s3_wizard.screens.confirm_screen import ConfirmScreen
from circleci_s3_wizard.screens.help_screen import HelpScreen
from tests.tui.support import (
    Faults,
    KeyCounter,
    MemoryClipboard,
    MemoryStore,
    connected,
    flat,
    goto,
    screen_text,
    settle,
    wait_for,
    wait_page,
)

ACCOUNT = "123456789012"
BUCKET = f"circleci-builds-{ACCOUNT}"  # the name the wizard suggests for moto's account
KEYS_STEPS = ["bucket", "folder", "group", "policy", "attach", "user", "access_key", "circleci"]


def new_app(session: Any, store: Any = None, clipboard: Any = None, **answers: Any) -> WizardApp:
    return make_app(answers, session=session,
                    secret_store=store if store is not None else MemoryStore(),
                    clipboard=clipboard if clipboard is not None else MemoryClipboard())


def apply_with_engine(session: Any, store: Any, **answers: Any) -> None:
    """The whole setup made headless, as a previous run would have."""
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine

    config = build_config({"bucket": BUCKET, "create_bucket": True, **answers}).config
    engine = Engine(RunContext(config, session, secrets=store))
    engine.apply(engine.plan())


def secret_of(store: Any, user: str = "circleci_service") -> str:
    key = store.load_access_key(user)
    assert key is not None
    return key.secret_access_key


async def test_a_newcomer_finishes_in_at_most_twelve_keys_at_80x24(tui_aws: Any) -> None:
    store = MemoryStore()
    app = new_app(tui_aws, store)
    seen: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        keys = KeyCounter(pilot)
        await connected(pilot)
        await keys.press("enter")
        for number, key in enumerate(KEYS_STEPS, 1):
            await wait_page(pilot, key)
            text = screen_text(app)
            seen.append(text)
            assert f"Step {number} of 8" in text
            assert "What will happen" in text
            if number > 1:  # the previous step's result, on top of this page
                assert f"Step {number - 1} · " in text and "✓" in text
            await keys.press("enter")
            if key == "access_key":  # a new key stays on screen: its id and masked secret
                await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
                masked = "•" * 16 + secret_of(store)[-4:]
                await wait_for(pilot, lambda m=masked: m in screen_text(app), what="the mask")
                seen.append(screen_text(app))
                await keys.press("enter")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        seen.append(screen_text(app))
        assert "should be allowed" in seen[-1]
        assert " proven, 0 failed" in seen[-1] and " passed, " not in seen[-1]  # the CLI's words
        assert "Block Public Access on the bucket: should be" not in seen[-1]
        await keys.press("enter")
        await wait_page(pilot, "done")
        done = flat(screen_text(app))
        seen.append(done)
        await keys.press("enter")
        await pilot.pause(0.1)
    assert keys.count <= 12, keys.count
    assert app.return_code == 0
    for arn in (f"arn:aws:s3:::{BUCKET}",
                f"arn:aws:iam::{ACCOUNT}:group/circleci-s3-wizard/circleci_devops",
                f"arn:aws:iam::{ACCOUNT}:user/circleci-s3-wizard/circleci_service"):
        assert arn in done
    assert "credential-process --user circleci_service" in done
    iam, s3 = tui_aws.client("iam"), tui_aws.client("s3")
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["s3_full_access_devops_builds"]
    groups = iam.list_groups_for_user(UserName="circleci_service")["Groups"]
    assert [g["GroupName"] for g in groups] == ["circleci_devops"]
    keys_in_iam = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys_in_iam] == [
        store.load_access_key("circleci_service").access_key_id]
    assert s3.head_object(Bucket=BUCKET, Key="builds/")["ContentLength"] == 0
    assert all(secret_of(store) not in text for text in seen)


async def test_oidc_with_a_circleci_uuid_slug_needs_no_token_and_few_keys(
        tui_aws: Any) -> None:
    org, project = "6f0e2b1c-1111-4c8a-9d2e-0123456789ab", "0a1b2c3d-2222-4e5f-8a9b-abcdefabcdef"
    app = new_app(tui_aws, auth="oidc", circleci_projects=(f"circleci/{org}/{project}",))
    async with app.run_test(size=(100, 30)) as pilot:
        keys = KeyCounter(pilot)
        await connected(pilot)
        await keys.press("enter")
        for key in ("bucket", "folder", "policy", "oidc_provider", "oidc_role", "circleci",
                    "retire_keys"):
            await wait_page(pilot, key)
            assert "✗" not in screen_text(app), screen_text(app)
            if key == "circleci":  # by hand, with the ARN of the role that now exists
                text = flat(screen_text(app))
                assert (f"AWS_ROLE_ARN arn:aws:iam::{ACCOUNT}:role/circleci-s3-wizard/"
                        "circleci_s3_builds") in text
                assert "AWS_ACCESS_KEY_ID" not in text
            if key == "retire_keys":  # no token, no key: nothing to do, and Enter goes on
                assert "Nothing for the wizard to do here" in screen_text(app)
            await keys.press("enter")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        await keys.press("enter")
        await wait_page(pilot, "done")
        assert "Run the pipeline once" in flat(screen_text(app))
        await keys.press("enter")
        await pilot.pause(0.1)
    assert keys.count <= 10, keys.count  # one Enter per page, Welcome to Done
    iam = tui_aws.client("iam")
    role = iam.get_role(RoleName="circleci_s3_builds")["Role"]
    trust = json.dumps(role["AssumeRolePolicyDocument"])
    assert project in trust and f"oidc.circleci.com/org/{org}" in trust
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"].rsplit("/", 1)[1] for p in providers] == [org]
    assert iam.list_users()["Users"] == []  # no user, no key: nothing long-lived


async def test_a_rerun_shows_every_step_done_at_once_and_reads_nothing_again(
        aws_session: Any) -> None:
    store = MemoryStore()
    apply_with_engine(aws_session, store)
    before = store.load_access_key("circleci_service")
    faults = Faults(aws_session)  # only counts requests here
    app = new_app(aws_session, store, bucket=BUCKET, create_bucket=True)
    async with app.run_test(size=(100, 30)) as pilot:
        keys = KeyCounter(pilot)
        await connected(pilot)
        await wait_for(pilot, lambda: all(app.state.fresh(k) for k in KEYS_STEPS),
                       what="the prefetched plan")
        before_walk = dict(faults.calls)
        # Enter on Welcome goes straight to Verify here (test_tui_run_through): walked page
        # by page instead, from the palette, each page says so at once.
        app.jump_to("bucket")
        for key in KEYS_STEPS:
            await wait_for(pilot, lambda key=key: getattr(app.screen, "KEY", "") == key)
            assert "Already done" in screen_text(app) or key == "circleci"
            if key == "circleci":
                await settle(pilot)
                new = {k: v - before_walk.get(k, 0) for k, v in faults.calls.items()
                       if before_walk.get(k) != v}
                assert new == {"s3:ListBuckets": 1}, new  # the bucket page's list; no plan read
            await keys.press("enter")
        await wait_page(pilot, "verify")
    assert keys.count == len(KEYS_STEPS)  # one Enter per page, nothing to confirm
    listed = aws_session.client("iam").list_access_keys(UserName="circleci_service")
    assert [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]] == [before.access_key_id]
    assert store.load_access_key("circleci_service") == before


async def test_the_walk_with_the_real_keyring(tui_aws: Any, secret_store: Any) -> None:
    app = new_app(tui_aws, secret_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        await wait_for(pilot, lambda: "SecretService" in screen_text(app), what="the check")
        await goto(pilot, "bucket")
        for key in KEYS_STEPS[:7]:
            await wait_page(pilot, key)
            await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
        secret = secret_of(secret_store)
        masked = f"{'•' * 16}{secret[-4:]}"
        await wait_for(pilot, lambda: masked in screen_text(app), what="the masked secret")
        assert secret not in screen_text(app)
    stored = secret_store.load_access_key("circleci_service")
    listed = tui_aws.client("iam").list_access_keys(UserName="circleci_service")
    assert [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]] == [stored.access_key_id]


async def test_a_prefix_without_its_slash_never_reaches_the_policy(tui_aws: Any) -> None:
    app = new_app(tui_aws, prefix="builds")
    async with app.run_test(size=(120, 60)) as pilot:
        await goto(pilot, "policy")  # straight from Welcome, by the palette
        await settle(pilot)
        text = screen_text(app)
        assert f"arn:aws:s3:::{BUCKET}/builds/*" in text and '"builds/*"' in text
        assert "builds*" not in text.replace("builds/*", "")
        await goto(pilot, "folder")
        box = app.screen.query_one("#prefix")
        box.value = "artifacts"
        await wait_for(pilot, lambda: app.state.answers["prefix"] == "artifacts", what="typed")
        await goto(pilot, "policy")
        await wait_for(pilot, lambda: f"{BUCKET}/artifacts/*" in screen_text(app),
                       what="the new document")
        await goto(pilot, "bucket")
        await pilot.press("enter")
        await goto(pilot, "policy")
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "KEY", "") == "attach", what="ran")
    iam = tui_aws.client("iam")
    arn = f"arn:aws:iam::{ACCOUNT}:policy/circleci-s3-wizard/s3_full_access_devops_builds"
    document = json.dumps(iam.get_policy_version(PolicyArn=arn, VersionId="v1")
                          ["PolicyVersion"]["Document"])
    assert f"arn:aws:s3:::{BUCKET}/artifacts/*" in document
    assert "artifacts*" not in document


async def test_escape_goes_back_and_keeps_what_was_typed(tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        app.screen.query_one("#group").value = ""
        await pilot.press(*"ci_builders")
        await pilot.press("escape")
        await wait_page(pilot, "folder")
        await pilot.press("escape")
        await wait_page(pilot, "bucket")
        app.jump_to("group")
        await wait_page(pilot, "group")
        assert app.screen.query_one("#group").value == "ci_builders"
        await wait_for(pilot, lambda: "Create IAM group ci_builders" in flat(screen_text(app)),
                       what="the plan for the new name")
        assert app.state.config.group == "ci_builders"


async def test_an_update_asks_first_then_adds_a_policy_version(tui_aws: Any) -> None:
    iam = tui_aws.client("iam")
    # The wizard's own policy (its path and tag), widened by hand since.
    iam.create_policy(PolicyName="s3_full_access_devops_builds", Path="/circleci-s3-wizard/",
                      Tags=[{"Key": "managed-by", "Value": "circleci-s3-wizard"}],
                      PolicyDocument=json.dumps({
                          "Version": "2012-10-17",
                          "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "policy")
        assert "Will update (asks first)" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("n")
        await wait_page(pilot, "policy")
        assert "Nothing was changed" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await wait_for(pilot, lambda: getattr(app.screen, "KEY", "") == "attach", what="update")
        assert "✓ Updated" in screen_text(app)
    arn = f"arn:aws:iam::{ACCOUNT}:policy/circleci-s3-wizard/s3_full_access_devops_builds"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    default = next(v for v in versions if v["IsDefaultVersion"])
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default["VersionId"])
    assert len(versions) == 2
    assert "s3:*" not in json.dumps(document["PolicyVersion"]["Document"])


async def test_a_page_whose_earlier_steps_are_not_done_says_which_first(
        tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "attach")
        text = flat(screen_text(app))
        assert "First do: IAM group (step 3), Policy (step 4)" in text
        for raw in ("ParamValidationError", "NoSuchEntity", "Traceback"):
            assert raw not in text
        await pilot.press("enter")  # goes to the first step to do
        await wait_page(pilot, "group")
        await goto(pilot, "circleci")
        assert "First do:" in screen_text(app) and "Access key (step 7)" in flat(
            screen_text(app))
    assert tui_aws.client("iam").list_groups()["Groups"] == []


async def test_another_run_holding_the_lock_is_a_sentence_and_enter_retries(
        tui_aws: Any) -> None:
    from circleci_s3_wizard.wizard.lock import run_lock

    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        with run_lock("user", "circleci_service", command="apply"):
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen.phase == "failed", what="the refusal")
            text = flat(screen_text(app))
            assert "is changing the setup of user circleci_service right now" in text
            assert "`apply`" in text and "Press Enter to try again" in text
        await pilot.press("enter")
        await wait_for(pilot, lambda: getattr(app.screen, "KEY", "") == "policy", what="retry")
    assert [g["GroupName"] for g in tui_aws.client("iam").list_groups()["Groups"]] == [
        "circleci_devops"]


async def test_the_keyring_is_checked_on_welcome_before_any_step(tui_aws: Any) -> None:
    from keyring.backends import fail

    from circleci_s3_wizard.wizard.secret_store import SecretStore

    app = new_app(tui_aws, SecretStore(fail.Keyring()))
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await wait_for(pilot, lambda: "✗" in screen_text(app), what="the keyring check")
        text = flat(screen_text(app))
        assert "The OS keyring cannot hold the secret" in text
        assert "gnome-keyring-daemon" in text  # how to fix it, on this platform
        assert "choose OIDC above" in text and "AWS" not in text.split("✗", 1)[1][:60]
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.KEY == "welcome"  # no step starts with a keyring that cannot keep it
        await pilot.press("up")  # OIDC: no secret to keep
        await wait_for(pilot, lambda: app.state.answers["auth"] == "oidc", what="OIDC chosen")
        await pilot.press("tab", *"gh/acme/site")
        await wait_for(pilot, lambda: app.state.config is not None, what="the slug")
        await pilot.press("enter")
        await wait_page(pilot, "bucket")
    assert tui_aws.client("s3").list_buckets()["Buckets"] == []


async def test_the_choice_reads_without_colour(tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        rows = screen_text(app)
        assert "( ) OIDC role" in rows and "(•) Access key" in rows
        assert "Chosen: CircleCI will use an access key" in flat(rows)
        await pilot.press("up")
        await wait_for(pilot, lambda: "(•) OIDC role" in screen_text(app), what="the change")
        text = flat(screen_text(app))
        assert "( ) Access key" in text and "Chosen: CircleCI will assume an IAM role" in text


async def test_help_explains_the_step_in_the_registry_s_words(tui_aws: Any) -> None:
    from circleci_s3_wizard.wizard.registry import info

    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        text = await _help(pilot, app)
        assert flat(info("group").why) in text
        assert "Run this step" in text and "Leave the wizard" in text
        await pilot.press("escape")
        await wait_page(pilot, "group")


async def test_help_names_the_keys_a_page_s_widgets_understand(tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_page(pilot, "welcome")
        text = await _help(pilot, app)
        assert text.index("Keys") < text.index("This wizard gives")  # keys before the prose
        for said in ("↑ / ↓ Change the sign-in mode", "tab OIDC: move to the CircleCI project slug",
                     "Leave the wizard"):
            assert flat(said) in text, said
        await pilot.press("escape")
        await goto(pilot, "policy")
        text = await _help(pilot, app)
        for said in ("↑ / ↓ Choose what CircleCI may do",
                     "pagedown Scroll down to the policy JSON"):
            assert flat(said) in text, said


async def _help(pilot: Any, app: Any) -> str:
    """F1 on the current page: the help's text, flattened."""
    await pilot.press("f1")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
    return flat(screen_text(app))


async def test_quitting_mid_setup_asks_first(tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        assert "What was already created stays in AWS" in screen_text(app)
        await pilot.press("n")
        await wait_page(pilot, "group")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="question")
        await pilot.press("y")
        await pilot.pause(0.2)
    assert app.return_code == 0


async def test_the_footer_keeps_quit_and_the_primary_key_at_80_and_60_columns(
        tui_aws: Any) -> None:
    from tests.tui.support import visible_rows

    for size in ((80, 24), (60, 20)):
        app = new_app(tui_aws)
        async with app.run_test(size=size) as pilot:
            await goto(pilot, "access_key")
            await wait_for(pilot, lambda: "Quit" in visible_rows(pilot.app)[-1], what="Footer")
            footer = visible_rows(app)[-1]
            assert "Run step" in footer and "Quit" in footer, footer
            steps = app.screen.query_one("#steps")
            assert steps.display == (size[0] >= 80) or steps.region.width == 0
            assert "Step 7 of 8 · Access key" in "\n".join(visible_rows(app))


async def test_a_crash_report_never_shows_local_variables(capsys: Any,
                                                         tui_aws: Any) -> None:
    app = new_app(tui_aws)
    secret_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzCRASHTEST"

    def explode() -> None:
        secret = secret_value  # noqa: F841 - a local the report must not show
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):  # run_test re-raises it for the test
        async with app.run_test(size=(80, 24)) as pilot:
            app.call_later(explode)
            await pilot.pause(0.5)
    rendered = capsys.readouterr().err
    assert "RuntimeError" in rendered and "boom" in rendered
    assert secret_value not in rendered


async def test_enter_pressed_before_aws_answered_still_starts(tui_aws: Any) -> None:
    app = new_app(tui_aws)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")  # at once, while connecting: not a wasted keystroke
        await wait_page(pilot, "bucket")
