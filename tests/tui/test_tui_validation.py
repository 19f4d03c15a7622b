"""Validation as the operator sees it: the config builder's rule under the input, and Enter refused.

Each bad answer must show the sentence the CLI prints (the rules live in ``wizard.validation`` and
``wizard.answers`` only), stop every step page (not only its own), and make no AWS call that
changes anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from circleci_s3_wizard.screens.app import make_app
from circleci_s3_wizard.wizard.validation import (
    validate_bucket_name,
    validate_circleci_slug,
    validate_iam_name,
    validate_prefix,
)
from tests.tui.support import (
    MemoryClipboard,
    MemoryStore,
    flat,
    goto,
    screen_text,
    wait_for,
    wait_page,
)

BUCKET = "circleci-builds-123456789012"


def app_for(session: Any, **answers: Any) -> Any:
    return make_app({"bucket": BUCKET, "create_bucket": True, **answers}, session=session,
                    secret_store=MemoryStore(), clipboard=MemoryClipboard())


async def type_into(pilot: Any, input_id: str, text: str) -> None:
    """Clear an input and type ``text`` key by key (a longer value arrives as a paste would)."""
    box = pilot.app.screen.query_one(f"#{input_id}")
    box.focus()
    box.value = ""
    if len(text) > 10:
        box.value = text
    elif text:
        await pilot.press(*text)
    await wait_for(pilot, lambda: box.value == text, what="the typing")
    await pilot.pause(0.05)


CASES = [
    ("bucket", "bucket", "ab", validate_bucket_name),
    ("bucket", "bucket", "My_Bucket", validate_bucket_name),
    ("bucket", "bucket", "192.168.5.4", validate_bucket_name),
    ("bucket", "bucket", "xn--bucket", validate_bucket_name),
    ("folder", "prefix", "builds/*", validate_prefix),
    ("folder", "prefix", "a/../b", validate_prefix),
    ("group", "group", "ci devops", lambda v: validate_iam_name(v, field="group", kind="group")),
    ("policy", "policy_name", "p" * 129,
     lambda v: validate_iam_name(v, field="policy_name", kind="policy")),
    ("user", "user", "circleci/service",
     lambda v: validate_iam_name(v, field="user", kind="user")),
    ("circleci", "circleci_projects", "https://github.com/org/repo", validate_circleci_slug),
]


@pytest.mark.parametrize(("page", "input_id", "value", "rule"), CASES,
                         ids=[f"{c[0]}-{c[2][:12]}" for c in CASES])
async def test_a_bad_answer_is_shown_and_refused(tui_aws: Any, page: str, input_id: str,
                                                 value: str, rule: Any) -> None:
    from circleci_s3_wizard.wizard.answers import label_of

    app = app_for(tui_aws)
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, page)
        await type_into(pilot, input_id, value)
        problems = [p for p in rule(value) if p.severity == "error"]
        assert problems, "the case must be an error for the engine too"
        expected = flat(f"✗ {label_of(input_id)} {problems[0].rule}")
        await wait_for(pilot, lambda: expected in flat(screen_text(app)), what=expected)
        assert "Fix the answer below" in flat(screen_text(app))  # no plan for a bad answer
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert page == app.screen.KEY
        assert "Nothing was run: fix the answer first." in flat(screen_text(app))
        other = "group" if page != "group" else "folder"
        await goto(pilot, other)  # every step page stops, naming the answer to fix
        assert "An answer on another page is wrong" in flat(screen_text(app))
    assert tui_aws.client("s3").list_buckets()["Buckets"] == []
    assert tui_aws.client("iam").list_groups()["Groups"] == []


async def test_a_bucket_name_with_dots_warns_but_runs(tui_aws: Any) -> None:
    app = app_for(tui_aws)
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "bucket")
        await type_into(pilot, "bucket", "builds.example.com")
        warning = next(p for p in validate_bucket_name("builds.example.com")
                       if p.severity == "warning")
        await wait_for(pilot, lambda: flat(f"! Bucket name {warning.rule}") in flat(
            screen_text(app)), what="the warning")
        await wait_for(pilot, lambda: "Create bucket builds.example.com" in flat(
            screen_text(app)), what="the new plan")
        await pilot.press("enter")
        await wait_page(pilot, "folder")
    names = [b["Name"] for b in tui_aws.client("s3").list_buckets()["Buckets"]]
    assert names == ["builds.example.com"]


async def test_fixing_the_answer_clears_the_error(tui_aws: Any) -> None:
    app = app_for(tui_aws)
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "group")
        await type_into(pilot, "group", "bad group")
        await wait_for(pilot, lambda: "Group name may contain only" in screen_text(app),
                       what="the error")
        await type_into(pilot, "group", "good_group")
        await wait_for(pilot, lambda: "Create IAM group good_group" in flat(screen_text(app)),
                       what="the new plan")
        assert "may contain only" not in screen_text(app)


async def test_a_bucket_picked_from_the_list_is_used_as_it_is(tui_aws: Any) -> None:
    tui_aws.client("s3").create_bucket(Bucket="team-artifacts")
    app = app_for(tui_aws)
    async with app.run_test(size=(100, 40)) as pilot:
        await goto(pilot, "bucket")
        options = app.screen.query_one("#buckets")
        await wait_for(pilot, lambda: options.option_count and
                       options.get_option_at_index(0).id == "team-artifacts", what="the list")
        for _ in range(3):  # Tab goes round the choice, the name and the list
            if app.focused is options:
                break
            await pilot.press("tab")
        assert app.focused is options
        options.highlighted = 0
        await pilot.press("enter")  # picks it (does not run the step)
        await wait_for(pilot, lambda: app.state.answers["bucket"] == "team-artifacts",
                       what="the pick")
        assert app.state.answers["create_bucket"] is False
        await wait_for(pilot, lambda: "Bucket team-artifacts exists" in flat(screen_text(app)),
                       what="the plan")
        await pilot.press("enter")
        await wait_page(pilot, "folder")
        assert "✓ Already done" in screen_text(app)


async def test_the_tab_stops_are_the_visible_inputs_only(tui_aws: Any) -> None:
    """No invisible Tab stop: every widget Tab reaches is on screen (bucket and CircleCI)."""
    app = app_for(tui_aws)
    async with app.run_test(size=(100, 40)) as pilot:
        for page in ("bucket", "circleci"):
            await goto(pilot, page)
            reached = []
            for _ in range(8):
                await pilot.press("tab")
                focused = app.focused
                assert focused is not None
                chain = [focused, *focused.ancestors_with_self]
                assert all(getattr(n, "display", True) for n in chain), focused
                assert focused.region.height > 0, focused
                reached.append(focused.id)
            assert None not in reached, reached


async def test_the_session_duration_is_asked_on_the_role_page_and_checked_by_the_engine(
        tui_aws: Any) -> None:
    """Not a number: the config builder's sentence under the input. A number above what the
    role the wizard makes allows: the role's plan refuses it, naming both numbers."""
    from circleci_s3_wizard.wizard.answers import label_of
    from tests.tui.support import made_by_the_engine

    slug = "circleci/6f0e2b1c-5555-4c8a-9d2e-0123456789ab/0a1b2c3d-6666-4e5f-8a9b-abcdefabcdef"
    answers = {"auth": "oidc", "circleci_projects": (slug,)}
    made_by_the_engine(tui_aws, None, "policy", "oidc_provider", **answers)  # needed first
    app = app_for(tui_aws, **answers)
    async with app.run_test(size=(100, 50)) as pilot:
        await goto(pilot, "oidc_role")
        assert "Jobs' sessions last 3600 seconds" in flat(screen_text(app))
        await type_into(pilot, "session_duration", "1h")
        expected = f"✗ {label_of('session_duration')} must be a whole number of seconds"
        await wait_for(pilot, lambda: expected in flat(screen_text(app)), what=expected)
        await type_into(pilot, "session_duration", "7200")
        await wait_for(pilot, lambda: "Cannot run yet: --session-duration 7200" in flat(
            screen_text(app)), what="the role's refusal")
        assert "3600" in flat(screen_text(app))
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert app.screen.KEY == "oidc_role" and "Nothing was run" in flat(screen_text(app))
    assert tui_aws.client("iam").list_roles()["Roles"] == []
