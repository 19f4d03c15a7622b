"""The TUI's CircleCI paths, against moto and the CircleCI stand-in checked against the OpenAPI
document: OIDC with a token, keys delivered with CIRCLE_TOKEN, a token pasted into the hidden box
(kept in the real GNOME Keyring), no token at all (the by-hand box with the secret's one copy),
CircleCI errors as sentences with a retry, and OIDC chosen after an access-key setup.

Every assertion is about an outcome: what CircleCI, IAM, the keyring or the clipboard holds, and
what the operator can read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from screens.app import WizardApp, make_app
from tests import tui_support
from tests.tui_support import (
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

private_state = tui_support.private_state
tui_aws = tui_support.tui_aws

ACCOUNT = "123456789012"
BUCKET = f"circleci-builds-{ACCOUNT}"
SLUG = "gh/acme/site"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/circleci-s3-wizard/circleci_s3_builds"
KEY_VARS = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"}


def new_app(session: Any, store: Any = None, clipboard: Any = None, **answers: Any) -> WizardApp:
    answers.setdefault("bucket", BUCKET)
    answers.setdefault("create_bucket", True)
    return make_app(answers, session=session,
                    secret_store=store if store is not None else MemoryStore(),
                    clipboard=clipboard if clipboard is not None else MemoryClipboard())


def point_at(standin: Any, monkeypatch: pytest.MonkeyPatch, *, token: bool = True) -> None:
    monkeypatch.setenv("CIRCLE_HOST", standin.url)
    if token:
        monkeypatch.setenv("CIRCLE_TOKEN", standin.token)


def made_by_the_engine(session: Any, store: Any, *keys: str, **answers: Any) -> None:
    """The steps ``keys`` made headless (the pages a test does not walk through)."""
    from wizard.answers import build_config
    from wizard.context import RunContext
    from wizard.engine import Engine

    config = build_config({"bucket": BUCKET, "create_bucket": True, **answers}).config
    engine = Engine(RunContext(config, session, secrets=store))
    for step in keys:
        engine.apply_step(engine.plan_step(step))


def shown(app: Any, selector: str) -> bool:
    widget = app.screen.query_one(selector)
    return all(node.display for node in [widget, *widget.ancestors_with_self]
               if hasattr(node, "display"))


async def test_oidc_with_a_token_sets_the_role_on_the_project(
        tui_aws: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    project = circleci_standin.add_project(SLUG)
    app = new_app(tui_aws, auth="oidc", circleci_projects=(SLUG,))
    async with app.run_test(size=(100, 30)) as pilot:
        keys = KeyCounter(pilot)
        await connected(pilot)
        await keys.press("enter")
        for key in ("bucket", "folder", "policy", "oidc_provider", "oidc_role", "circleci",
                    "retire_keys"):
            await wait_page(pilot, key)
            text = flat(screen_text(app))
            assert "✗" not in text, text
            if key == "oidc_provider":
                assert f"audience {project['organization_id']}" in text
                assert not shown(app, "TokenBox")  # CIRCLE_TOKEN is set
            if key == "circleci":
                assert f"Set AWS_ROLE_ARN, AWS_REGION, AWS_DEFAULT_REGION on project {SLUG}" \
                    in text
                assert f'role_arn: "{ROLE_ARN}"' in text  # the config.yml
            if key == "retire_keys":  # no static key anywhere: Enter goes on
                assert "read them back" in text  # what the CircleCI step did, on top
                assert "Already done: nothing to change" in text
            await keys.press("enter")
        await wait_page(pilot, "verify")
        assert "Retire static keys: ✓ Already done" in flat(screen_text(app))
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        assert "live proof is your pipeline's first upload" in flat(screen_text(app))
        await keys.press("enter")
        await wait_page(pilot, "done")
        done = flat(screen_text(app))
        await keys.press("enter")
    assert keys.count <= 10, keys.count  # one Enter per page, Welcome to Done
    assert ROLE_ARN.replace(":", "") in done.replace(":", "").replace(" ", "") or \
        ROLE_ARN in done
    assert "Run the pipeline once" in done and "credential-process" not in done
    assert circleci_standin.env(SLUG) == {"AWS_ROLE_ARN": ROLE_ARN, "AWS_REGION": "us-east-1",
                                          "AWS_DEFAULT_REGION": "us-east-1"}
    trust = json.dumps(tui_aws.client("iam").get_role(RoleName="circleci_s3_builds")["Role"]
                       ["AssumeRolePolicyDocument"])
    assert project["organization_id"] in trust and project["id"] in trust


async def test_keys_are_delivered_with_circle_token_and_the_secret_never_shown(
        tui_aws: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    circleci_standin.add_project(SLUG)
    store = MemoryStore()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user")
    app = new_app(tui_aws, store, circleci_projects=(SLUG,))
    seen = []
    async with app.run_test(size=(100, 30)) as pilot:
        await goto(pilot, "access_key")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
        seen.append(screen_text(app))
        await pilot.press("enter")
        await wait_page(pilot, "circleci")
        text = flat(screen_text(app))
        seen.append(text)
        assert "Will create" in text and f"on project {SLUG}" in text
        assert not shown(app, "#by-hand") and not shown(app, "TokenBox")
        await pilot.press("enter")
        await wait_page(pilot, "verify")
        seen.append(screen_text(app))
        assert "read them back (last four characters match)" in flat(seen[-1])
    key = store.load_access_key("circleci_service")
    assert circleci_standin.env(SLUG) == {
        "AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
    assert all(key.secret_access_key not in text for text in seen)


async def test_a_pasted_token_is_checked_kept_in_the_keyring_and_used(
        tui_aws: Any, secret_store: Any, circleci_standin: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard.circleci.client import keyring_token_name

    point_at(circleci_standin, monkeypatch, token=False)
    circleci_standin.add_project(SLUG)
    name = keyring_token_name(circleci_standin.url)
    secret_store.delete_token(name)
    made_by_the_engine(tui_aws, secret_store, "bucket", "folder", "group", "policy", "attach",
                       "user", "access_key")
    app = new_app(tui_aws, secret_store, circleci_projects=(SLUG,))
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "circleci")
        assert shown(app, "TokenBox") and shown(app, "#by-hand")
        box = app.screen.query_one("#token")
        assert box.password
        box.focus()
        await pilot.press(*"not-a-token", "enter")
        await wait_for(pilot, lambda: "✗" in str(app.screen.query_one("#token-note").content),
                       what="the refusal")
        assert secret_store.load_token(name) is None and "not-a-token" not in screen_text(app)
        box.focus()
        box.value = circleci_standin.token
        await pilot.press("enter")
        note = app.screen.query_one("#token-note")
        await wait_for(pilot, lambda: "Signed in to CircleCI as" in str(note.content),
                       what="the sign-in")
        assert box.value == "" and circleci_standin.token not in screen_text(app)
        assert secret_store.load_token(name) == circleci_standin.token
        await wait_for(pilot, lambda: not shown(app, "#by-hand"), what="the API path")
        await wait_for(pilot, lambda: "Will create" in screen_text(app), what="the new plan")
        await pilot.press("enter")
        await wait_page(pilot, "verify")
    key = secret_store.load_access_key("circleci_service")
    assert circleci_standin.env(SLUG)["AWS_SECRET_ACCESS_KEY"] == key.secret_access_key
    assert ("GET", "/api/v2/me") in circleci_standin.requests
    secret_store.delete_token(name)


async def test_without_a_token_the_by_hand_box_shares_the_one_copy_of_the_secret(
        tui_aws: Any) -> None:
    store, clipboard = MemoryStore(), MemoryClipboard()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user")
    app = new_app(tui_aws, store, clipboard, circleci_projects=(SLUG,))
    seen = []
    async with app.run_test(size=(100, 50)) as pilot:
        app.clear_after = 0.5
        await goto(pilot, "access_key")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
        key = store.load_access_key("circleci_service")
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: clipboard.text == key.access_key_id, what="the key id")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: clipboard.text == key.secret_access_key, what="secret")
        await wait_for(pilot, lambda: "will be cleared" in screen_text(app), what="the note")
        seen.append(screen_text(app))
        await pilot.press("enter")
        await wait_page(pilot, "circleci")
        text = flat(screen_text(app))
        seen.append(text)
        assert f"open the project {SLUG}, then Project Settings > Environment Variables" in text
        assert f"AWS_ACCESS_KEY_ID {key.access_key_id}" in text
        assert "copied once" in text  # the copy was used up on the access key page
        assert "copy_secret" not in {b.binding.action for b in app.active_bindings.values()}
        await pilot.press("ctrl+s")
        await pilot.pause(0.2)
        assert clipboard.history.count(key.secret_access_key) == 1
        await wait_for(pilot, lambda: clipboard.text == "", what="the clear")
        await wait_for(pilot, lambda: "cleared from the clipboard" in screen_text(app),
                       what="the cleared note")
        assert "will be cleared" not in screen_text(app)
        await pilot.press("enter")  # by hand: the step has nothing to run
        await wait_page(pilot, "verify")
        assert "– Skipped" in screen_text(app)
    assert all(key.secret_access_key not in t for t in seen)


async def test_the_secret_can_be_copied_once_from_the_by_hand_box(tui_aws: Any) -> None:
    store, clipboard = MemoryStore(), MemoryClipboard()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user",
                       "access_key")
    app = new_app(tui_aws, store, clipboard)
    async with app.run_test(size=(100, 50)) as pilot:
        await goto(pilot, "circleci")
        await settle(pilot)
        assert "copy it once with the button below" in flat(screen_text(app))
        await pilot.press("ctrl+s")
        key = store.load_access_key("circleci_service")
        await wait_for(pilot, lambda: clipboard.text == key.secret_access_key, what="the copy")
        await goto(pilot, "access_key")  # the same guard: used up there too
        assert "copy_secret" not in {b.binding.action for b in app.active_bindings.values()}


async def test_the_config_yml_is_copied_with_osc52_without_a_desktop_clipboard(
        tui_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = make_app({"bucket": BUCKET, "auth": "oidc", "circleci_projects": (SLUG,),
                    "circleci_branch": "main"}, session=tui_aws, secret_store=MemoryStore())
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "circleci")
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: "version: 2.1" in (app.clipboard or ""), what="the copy")
        await wait_for(pilot, lambda: "OSC 52" in screen_text(app), what="the mechanism")
    assert f'role_arn: "{ROLE_ARN}"' in app.clipboard
    assert f"s3://{BUCKET}/builds/" in app.clipboard and 'only: "main"' in app.clipboard


async def test_circleci_errors_are_sentences_with_a_retry(
        tui_aws: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    store = MemoryStore()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user",
                       "access_key")
    app = new_app(tui_aws, store, circleci_projects=("gh/acme/missing",))
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "circleci")
        text = flat(screen_text(app))
        assert "has no project gh/acme/missing that this token can see" in text
        assert "Traceback" not in text
        await pilot.press("enter")
        assert "Nothing was run" in flat(screen_text(app))
        circleci_standin.add_project(SLUG)
        field = app.screen.query_one("#circleci_projects")
        field.value = SLUG
        await wait_for(pilot, lambda: "Will create" in screen_text(app), what="the new plan")
        await settle(pilot)
        circleci_standin.fail_next(500, times=3)  # setting a variable is retried twice
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "failed", what="the failure")
        text = flat(screen_text(app))
        assert "Press Enter to try again" in text and "Traceback" not in text
        assert circleci_standin.env(SLUG) == {}
        await pilot.press("enter")
        await wait_page(pilot, "verify")
    assert circleci_standin.env(SLUG)["AWS_REGION"] == "us-east-1"


async def test_choosing_oidc_after_the_keys_steps_says_what_becomes_of_the_key(
        tui_aws: Any) -> None:
    store = MemoryStore()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user",
                       "access_key")
    key = store.load_access_key("circleci_service")
    app = new_app(tui_aws, store, circleci_projects=("gh/acme/site",))
    async with app.run_test(size=(100, 50)) as pilot:
        await goto(pilot, "circleci")
        app.screen.query_one("#circleci-auth").focus()
        await pilot.press("up")  # OIDC
        await wait_for(pilot, lambda: app.state.config.oidc, what="OIDC chosen")
        await wait_for(pilot, lambda: key.access_key_id in screen_text(app), what="the note")
        await wait_for(pilot, lambda: "First do: OIDC provider" in flat(screen_text(app)),
                       what="the steps OIDC needs first")
        text = flat(screen_text(app))
        assert f"Access key {key.access_key_id} of IAM user circleci_service" in text
        assert "stays active: choosing OIDC does not delete it" in text
        assert "First do: OIDC provider" in text
        assert "AWS_ROLE_ARN" not in str(app.screen.query_one("#by-hand").content) or \
            not shown(app, "#by-hand")
        await goto(pilot, "done")
        await wait_for(pilot, lambda: "stays active" in screen_text(app), what="Done's note")
