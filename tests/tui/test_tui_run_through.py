"""Welcome's whole plan, "Run all" (ctrl+a, y), and a complete setup's one Enter to Verify.

With every answer given, a newcomer sees the plan of every step on Welcome and runs them in one
go; each page still passes by and says what it did, and the run-through stops wherever a page
needs the operator (a new key to look at, a conflict). Counted like the newcomer's budget:
at most ten keys on every path, one to get through a re-run that has nothing to do.
"""

from __future__ import annotations

import json
from typing import Any

from tests.tui.support import (
    KeyCounter,
    MemoryStore,
    connected,
    flat,
    screen_text,
    wait_for,
    wait_page,
)
from tests.tui.test_tui_flow import ACCOUNT, BUCKET, apply_with_engine, new_app, secret_of


async def whole_plan(pilot: Any, app: Any) -> str:
    await connected(pilot)
    await wait_for(pilot, lambda: app.state.overview() is not None
                   and "steps" in screen_text(app), what="the whole plan on Welcome")
    await pilot.pause()  # the footer follows the page
    return flat(screen_text(app))


async def test_run_all_makes_a_keys_setup_in_five_keys_at_80x24(tui_aws: Any) -> None:
    store = MemoryStore()
    app = new_app(tui_aws, store)
    async with app.run_test(size=(80, 24)) as pilot:
        keys = KeyCounter(pilot)
        welcome = await whole_plan(pilot, app)
        assert "7 of 8 steps will change something." in welcome  # CircleCI: no token, by hand
        for line in ("+ create S3 bucket", "+ create IAM group", "+ create Access key",
                     "- skip CircleCI"):
            assert line in welcome, welcome
        assert "ctrl+a to run all steps" in welcome and "^a Run all" in welcome
        await keys.press("ctrl+a")
        await wait_for(pilot, lambda: "Run every step?" in screen_text(app), what="the dialog")
        dialog = flat(screen_text(app))
        assert "+ create Access key" in dialog and "Run all (y)" in dialog
        assert app.state.result("bucket") is None  # nothing runs before the yes
        await keys.press("y")
        await wait_page(pilot, "access_key")  # a new key is worth a look: the run stops
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
        masked = "•" * 16 + secret_of(store)[-4:]
        await wait_for(pilot, lambda: masked in screen_text(app), what="the masked secret")
        assert "Step 6 · IAM user" in screen_text(app)  # the page before said what it did
        await keys.press("enter")  # ... and goes on: CircleCI runs itself
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        assert " proven, 0 failed" in screen_text(app)
        await keys.press("enter")
        await wait_page(pilot, "done")
        done = flat(screen_text(app))
        await keys.press("enter")
        await pilot.pause(0.1)
    assert keys.count == 5, keys.count
    assert app.return_code == 0
    assert f"arn:aws:iam::{ACCOUNT}:user/circleci-s3-wizard/circleci_service" in done
    iam = tui_aws.client("iam")
    attached = iam.list_attached_group_policies(GroupName="circleci_devops")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["s3_full_access_devops_builds"]
    listed = iam.list_access_keys(UserName="circleci_service")["AccessKeyMetadata"]
    assert [k["AccessKeyId"] for k in listed] == [
        store.load_access_key("circleci_service").access_key_id]
    assert set(app.state.known_results()) >= {"bucket", "folder", "group", "policy", "attach",
                                               "user", "access_key", "circleci"}


async def test_run_all_makes_an_oidc_setup_in_four_keys(tui_aws: Any) -> None:
    org, project = "6f0e2b1c-1111-4c8a-9d2e-0123456789ab", "0a1b2c3d-2222-4e5f-8a9b-abcdefabcdef"
    app = new_app(tui_aws, auth="oidc", circleci_projects=(f"circleci/{org}/{project}",))
    async with app.run_test(size=(100, 30)) as pilot:
        keys = KeyCounter(pilot)
        welcome = await whole_plan(pilot, app)
        assert "+ create OIDC role" in welcome and "IAM group" not in welcome
        await keys.press("ctrl+a", "y")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        await keys.press("enter")
        await wait_page(pilot, "done")
        await keys.press("enter")
        await pilot.pause(0.1)
    assert keys.count == 4, keys.count
    trust = json.dumps(tui_aws.client("iam").get_role(
        RoleName="circleci_s3_builds")["Role"]["AssumeRolePolicyDocument"])
    assert project in trust and f"oidc.circleci.com/org/{org}" in trust


async def test_a_complete_setup_goes_to_verify_with_one_enter_and_writes_nothing(
        aws_session: Any) -> None:
    store = MemoryStore()
    apply_with_engine(aws_session, store)
    before = store.load_access_key("circleci_service")
    app = new_app(aws_session, store, bucket=BUCKET, create_bucket=True)
    async with app.run_test(size=(80, 24)) as pilot:
        keys = KeyCounter(pilot)
        welcome = await whole_plan(pilot, app)
        assert "This setup is complete: all 8 steps are done, nothing to change." in welcome
        assert "Press Enter to verify it" in welcome and "Run all" not in welcome
        await keys.press("enter")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
    assert keys.count == 1
    listed = aws_session.client("iam").list_access_keys(UserName="circleci_service")
    assert [k["AccessKeyId"] for k in listed["AccessKeyMetadata"]] == [before.access_key_id]
    assert store.load_access_key("circleci_service") == before


async def test_run_all_stops_at_a_group_someone_else_made_and_leaves_it_alone(
        tui_aws: Any) -> None:
    iam = tui_aws.client("iam")
    iam.create_group(GroupName="circleci_devops")  # by hand, at /: not the wizard's
    try:
        app = new_app(tui_aws, MemoryStore())
        async with app.run_test(size=(100, 30)) as pilot:
            welcome = await whole_plan(pilot, app)
            assert "IAM group cannot run as it stands (a run stops there)." in welcome
            await pilot.press("ctrl+a", "y")
            await wait_page(pilot, "group")
            await wait_for(pilot, lambda: "Nothing was run" in screen_text(app),
                           what="the refusal")
            assert app.run_through is False  # the operator has the wheel again
            assert app.state.result("bucket") is not None  # the steps before it ran
            assert app.state.result("group") is None
        assert iam.get_group(GroupName="circleci_devops")["Group"]["Path"] == "/"
        assert iam.list_users()["Users"] == []
    finally:
        for page in iam.get_paginator("list_attached_group_policies").paginate(
                GroupName="circleci_devops"):
            for policy in page["AttachedPolicies"]:
                iam.detach_group_policy(GroupName="circleci_devops",
                                        PolicyArn=policy["PolicyArn"])
        iam.delete_group(GroupName="circleci_devops")


async def test_an_oidc_slug_that_cannot_be_looked_up_is_said_on_welcome_until_fixed(
        tui_aws: Any, monkeypatch: Any) -> None:
    """Without a CircleCI token, ``gh/org/repo`` cannot become ids: Welcome, where the slug is
    typed, says so with the fix, and the sentence goes once the id form is typed."""
    monkeypatch.delenv("CIRCLE_TOKEN", raising=False)
    app = new_app(tui_aws, auth="oidc", circleci_projects=("gh/acme/site",))
    async with app.run_test(size=(100, 30)) as pilot:
        await whole_plan(pilot, app)
        said = flat(app.screen.query_one("#overview").render().plain)
        assert "✗ OIDC provider: OIDC needs the CircleCI organisation and project ids of " \
               "gh/acme/site" in said, said
        assert "circleci/<organization-id>/<project-id>" in said
        slug = app.screen.query_one("#field-circleci_projects Input")
        slug.value = ("circleci/6f0e2b1c-1111-4c8a-9d2e-0123456789ab/"
                      "0a1b2c3d-2222-4e5f-8a9b-abcdefabcdef")
        await wait_for(pilot,
                       lambda: (o := app.state.overview()) is not None and not o.plan.refused,
                       what="the plan for the id form")
        await pilot.pause()
        said = flat(app.screen.query_one("#overview").render().plain)
        assert "✗" not in said and "cannot look them up" not in said, said
    assert tui_aws.client("s3").list_buckets()["Buckets"] == []  # nothing ran meanwhile
