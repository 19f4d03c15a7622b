"""The wizard in the terminal, driven with Pilot against moto: what the operator sees and gets.

Most tests use an in-memory keyring stand-in (``MemoryStore``); one walks the whole flow with the
real GNOME Keyring (``secret_store``). Every assertion is about the outcome: resources in moto,
entries in the keyring, text on the screen, what the clipboard holds.
"""

from __future__ import annotations

from typing import Any

import pytest

from screens.app import WizardApp, make_app
from screens.confirm_screen import ConfirmScreen
from screens.help_screen import HelpScreen
from tests.tui_support import MemoryClipboard, MemoryStore, screen_text, wait_for, wait_page
from wizard.config import SetupConfig

BUCKET = "circleci-builds-123456789012"  # the name the bucket page suggests for moto's account
STEP_PAGES = ["bucket", "folder", "group", "policy", "attach", "user", "access_key", "circleci"]


def new_app(session: Any, store: Any = None, clipboard: Any = None, **changes: Any) -> WizardApp:
    return make_app(SetupConfig().with_changes(**changes), session_factory=lambda _: session,
                    secret_store=store if store is not None else MemoryStore(),
                    clipboard=clipboard if clipboard is not None else MemoryClipboard())


async def start(pilot: Any) -> None:
    """Wait for the connection, then leave the Welcome page."""
    app = pilot.app
    await wait_for(pilot, lambda: app.connection != "connecting", what="the connection")
    assert app.connection == "ready", app.connection_error
    await pilot.press("enter")


async def run_page(pilot: Any, key: str) -> str:
    """On page ``key``: Enter runs the step; returns the state it ends in (applied/failed)."""
    await wait_page(pilot, key)
    screen = pilot.app.screen
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen.state in ("applied", "failed"), what=f"{key} to run")
    return screen.state


async def walk(pilot: Any, secret: Any = None, seen: list[str] | None = None) -> None:
    """Run every step page with its defaults and continue, up to the Verify page."""
    for key in STEP_PAGES:
        state = await run_page(pilot, key)
        text = screen_text(pilot.app)
        assert state == "applied", text
        if seen is not None:
            seen.append(text)
        await pilot.press("enter")


def secret_of(store: Any, user: str = "circleci_service") -> str:
    key = store.load_access_key(user)
    assert key is not None
    return key.secret_access_key


async def test_whole_flow_with_defaults_at_80x24(aws_session: Any) -> None:
    store = MemoryStore()
    app = new_app(aws_session, store)
    seen: list[str] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await start(pilot)
        await walk(pilot, seen=seen)
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the verify report")
        verify_text = screen_text(app)
        assert "should be allowed" in verify_text and "unproven" in verify_text
        await pilot.press("enter")
        await wait_page(pilot, "done")
        done = screen_text(app)
        seen += [verify_text, done]
        for arn in (f"arn:aws:s3:::{BUCKET}",
                    "arn:aws:iam::123456789012:group/circleci-s3-wizard/circleci_devops",
                    "arn:aws:iam::123456789012:policy/circleci-s3-wizard/"
                    "s3_full_access_devops_builds",
                    "arn:aws:iam::123456789012:user/circleci-s3-wizard/circleci_service"):
            assert arn in done
        await pilot.press("enter")
    assert app.return_code == 0
    # What AWS holds now is the tutorial's setup.
    iam, s3 = aws_session.client("iam"), aws_session.client("s3")
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["s3_full_access_devops_builds"]
    groups = iam.list_groups_for_user(UserName="circleci_service")["Groups"]
    assert [g["GroupName"] for g in groups] == ["circleci_devops"]
    keys = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [store.load_access_key("circleci_service")
                                                 .access_key_id]
    assert s3.head_object(Bucket=BUCKET, Key="builds/")["ContentLength"] == 0
    # The secret was never on any screen.
    secret = secret_of(store)
    assert all(secret not in text for text in seen)
    assert app.page_status["access_key"] == "done"


async def test_rerun_on_existing_setup_shows_steps_already_done(aws_session: Any) -> None:
    from wizard.context import RunContext
    from wizard.engine import Engine

    store = MemoryStore()
    config = SetupConfig(bucket=BUCKET, create_bucket=True)
    Engine(RunContext(config, aws_session, secrets=store)).apply()
    key_before = store.load_access_key("circleci_service")

    app = new_app(aws_session, store, bucket=BUCKET, create_bucket=True)
    async with app.run_test(size=(100, 32)) as pilot:
        await start(pilot)
        for key in STEP_PAGES[:-1]:
            await wait_page(pilot, key)
            assert app.page_status.get(key) == "exists", key
            assert "Already done" in screen_text(app)
            if key == "access_key":  # a re-run still offers the stored secret's copy-once
                text = screen_text(app)
                assert key_before.access_key_id in text and "Copy secret once" in text
                assert key_before.secret_access_key not in text
            assert await run_page(pilot, key) == "applied"
            assert app.results[key].action == "exists"
            await pilot.press("enter")
        await wait_page(pilot, "circleci")
    # Nothing new was made: still the one key, the same secret.
    keys = aws_session.client("iam").list_access_keys(
        UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [key_before.access_key_id]
    assert store.load_access_key("circleci_service") == key_before


async def test_flow_with_the_real_keyring(aws_session: Any, secret_store: Any) -> None:
    app = new_app(aws_session, secret_store)
    async with app.run_test(size=(100, 32)) as pilot:
        await start(pilot)
        for key in STEP_PAGES[:7]:
            assert await run_page(pilot, key) == "applied", screen_text(app)
            if key == "access_key":
                text = screen_text(app)
                secret = secret_of(secret_store)
                assert secret not in text
                assert f"{'•' * 16}{secret[-4:]}" in text
                assert "SecretService" in text
            await pilot.press("enter")
        await wait_page(pilot, "circleci")
    stored = secret_store.load_access_key("circleci_service")
    keys = aws_session.client("iam").list_access_keys(
        UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [stored.access_key_id]


async def goto(pilot: Any, key: str) -> None:
    """Jump straight to a page, as the command palette does."""
    app = pilot.app
    await wait_for(pilot, lambda: app.connection == "ready", what="the connection")
    app.jump_to(key)
    await wait_page(pilot, key)


async def prepare_user(session: Any, store: Any) -> None:
    """Everything up to the user, made by the engine, so a test can start at the key page."""
    from wizard.context import RunContext
    from wizard.engine import Engine

    ctx = RunContext(SetupConfig(bucket=BUCKET, create_bucket=True), session, secrets=store)
    engine = Engine(ctx)
    for step in engine.steps:
        if step.key in {"bucket", "folder", "group", "policy", "attach", "user"}:
            step.apply(ctx)


async def test_secret_copy_once_with_osc52_fallback(aws_session: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    store = MemoryStore()
    await prepare_user(aws_session, store)
    app = make_app(SetupConfig(bucket=BUCKET), session_factory=lambda _: aws_session,
                   secret_store=store)  # no clipboard given: desktop first, then OSC 52
    async with app.run_test(size=(100, 32)) as pilot:
        app.clear_after = 0.5
        await goto(pilot, "access_key")
        assert await run_page(pilot, "access_key") == "applied"
        secret = secret_of(store)
        key_id = store.load_access_key("circleci_service").access_key_id
        await pilot.press("k")
        await wait_for(pilot, lambda: app.clipboard == key_id, what="the key id copy")
        await pilot.press("s")
        await wait_for(pilot, lambda: app.clipboard == secret, what="the secret copy")
        await wait_for(pilot, lambda: "OSC 52" in screen_text(app), what="the mechanism")
        text = screen_text(app)
        assert secret not in text
        assert "copied once" in text
        assert not app.screen.query_one("#copy-secret").display
        assert "copy_secret" not in {b.binding.action for b in app.active_bindings.values()}
        # A second try does nothing; after the delay the clipboard no longer holds the secret.
        await pilot.press("s")
        await wait_for(pilot, lambda: app.clipboard == "", timeout=5, what="the clear")
        assert secret not in screen_text(app)


async def test_clipboard_cleared_only_if_it_still_holds_the_secret(aws_session: Any) -> None:
    store, clipboard = MemoryStore(), MemoryClipboard()
    await prepare_user(aws_session, store)
    app = new_app(aws_session, store, clipboard, bucket=BUCKET)
    async with app.run_test(size=(100, 32)) as pilot:
        app.clear_after = 0.3
        await goto(pilot, "access_key")
        assert await run_page(pilot, "access_key") == "applied"
        await pilot.press("s")
        await wait_for(pilot, lambda: clipboard.text == secret_of(store), what="the copy")
        clipboard.copy("something the operator copied later")
        await pilot.pause(0.8)
        assert clipboard.text == "something the operator copied later"
        assert "test clipboard" in screen_text(app)


async def test_escape_goes_back_and_keeps_what_was_typed(aws_session: Any) -> None:
    app = new_app(aws_session)
    async with app.run_test(size=(100, 32)) as pilot:
        await goto(pilot, "group")
        field = app.screen.query_one("#group")
        field.value = ""
        await pilot.press(*"ci_builders")
        await pilot.press("escape")
        await wait_page(pilot, "folder")
        await pilot.press("escape")
        await wait_page(pilot, "bucket")
        app.jump_to("group")
        await wait_page(pilot, "group")
        assert app.screen.query_one("#group").value == "ci_builders"
        assert app.config.group == "ci_builders"
        assert "Create IAM group ci_builders" in screen_text(app)


async def test_policy_update_asks_first_then_adds_a_version(aws_session: Any) -> None:
    import json

    iam = aws_session.client("iam")
    iam.create_policy(PolicyName="s3_full_access_devops_builds", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
    app = new_app(aws_session, bucket=BUCKET)
    async with app.run_test(size=(100, 32)) as pilot:
        await goto(pilot, "policy")
        assert "Will update (asks first)" in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("n")
        await wait_page(pilot, "policy")
        assert app.screen.state == "ready"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        screen = app.screen
        await wait_for(pilot, lambda: getattr(screen, "state", "") == "applied", what="update")
    arn = "arn:aws:iam::123456789012:policy/s3_full_access_devops_builds"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 2
    default = next(v for v in versions if v["IsDefaultVersion"])
    document = iam.get_policy_version(PolicyArn=arn, VersionId=default["VersionId"])
    assert "s3:*" not in json.dumps(document["PolicyVersion"]["Document"])


async def test_policy_page_shows_json_and_words(aws_session: Any) -> None:
    app = new_app(aws_session, bucket=BUCKET)
    async with app.run_test(size=(120, 60)) as pilot:
        await goto(pilot, "policy")
        text = screen_text(app)
        assert "cannot see or touch anything in" in text
        assert '"s3:prefix"' in text and f"arn:aws:s3:::{BUCKET}/builds/*" in text
        await pilot.press("tab", "down")  # the access level: upload only
        await pilot.press("space")
        await wait_for(pilot, lambda: app.config.access == "upload-only", what="access level")
        await wait_page(pilot, "policy")
        await wait_for(pilot, lambda: "cannot download or delete" in screen_text(app),
                       what="the new summary")


async def test_quitting_mid_setup_asks_first(aws_session: Any) -> None:
    app = new_app(aws_session)
    async with app.run_test(size=(100, 32)) as pilot:
        await goto(pilot, "group")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "What was already created stays in AWS" in screen_text(app)
        await pilot.press("n")
        await wait_page(pilot, "group")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        await pilot.press("y")
        await pilot.pause(0.2)
    assert app.return_code == 0


async def test_help_and_command_palette(aws_session: Any) -> None:
    app = new_app(aws_session)
    async with app.run_test(size=(100, 32)) as pilot:
        await goto(pilot, "group")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        assert "Permissions belong on a group" in screen_text(app)
        await pilot.press("escape")
        await wait_page(pilot, "group")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"Go to: Policy")
        await pilot.pause(0.4)
        await pilot.press("enter")
        await wait_page(pilot, "policy")
        dark = app.current_theme.dark
        app.action_toggle_theme()
        assert app.current_theme.dark is not dark


async def test_circleci_page_without_token_gives_manual_steps(aws_session: Any) -> None:
    store, clipboard = MemoryStore(), MemoryClipboard()
    await prepare_user(aws_session, store)
    app = new_app(aws_session, store, clipboard, bucket=BUCKET)
    async with app.run_test(size=(100, 60)) as pilot:
        await goto(pilot, "access_key")
        assert await run_page(pilot, "access_key") == "applied"
        await pilot.press("enter")
        await wait_page(pilot, "circleci")
        await wait_for(pilot, lambda: "Project Settings > Environment" in screen_text(app),
                       what="manual instructions")
        text = screen_text(app)
        key = store.load_access_key("circleci_service")
        assert key.access_key_id in text and key.secret_access_key not in text
        assert "aws-cli" in text  # the config.yml snippet
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: "version: 2.1" in clipboard.text, what="yml copy")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: clipboard.text == key.secret_access_key, what="secret")
        await wait_for(pilot, lambda: not app.screen.query_one("#cci-copy-secret").display,
                       what="the copy-once button to go")
        assert await run_page(pilot, "circleci") == "applied"
        assert app.results["circleci"].action == "skip"


async def test_sandbox_banner_and_first_frame_before_aws(monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    from wizard.sandbox import Sandbox

    for name in Sandbox().environment():  # the sandbox points this process at itself
        monkeypatch.setenv(name, "restored-after-test")
    app = make_app(SetupConfig(), sandbox=True, secret_store=MemoryStore(),
                   clipboard=MemoryClipboard(), stable_ids=True)
    async with app.run_test(size=(100, 32)) as pilot:
        assert "Connecting to AWS" in screen_text(app) or app.connection == "ready"
        await wait_for(pilot, lambda: app.connection != "connecting", what="the sandbox")
        text = screen_text(app)
        assert app.connection == "ready", app.connection_error
        assert "SANDBOX" in text and "127.0.0.1:PORT" in text
        assert "123456789012" in text
        await pilot.press("enter")
        assert await run_page(pilot, "bucket") == "applied"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="confirm")
        assert "everything made in it vanishes" in screen_text(app)
        await pilot.press("y")
        await pilot.pause(0.2)
    assert app.sandbox is not None and app.sandbox._server is None  # stopped on exit


async def test_a_crash_report_never_shows_local_variables(capsys):
    """Textual's default crash report prints locals; a secret in a local must not leak."""
    from screens.app import make_app
    from wizard.config import SetupConfig

    app = make_app(SetupConfig(), sandbox=False, session_factory=lambda config: None)
    secret_value = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzCRASHTEST"

    def explode() -> None:
        secret = secret_value  # noqa: F841 - a local the report must not show
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):  # run_test re-raises it for the test
        async with app.run_test(size=(80, 24)):
            try:
                explode()
            except RuntimeError as exc:
                app._handle_exception(exc)
    rendered = capsys.readouterr().err  # Textual prints the crash report as the app exits
    assert "RuntimeError" in rendered and "boom" in rendered
    assert secret_value not in rendered
