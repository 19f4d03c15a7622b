"""The TUI's CircleCI paths, driven with Pilot against moto and the OpenAPI-checked stand-in.

OIDC end to end as the operator chooses it on the Welcome page; keys mode with CIRCLE_TOKEN,
with a token typed into the hidden input (kept in the real GNOME Keyring), and with no token at
all (copy-once and manual instructions); the config.yml snippet copied through OSC 52; CircleCI
errors as sentences with a retry. Every assertion is about an outcome: what CircleCI, IAM or the
keyring holds, what the clipboard holds, what the operator can read.
"""

from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
from textual import events
from textual.widget import Widget
from textual.widgets import Input, Static

from screens.app import WizardApp, make_app
from tests.tui_support import MemoryClipboard, MemoryStore, screen_text, wait_for, wait_page
from wizard.config import AuthMode, SetupConfig

BUCKET = "circleci-builds-123456789012"
SLUG = "gh/acme/site"
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/circleci-s3-wizard/circleci_s3_builds"
KEY_VARS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"]


def new_app(session: Any, store: Any = None, clipboard: Any = None, **changes: Any) -> WizardApp:
    return make_app(SetupConfig().with_changes(**changes), session_factory=lambda _: session,
                    secret_store=store if store is not None else MemoryStore(),
                    clipboard=clipboard)


def visible_text(app: Any) -> str:
    """The text the operator can actually see: Statics whose every ancestor is displayed."""
    from rich.console import Console

    console = Console(width=1000, record=True, file=io.StringIO(), color_system=None)
    for widget in app.screen.query(Static):
        chain = [widget, *widget.ancestors]
        if all(node.display for node in chain if isinstance(node, Widget)):
            console.print(widget.content)
    return console.export_text()


def shown(app: Any, selector: str) -> bool:
    widget = app.screen.query_one(selector)
    return all(node.display for node in [widget, *widget.ancestors] if isinstance(node, Widget))


async def connected(pilot: Any) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.connection != "connecting", what="the connection")
    assert app.connection == "ready", app.connection_error


async def run_page(pilot: Any, key: str) -> str:
    await wait_page(pilot, key)
    screen = pilot.app.screen
    await pilot.press("enter")
    await wait_for(pilot, lambda: screen.state in ("applied", "failed"), what=f"{key} to run")
    return screen.state


async def plan_says(pilot: Any, text: str) -> None:
    """Wait until the plan (after typing settles and the check ends) shows ``text``."""
    screen = pilot.app.screen
    try:
        await wait_for(pilot, lambda: text in str(screen.query_one("#plan", Static).content)
                       and screen.state != "checking", what=f"the plan to say {text!r}")
    except AssertionError:
        print(visible_text(pilot.app), screen.state, pilot.app.config)
        raise


async def paste(pilot: Any, text: str) -> None:
    """Paste into the focused input, as a terminal's bracketed paste delivers it."""
    pilot.app.focused.post_message(events.Paste(text))
    await pilot.pause()


async def type_slug(pilot: Any, slug: str, *, pasted: bool = False) -> None:
    field = pilot.app.screen.query_one("#circleci_project", Input)
    field.focus()
    field.value = ""
    if pasted:
        await paste(pilot, slug)
    else:
        await pilot.press(*slug)


def prepare(session: Any, store: Any, *keys: str) -> None:
    """Let the engine make the steps ``keys`` (the pages a test does not walk through)."""
    from wizard.context import RunContext
    from wizard.engine import Engine

    ctx = RunContext(SetupConfig(bucket=BUCKET, create_bucket=True), session, secrets=store)
    for step in Engine(ctx).steps:
        if step.key in keys:
            step.apply(ctx)


async def at_circleci_with_a_key(pilot: Any, session: Any, store: Any) -> None:
    """The engine made everything up to the user; the TUI makes the key, then goes on."""
    prepare(session, store, "bucket", "folder", "group", "policy", "attach", "user")
    app = pilot.app
    await connected(pilot)
    app.jump_to("access_key")
    assert await run_page(pilot, "access_key") == "applied"
    await pilot.press("enter")
    await wait_page(pilot, "circleci")


async def tab_to(pilot: Any, widget_id: str) -> None:
    """Move the focus with Tab, as the operator does, until it reaches ``widget_id``."""
    for _ in range(8):
        if getattr(pilot.app.focused, "id", None) == widget_id:
            return
        await pilot.press("tab")
    raise AssertionError(f"Tab never reached #{widget_id}; focus is on {pilot.app.focused}")


def point_at(standin: Any, monkeypatch: pytest.MonkeyPatch, *, token: bool = True) -> None:
    monkeypatch.setenv("CIRCLE_HOST", standin.url)
    if token:
        monkeypatch.setenv("CIRCLE_TOKEN", standin.token)


# -- OIDC ---------------------------------------------------------------------------------


async def test_oidc_end_to_end(aws_session: Any, circleci_standin: Any,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    project = circleci_standin.add_project(SLUG)
    app = new_app(aws_session, clipboard=MemoryClipboard())
    async with app.run_test(size=(100, 40)) as pilot:
        await connected(pilot)
        await pilot.press("space")  # the Welcome page's first choice: OIDC (recommended)
        await wait_for(pilot, lambda: app.config.auth == "oidc", what="OIDC chosen")
        await pilot.press("enter")
        for key in ("bucket", "folder", "policy"):  # no group, attach, user or key in OIDC
            assert await run_page(pilot, key) == "applied", screen_text(app)
            await pilot.press("enter")
        await wait_page(pilot, "circleci")
        assert "Step 4 of 5" in visible_text(app)
        text = visible_text(app)
        assert "Project slug must not be empty" in text  # OIDC cannot work without it
        assert ROLE_ARN in text  # the config.yml is there before anything ran
        assert not shown(app, "#token-box")  # CIRCLE_TOKEN is set
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "Will create")
        plan = visible_text(app)
        assert f"organisation {project['organization_id']}" in plan
        assert "must not be empty" not in plan and "Blocked" not in plan
        assert await run_page(pilot, "circleci") == "applied", screen_text(app)
        delivered = visible_text(app)
        assert "now holds" in delivered and "AWS_ROLE_ARN" in delivered
        assert "xxxx" + ROLE_ARN[-4:] in delivered and "xxxxst-1" in delivered, delivered
        await pilot.press("enter")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the verify report")
        verify = visible_text(app)
        assert "live proof is your pipeline's first upload" in verify
        assert "with the new key" not in verify
        await pilot.press("enter")
        await wait_page(pilot, "done")
        done = visible_text(app)
        await pilot.press("enter")
    provider_arn = (f"arn:aws:iam::{ACCOUNT}:oidc-provider/"
                    f"{circleci_standin.url.split('://')[1]}/org/{project['organization_id']}")
    assert ROLE_ARN in done and provider_arn in done
    assert "Watch the pipeline's upload step" in done and "credential-process" not in done
    assert circleci_standin.env(SLUG) == {"AWS_ROLE_ARN": ROLE_ARN, "AWS_REGION": "us-east-1",
                                          "AWS_DEFAULT_REGION": "us-east-1"}
    iam = aws_session.client("iam")
    assert iam.list_users()["Users"] == []  # no IAM user, so no access key either
    trust = iam.get_role(RoleName="circleci_s3_builds")["Role"]["AssumeRolePolicyDocument"]
    trust = json.dumps(trust)
    assert project["organization_id"] in trust and project["id"] in trust
    providers = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert [p["Arn"] for p in providers] == [provider_arn]
    attached = iam.list_attached_role_policies(RoleName="circleci_s3_builds")
    assert [p["PolicyName"] for p in attached["AttachedPolicies"]] == [
        "s3_full_access_devops_builds"]


async def test_oidc_without_a_token_takes_ids_from_the_slug(
        aws_session: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch, token=False)
    org, proj = str(uuid.uuid4()), str(uuid.uuid4())
    prepare(aws_session, None, "bucket", "folder", "policy")
    app = new_app(aws_session, clipboard=MemoryClipboard(), bucket=BUCKET, create_bucket=True,
                  auth=AuthMode.OIDC)
    async with app.run_test(size=(100, 40)) as pilot:
        await connected(pilot)
        app.jump_to("circleci")
        await wait_page(pilot, "circleci")
        await type_slug(pilot, "gh/acme/site")
        await plan_says(pilot, "cannot look them up")  # gh/ slugs need the API for the ids
        text = visible_text(app)
        plan = str(app.screen.query_one("#plan", Static).content)
        assert plan.count("cannot look them up") == 1  # said once, not once per step
        assert "press Enter to try again" in text
        await type_slug(pilot, f"circleci/{org}/{proj}", pasted=True)
        await plan_says(pilot, "Will create")
        assert "cannot look them up" not in visible_text(app)  # the old verdict is gone
        state = await run_page(pilot, "circleci")
        text = visible_text(app)
        assert state == "applied", text
        assert "AWS_ROLE_ARN" in text and ROLE_ARN in text and "No CircleCI token" in text
        assert "Deliver to CircleCI: No CircleCI token" in app.results["circleci"].detail
        app.jump_to("done")
        await wait_page(pilot, "done")
        done = visible_text(app)
    assert "Add AWS_ROLE_ARN, AWS_REGION, AWS_DEFAULT_REGION to project circleci/" in done
    assert circleci_standin.requests == []  # nothing could be sent without a token
    trust = aws_session.client("iam").get_role(RoleName="circleci_s3_builds")["Role"]
    assert org in json.dumps(trust["AssumeRolePolicyDocument"])


# -- keys mode ----------------------------------------------------------------------------


async def test_keys_mode_with_circle_token(aws_session: Any, circleci_standin: Any,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    circleci_standin.add_project(SLUG)
    store = MemoryStore()
    app = new_app(aws_session, store, MemoryClipboard(), bucket=BUCKET)
    async with app.run_test(size=(100, 40)) as pilot:
        await at_circleci_with_a_key(pilot, aws_session, store)
        assert not shown(app, "#token-box")
        assert "By hand (no project given)" in visible_text(app)
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "Set AWS_ACCESS_KEY_ID")
        assert not shown(app, "#manual")
        assert await run_page(pilot, "circleci") == "applied", screen_text(app)
        text = visible_text(app) + screen_text(app)
        key = store.load_access_key("circleci_service")
        assert key.secret_access_key not in text
        for name, value in (("AWS_ACCESS_KEY_ID", key.access_key_id),
                            ("AWS_SECRET_ACCESS_KEY", key.secret_access_key),
                            ("AWS_REGION", "us-east-1")):
            assert f"{name}" in text and f"xxxx{value[-4:]}" in text  # CircleCI's read-back
        await pilot.press("enter")
        await wait_page(pilot, "verify")
    assert circleci_standin.env(SLUG) == {
        "AWS_ACCESS_KEY_ID": key.access_key_id, "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}


async def test_typed_token_is_checked_kept_in_the_keyring_and_used(
        aws_session: Any, circleci_standin: Any, secret_store: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard.circleci.client import keyring_token_name

    point_at(circleci_standin, monkeypatch, token=False)
    circleci_standin.add_project(SLUG)
    name = keyring_token_name(circleci_standin.url)
    app = new_app(aws_session, secret_store, MemoryClipboard(), bucket=BUCKET)
    async with app.run_test(size=(100, 40)) as pilot:
        await at_circleci_with_a_key(pilot, aws_session, secret_store)
        assert shown(app, "#token-box") and shown(app, "#manual")
        token_input = app.screen.query_one("#token", Input)
        assert token_input.password
        # A token CircleCI refuses is said so, and never kept.
        await tab_to(pilot, "token")
        await pilot.press(*"not-a-real-token")
        await pilot.press("enter")
        await wait_for(pilot, lambda: "rejected the API token" in visible_text(app),
                       what="the refusal")
        assert secret_store.load_token(name) is None and app.circleci is None
        # The real one: pasted, never rendered, checked, kept in the keyring.
        token = circleci_standin.token
        await paste(pilot, token)
        assert token_input.value == token
        assert token not in screen_text(app) and "•" * 8 in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.circleci is not None, what="the token to be kept")
        assert token_input.value == ""
        assert secret_store.load_token(name) == token
        await wait_for(pilot, lambda: not shown(app, "#token-box"), what="the box to go")
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "Set AWS_ACCESS_KEY_ID")
        assert not shown(app, "#manual")
        assert await run_page(pilot, "circleci") == "applied", screen_text(app)
        assert token not in screen_text(app)
    key = secret_store.load_access_key("circleci_service")
    assert circleci_standin.env(SLUG)["AWS_SECRET_ACCESS_KEY"] == key.secret_access_key
    assert ("GET", "/api/v2/me") in circleci_standin.requests


async def test_without_a_token_copy_once_and_manual_steps(
        aws_session: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch, token=False)
    store, clipboard = MemoryStore(), MemoryClipboard()
    app = new_app(aws_session, store, clipboard, bucket=BUCKET)
    seen: list[str] = []
    async with app.run_test(size=(100, 50)) as pilot:
        await at_circleci_with_a_key(pilot, aws_session, store)
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "by hand")
        key = store.load_access_key("circleci_service")
        text = visible_text(app)
        seen.append(text + screen_text(app))
        assert f"open the project {SLUG}, then Project Settings > Environment Variables" in text
        for name in KEY_VARS:
            assert name in text
        assert key.access_key_id in text
        await pilot.press("ctrl+k")
        await wait_for(pilot, lambda: clipboard.text == key.access_key_id, what="the id copy")
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: clipboard.text == key.secret_access_key, what="secret")
        await wait_for(pilot, lambda: not shown(app, "#cci-copy-secret"),
                       what="the copy-once button to go")
        bindings = {b.binding.action for b in app.active_bindings.values()}
        assert "copy_secret" not in bindings
        copies = clipboard.copies
        await pilot.press("ctrl+s")  # once means once
        await pilot.pause(0.2)
        assert clipboard.copies == copies
        assert await run_page(pilot, "circleci") == "applied"
        assert app.results["circleci"].action == "skip"
        seen.append(visible_text(app) + screen_text(app))
        app.jump_to("done")
        await wait_page(pilot, "done")
        done = visible_text(app)
        seen.append(done + screen_text(app))
    assert f"Add {', '.join(KEY_VARS)} to project {SLUG} by hand" in done
    assert all(key.secret_access_key not in text for text in seen)
    assert circleci_standin.requests == []


async def test_config_yml_is_shown_and_copied_with_osc52(
        aws_session: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    app = new_app(aws_session, bucket=BUCKET, create_bucket=True, auth=AuthMode.OIDC,
                  circleci_branch="main")  # no clipboard given: desktop first, then OSC 52
    async with app.run_test(size=(100, 40)) as pilot:
        await connected(pilot)
        app.jump_to("circleci")
        await wait_page(pilot, "circleci")
        text = visible_text(app)
        assert "Your .circleci/config.yml" in text and "aws-cli/setup" in text
        await pilot.press("ctrl+y")
        await wait_for(pilot, lambda: "version: 2.1" in (app.clipboard or ""), what="the copy")
        await wait_for(pilot, lambda: "OSC 52" in screen_text(app), what="the mechanism")
        copied = app.clipboard
        assert f'role_arn: "{ROLE_ARN}"' in copied
        assert f's3://{BUCKET}/builds/' in copied and 'only: "main"' in copied
        # Switching to keys changes the snippet at once.
        app.screen.query_one("#keys").value = True
        await wait_for(pilot, lambda: "aws_access_key_id" in app.screen.snippet,
                       what="the keys snippet")


# -- errors -------------------------------------------------------------------------------


async def test_circleci_errors_are_sentences_with_a_retry(
        aws_session: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    point_at(circleci_standin, monkeypatch)
    circleci_standin.add_project(SLUG)
    store = MemoryStore()
    app = new_app(aws_session, store, MemoryClipboard(), bucket=BUCKET)
    async with app.run_test(size=(100, 40)) as pilot:
        await at_circleci_with_a_key(pilot, aws_session, store)
        # A project CircleCI does not know.
        await type_slug(pilot, "gh/acme/missing")
        await plan_says(pilot, "Blocked")
        text = visible_text(app)
        assert "has no project gh/acme/missing that this token can see" in text
        assert "[HTTP 404]" in text and "Check the slug" in text
        assert "Traceback" not in screen_text(app)
        assert app.page_status["circleci"] == "failed"
        # A 401 on the next call: the sentence, then Enter tries again and it works.
        circleci_standin.fail_next(401)
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "rejected the API token")
        text = visible_text(app)
        assert "has no project" not in text
        assert "Personal API Tokens" in text and "press Enter to try again" in text
        # Enter retries; CircleCI now fails with 500 on every attempt: said plainly.
        circleci_standin.fail_next(500, times=3)
        assert await run_page(pilot, "circleci") == "failed"
        text = visible_text(app)
        assert "failed with a server error" in text and "status.circleci.com" in text
        assert "Press Enter to retry" in text and "Traceback" not in screen_text(app)
        assert circleci_standin.env(SLUG) == {}
        # And once more: it works.
        assert await run_page(pilot, "circleci") == "applied", screen_text(app)
        assert app.page_status["circleci"] == "done"
    assert circleci_standin.env(SLUG)["AWS_REGION"] == "us-east-1"


async def test_a_rejected_token_brings_the_token_input_back(
        aws_session: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from wizard.circleci.client import keyring_token_name

    point_at(circleci_standin, monkeypatch)
    monkeypatch.setenv("CIRCLE_TOKEN", "an-expired-token")
    circleci_standin.add_project(SLUG)
    store = MemoryStore()
    app = new_app(aws_session, store, MemoryClipboard(), bucket=BUCKET)
    async with app.run_test(size=(100, 40)) as pilot:
        await at_circleci_with_a_key(pilot, aws_session, store)
        assert not shown(app, "#token-box")
        await type_slug(pilot, SLUG)
        await plan_says(pilot, "rejected the API token")
        await wait_for(pilot, lambda: shown(app, "#token-box"), what="the token input")
        assert "CircleCI rejected the token in use" in visible_text(app)
        await tab_to(pilot, "token")
        await paste(pilot, circleci_standin.token)
        await pilot.press("enter")
        await plan_says(pilot, "Set AWS_ACCESS_KEY_ID")
        assert not shown(app, "#token-box")
        assert await run_page(pilot, "circleci") == "applied", screen_text(app)
    assert store.load_token(keyring_token_name(circleci_standin.url)) == circleci_standin.token
    assert "AWS_SECRET_ACCESS_KEY" in circleci_standin.env(SLUG)
