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

from circleci_s3_wizard.screens.app import WizardApp, make_app
from circleci_s3_wizard.screens.confirm_screen import ConfirmScreen
from tests.tui.support import (
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
BUCKET = f"circleci-builds-{ACCOUNT}"
SLUG = "gh/acme/site"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/circleci-s3-wizard/circleci_s3_builds"
UUID_ORG, UUID_PROJECT = ("6f0e2b1c-3333-4c8a-9d2e-0123456789ab",
                          "0a1b2c3d-4444-4e5f-8a9b-abcdefabcdef")
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


def made_by_the_engine(session: Any, store: Any, *keys: str, standin: Any = None,
                       **answers: Any) -> None:
    """The steps ``keys`` made headless (the pages a test does not walk through), with the
    CircleCI stand-in's client when given."""
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine

    config = build_config({"bucket": BUCKET, "create_bucket": True, **answers}).config
    client = standin.client() if standin is not None else None
    try:
        engine = Engine(RunContext(config, session, secrets=store, circleci=client))
        for step in keys:
            engine.apply_step(engine.plan_step(step))
    finally:
        if client is not None:
            client.close()


def made_with_circleci(session: Any, store: Any, standin: Any, **answers: Any) -> None:
    """A whole keys setup made headless, delivered to CircleCI (the stand-in)."""
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine

    config = build_config({"bucket": BUCKET, "create_bucket": True,
                           "circleci_projects": (SLUG,), **answers}).config
    client = standin.client()
    try:
        engine = Engine(RunContext(config, session, secrets=store, circleci=client))
        engine.apply(engine.plan())
    finally:
        client.close()


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
    from circleci_s3_wizard.wizard.circleci.client import keyring_token_name

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
        # Worded for this page (the token box is right here), not for the CLI.
        assert "or sign in with a CircleCI token on the CircleCI page" in text
        assert "CIRCLE_TOKEN and run apply again" not in text
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
        before = flat(screen_text(app))
        assert "ctrl+s copies it once" in before and "button" not in before
        await pilot.press("ctrl+s")
        key = store.load_access_key("circleci_service")
        await wait_for(pilot, lambda: clipboard.text == key.secret_access_key, what="the copy")
        # Once copied, the box still says where the secret is to be had: the keyring's command.
        after = flat(screen_text(app))
        assert "credential-process --user circleci_service` prints it from your keyring" in after
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
    """No CircleCI token: the Retire static keys plan says it cannot tell which key CircleCI
    holds and what to remove by hand; the CircleCI page and Done say it in those words."""
    store = MemoryStore()
    made_by_the_engine(tui_aws, store, "bucket", "folder", "group", "policy", "attach", "user",
                       "access_key")
    app = new_app(tui_aws, store, circleci_projects=(SLUG,))
    async with app.run_test(size=(100, 50)) as pilot:
        await goto(pilot, "circleci")
        app.screen.query_one("#circleci-auth").focus()
        await pilot.press("up")  # OIDC
        await wait_for(pilot, lambda: app.state.config.oidc, what="OIDC chosen")
        await wait_for(pilot, lambda: shown(app, "#retire"), what="the retire note")
        await wait_for(pilot, lambda: "First do: OIDC provider" in flat(screen_text(app)),
                       what="the steps OIDC needs first")
        note = flat(str(app.screen.query_one("#retire").content))
        plan = app.state.plan("retire_keys")
        assert note.startswith("Next: Retire static keys (step 7): Nothing for the wizard to do")
        assert plan.warnings and flat(plan.warnings[0]) in note  # the engine's words, as written
        assert "no key of circleci_service is retired" in note
        assert f"If project {SLUG} still has AWS_ACCESS_KEY_ID" in note
        assert "AWS_ROLE_ARN" not in str(app.screen.query_one("#by-hand").content) or \
            not shown(app, "#by-hand")
        await goto(pilot, "done")
        await wait_for(pilot, lambda: "no key of circleci_service is retired" in flat(
            screen_text(app)), what="Done's note")
        assert "• Retire static keys (step 7)" in screen_text(app)


async def test_moving_from_keys_to_oidc_retires_the_key_after_asking(
        tui_aws: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A keys setup delivered to CircleCI, then the TUI with OIDC: the CircleCI page says what
    the next step will remove, its page asks first, and then the key is gone from CircleCI, IAM
    and the keyring; the user stays. Defaults all the way: at most 12 keys."""
    point_at(circleci_standin, monkeypatch)
    circleci_standin.add_project(SLUG)
    store = MemoryStore()
    made_with_circleci(tui_aws, store, circleci_standin)
    key = store.load_access_key("circleci_service")
    assert circleci_standin.env(SLUG)["AWS_ACCESS_KEY_ID"] == key.access_key_id
    app = new_app(tui_aws, store, auth="oidc", circleci_projects=(SLUG,))
    async with app.run_test(size=(100, 50)) as pilot:
        keys = KeyCounter(pilot)
        await connected(pilot)
        await keys.press("enter")
        for page in ("bucket", "folder", "policy", "oidc_provider", "oidc_role", "circleci"):
            await wait_page(pilot, page)
            if page == "circleci":
                await wait_for(pilot, lambda: shown(app, "#retire"), what="the retire note")
                note = flat(str(app.screen.query_one("#retire").content))
                assert "Next: Retire static keys (step 7): Will update (asks first)" in note
                assert (f"- delete AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY from project {SLUG}"
                        in note)
                assert f"- deactivate, then delete access key {key.access_key_id}" in note
            await keys.press("enter")
        await wait_page(pilot, "retire_keys")
        text = flat(screen_text(app))
        assert "Will update (asks first): Move off static keys" in text
        assert "- delete the keyring entry of circleci_service" in text
        await keys.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="the question")
        assert "- delete AWS_ACCESS_KEY_ID" in flat(screen_text(app))
        assert circleci_standin.env(SLUG)["AWS_ACCESS_KEY_ID"] == key.access_key_id  # not yet
        await keys.press("y")
        await wait_page(pilot, "verify")
        assert "Retire static keys: ✓ Updated" in flat(screen_text(app))
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        await keys.press("enter")
        await wait_page(pilot, "done")
        await settle(pilot)
        done = flat(screen_text(app))
        await keys.press("enter")
    assert keys.count <= 12, keys.count
    assert "Retire static keys (step 7): Will update" not in done  # nothing left to retire
    assert key.access_key_id in done  # what the step retired, among what the setup is
    role = f"arn:aws:iam::{ACCOUNT}:role/circleci-s3-wizard/circleci_s3_builds"
    assert circleci_standin.env(SLUG) == {"AWS_ROLE_ARN": role, "AWS_REGION": "us-east-1",
                                          "AWS_DEFAULT_REGION": "us-east-1"}
    iam = tui_aws.client("iam")
    assert iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"] == []
    assert store.load_access_key("circleci_service") is None
    assert iam.get_user(UserName="circleci_service")["User"]["UserName"] == "circleci_service"


async def test_a_context_shows_the_restrictions_the_plan_lists(
        tui_aws: Any, circleci_standin: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """OIDC into a new context, restricted to the project and (asked for on the page) the
    branch: the page shows the plan's restriction lines and CircleCI's caveats; the stand-in
    then holds exactly those restrictions."""
    point_at(circleci_standin, monkeypatch)
    project = circleci_standin.add_project(SLUG)
    made_by_the_engine(tui_aws, MemoryStore(), "bucket", "folder", "policy", "oidc_provider",
                       "oidc_role", standin=circleci_standin, auth="oidc",
                       circleci_projects=(SLUG,), circleci_branch="main")
    app = new_app(tui_aws, auth="oidc", circleci_projects=(SLUG,), circleci_context="ci-aws",
                  circleci_branch="main")
    async with app.run_test(size=(100, 60)) as pilot:
        await goto(pilot, "circleci")
        text = flat(screen_text(app))
        assert f"+ restrict context ci-aws to project {SLUG}" in text
        assert "only organisation admins add or remove context restrictions" in text
        box = app.screen.query_one("#restrict_context_branch")
        assert box.display and "to branch main" in str(box.label)
        box.focus()
        await pilot.press("space")
        await wait_for(pilot, lambda: app.state.config.restrict_context_branch,
                       what="the branch restriction asked for")
        await wait_for(pilot, lambda: 'pipeline.git.branch == "main"' in flat(
            screen_text(app)), what="the branch line")
        text = flat(screen_text(app))
        assert "fail closed" in text.lower()
        await pilot.press("enter")
        await wait_page(pilot, "retire_keys")
    context = circleci_standin.context_named("ci-aws")
    kinds = sorted((r["type"], r["value"])
                   for r in circleci_standin.restrictions_of(context["id"]))
    assert kinds == sorted([("project", project["id"]),
                            ("expression", 'pipeline.git.branch == "main"')])


async def test_the_config_yml_is_checked_against_the_role_s_own_session_limit(
        tui_aws: Any) -> None:
    """The page's config.yml comes from the engine's config_file: a role allowing two hours
    gets a two-hour session; one hour more than the role allows is the engine's sentence."""
    slug = f"circleci/{UUID_ORG}/{UUID_PROJECT}"  # ids in the slug: no token needed
    answers = {"auth": "oidc", "circleci_projects": (slug,), "session_duration": 7200}
    made_by_the_engine(tui_aws, MemoryStore(), "bucket", "folder", "policy", "oidc_provider",
                       "oidc_role", auth="oidc", circleci_projects=(slug,))
    tui_aws.client("iam").update_role(RoleName="circleci_s3_builds", MaxSessionDuration=7200)
    app = new_app(tui_aws, **answers)
    async with app.run_test(size=(100, 60)) as pilot:
        await goto(pilot, "circleci")
        await wait_for(pilot, lambda: 'session_duration: "7200"' in screen_text(app),
                       what="the two-hour session")
        app.state.set_answer("session_duration", 10800)
        app.replan()
        await wait_for(pilot, lambda: "10800" in flat(str(
            app.screen.query_one("#snippet").content)), what="the refusal")
        snippet = flat(str(app.screen.query_one("#snippet").content))
        assert snippet.startswith("✗") and "7200" in snippet
        assert "session_duration:" not in snippet
