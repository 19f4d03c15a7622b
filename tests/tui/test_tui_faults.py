"""The TUI when AWS refuses, throttles or fails mid-step: a sentence on the page with a retry key,
never a traceback, never a frozen page; and the retry then works.

Faults come from botocore's own ``before-send`` hook on the session the app is given
(:class:`tests.tui.support.Faults`): the chosen operation gets AWS's error answer, everything else
reaches moto. Each test checks what AWS holds afterwards.
"""

from __future__ import annotations

from typing import Any

from circleci_s3_wizard.screens.app import make_app
from circleci_s3_wizard.screens.help_screen import HelpScreen
from circleci_s3_wizard.wizard.secret_store import KeyringUnavailable
from tests.tui.support import (
    Faults,
    MemoryClipboard,
    MemoryStore,
    connected,
    flat,
    goto,
    screen_text,
    wait_for,
    wait_page,
)

BUCKET = "circleci-builds-123456789012"


def new_app(session: Any, store: Any = None, clipboard: Any = None) -> Any:
    return make_app({"bucket": BUCKET, "create_bucket": True}, session=session,
                    secret_store=store if store is not None else MemoryStore(),
                    clipboard=clipboard if clipboard is not None else MemoryClipboard())


def made_up_to_the_user(session: Any, store: Any) -> None:
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine

    config = build_config({"bucket": BUCKET, "create_bucket": True}).config
    engine = Engine(RunContext(config, session, secrets=store))
    for step in ("bucket", "folder", "group", "policy", "attach", "user"):
        engine.apply_step(engine.plan_step(step))


async def test_a_refused_step_is_a_sentence_and_enter_retries(aws_session: Any) -> None:
    faults = Faults(aws_session)
    faults.refuse("iam:CreateGroup")
    app = new_app(aws_session)
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "group")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "failed", what="the refusal")
        text = flat(screen_text(app))
        assert "AWS refused creating group circleci_devops" in text
        assert "[AccessDenied]" in text and "lacks the permission iam:CreateGroup" in text
        assert "Press Enter to try again" in text and "Traceback" not in text
        await pilot.press("f1")  # the page still answers
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_page(pilot, "group")
        await pilot.press("enter")  # AWS lets it through this time
        await wait_page(pilot, "policy")
        assert "✓ Done: Created IAM group circleci_devops" in flat(screen_text(app))
    groups = aws_session.client("iam").list_groups()["Groups"]
    assert [g["GroupName"] for g in groups] == ["circleci_devops"]


async def test_a_throttled_access_key_is_never_made_twice_and_a_retry_works(
        aws_session: Any) -> None:
    store = MemoryStore()
    made_up_to_the_user(aws_session, store)
    faults = Faults(aws_session)
    faults.throttle("iam:CreateAccessKey")  # every attempt, until cleared
    app = new_app(aws_session, store)
    iam = aws_session.client("iam")
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "access_key")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "failed", timeout=30,
                       what="the throttling to win")
        text = flat(screen_text(app))
        assert "[Throttling]" in text and "wait a moment and retry" in text
        assert "Traceback" not in text
        assert iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"] == []
        assert store.load_access_key("circleci_service") is None
        faults.clear()
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
    keys = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in keys] == [
        store.load_access_key("circleci_service").access_key_id]


async def test_a_refused_read_shows_on_the_plan_and_ctrl_r_checks_again(
        aws_session: Any) -> None:
    faults = Faults(aws_session)
    faults.refuse("iam:GetGroup", times=None)
    app = new_app(aws_session)
    async with app.run_test(size=(100, 30)) as pilot:
        await connected(pilot)
        app.jump_to("group")
        await wait_for(pilot, lambda: getattr(app.screen, "KEY", "") == "group", what="page")
        await wait_for(pilot, lambda: "Could not check what exists" in screen_text(app),
                       what="the failed check")
        text = flat(screen_text(app))
        assert "[AccessDenied]" in text and "iam:GetGroup" in text and "ctrl+r" in text
        asked = faults.calls["iam:GetGroup"]
        app.jump_to("attach")  # a page that needs the group does not keep asking either
        await pilot.pause(1.0)
        assert faults.calls["iam:GetGroup"] == asked
        assert "Checking" in screen_text(app) or "Could not check" in screen_text(app)
        app.jump_to("group")
        await wait_page(pilot, "group")
        faults.clear()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "Will create" in screen_text(app), what="the plan")
        await pilot.press("enter")
        await wait_page(pilot, "policy")
    assert [g["GroupName"] for g in aws_session.client("iam").list_groups()["Groups"]] == [
        "circleci_devops"]


async def test_a_failed_connection_says_why_and_ctrl_r_connects(aws_session: Any) -> None:
    faults = Faults(aws_session)
    faults.refuse("sts:GetCallerIdentity", code="ExpiredToken")
    app = new_app(aws_session)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.connection == "failed", what="the failure")
        await wait_for(pilot, lambda: "ExpiredToken" in screen_text(app), what="the sentence")
        text = flat(screen_text(app))
        assert "Your AWS session has expired" in text and "ctrl+r" in text
        await pilot.press("ctrl+r")
        await connected(pilot)
        await wait_for(pilot, lambda: "Press Enter to" in screen_text(app), what="ready")


class LockedKeyring(MemoryStore):
    """A keyring that passes its check, then refuses the secret (locked in between)."""

    def store_access_key(self, user: str, key: Any) -> None:
        raise KeyringUnavailable("the keyring was locked while the key was being stored")


async def test_a_secret_the_keyring_refused_is_handed_over_with_its_one_copy(
        aws_session: Any) -> None:
    store, clipboard = LockedKeyring(), MemoryClipboard()
    made_up_to_the_user(aws_session, MemoryStore())
    faults = Faults(aws_session)
    faults.refuse("iam:DeleteAccessKey", times=None)  # so the key cannot be taken back
    app = new_app(aws_session, store, clipboard)
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "access_key")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "failed", what="the hand-over")
        await wait_for(pilot, lambda: "the only chance" in screen_text(app), what="the panel")
        text = flat(screen_text(app))
        assert "Store this secret somewhere safe now" in text
        assert "keyring was locked" in text
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: clipboard.text not in ("", None), what="the copy")
        assert "copy_secret" not in {b.binding.action for b in app.active_bindings.values()}
    keys = aws_session.client("iam").list_access_keys(UserName="circleci_service")
    [key] = keys["AccessKeyMetadata"]
    assert app.state.handoff is not None
    # Copied once, and wiped when the app ended (it was still on the clipboard at the quit).
    assert clipboard.history == [app.state.handoff.secret_access_key, ""]
    assert key["AccessKeyId"] == app.state.handoff.access_key_id
    assert app.state.handoff.secret_access_key not in text
