"""Validation as the operator sees it: the engine's rule under the input, and Enter refused.

Each bad answer must show the same sentence the CLI prints (the rules live in
``wizard.validation`` only), must not be run, and must make no AWS call that changes anything.
"""

from __future__ import annotations

from typing import Any

import pytest

from screens.app import make_app
from tests.tui_support import MemoryClipboard, MemoryStore, screen_text, wait_for, wait_page
from wizard.config import SetupConfig
from wizard.validation import (
    validate_bucket_name,
    validate_circleci_slug,
    validate_iam_name,
    validate_prefix,
)


def app_for(session: Any, **changes: Any):
    return make_app(SetupConfig().with_changes(**changes), session_factory=lambda _: session,
                    secret_store=MemoryStore(), clipboard=MemoryClipboard())


async def open_page(pilot: Any, key: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.connection == "ready", what="the connection")
    app.jump_to(key)
    await wait_page(pilot, key)


async def type_into(pilot: Any, input_id: str, text: str) -> None:
    """Clear an input and type ``text`` key by key, as an operator would."""
    box = pilot.app.screen.query_one(f"#{input_id}")
    box.focus()
    box.value = ""
    if len(text) > 30:  # a long value arrives as a paste would
        box.value = text
    elif text:
        await pilot.press(*text)
    await pilot.pause(0.1)


CASES = [
    ("bucket", "bucket", "ab", "Bucket name", validate_bucket_name),
    ("bucket", "bucket", "My_Bucket", "Bucket name", validate_bucket_name),
    ("bucket", "bucket", "192.168.5.4", "Bucket name", validate_bucket_name),
    ("bucket", "bucket", "xn--bucket", "Bucket name", validate_bucket_name),
    ("bucket", "bucket", "", "Bucket name", validate_bucket_name),
    ("folder", "prefix", "builds/*", "Folder (prefix)", validate_prefix),
    ("folder", "prefix", "/", "Folder (prefix)", validate_prefix),
    ("folder", "prefix", "a/../b", "Folder (prefix)", validate_prefix),
    ("group", "group", "ci devops", "Group name",
     lambda v: validate_iam_name(v, field="group", kind="group")),
    ("policy", "policy_name", "p" * 129, "Policy name",
     lambda v: validate_iam_name(v, field="policy_name", kind="policy")),
    ("user", "user", "circleci/service", "User name",
     lambda v: validate_iam_name(v, field="user", kind="user")),
    ("circleci", "circleci_project", "https://github.com/org/repo", "Project slug",
     validate_circleci_slug),
]


@pytest.mark.parametrize(("page", "input_id", "value", "label", "rule"), CASES,
                         ids=[f"{c[0]}-{c[2][:12] or 'empty'}" for c in CASES])
async def test_bad_answer_is_shown_and_refused(aws_session: Any, page: str, input_id: str,
                                               value: str, label: str, rule: Any) -> None:
    app = app_for(aws_session, bucket="circleci-builds-123456789012", create_bucket=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_page(pilot, page)
        await type_into(pilot, input_id, value)
        problems = [p for p in rule(value) if p.severity == "error"]
        assert problems, "the case must be an error for the engine too"
        expected = f"✗ {label} {problems[0].rule}"
        text = screen_text(app)
        assert " ".join(expected.split()) in " ".join(text.split())
        assert "Fix the answer above" in text  # no plan is checked for a bad answer
        await pilot.press("enter")
        await pilot.pause(0.2)
        assert page == app.screen.KEY  # Next refused
        assert app.screen.state != "applied"
        assert "Nothing was run: fix the answer first." in screen_text(app)
        assert app.page_status.get(page) != "done"
    # Nothing was created by the refused step.
    assert aws_session.client("s3").list_buckets()["Buckets"] == []
    assert aws_session.client("iam").list_groups()["Groups"] == []


async def test_bucket_name_with_dots_warns_but_runs(aws_session: Any) -> None:
    app = app_for(aws_session, create_bucket=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_page(pilot, "bucket")
        await type_into(pilot, "bucket", "builds.example.com")
        warning = next(p for p in validate_bucket_name("builds.example.com")
                       if p.severity == "warning")
        text = " ".join(screen_text(app).split())
        assert " ".join(f"! Bucket name {warning.rule}".split()) in text
        await wait_page(pilot, "bucket")
        screen = app.screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.state in ("applied", "failed"), what="the run")
        assert screen.state == "applied"
    names = [b["Name"] for b in aws_session.client("s3").list_buckets()["Buckets"]]
    assert names == ["builds.example.com"]


async def test_fixing_the_answer_clears_the_error(aws_session: Any) -> None:
    app = app_for(aws_session, bucket="circleci-builds-123456789012", create_bucket=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_page(pilot, "group")
        await type_into(pilot, "group", "bad group")
        assert "Group name may contain only" in screen_text(app)
        await type_into(pilot, "group", "good_group")
        await wait_for(pilot, lambda: "Create IAM group good_group" in screen_text(app),
                       what="the new plan")
        text = screen_text(app)
        assert "may contain only" not in text
        assert "Create IAM group good_group" in text


async def test_prefix_is_normalised_before_running(aws_session: Any) -> None:
    aws_session.client("s3").create_bucket(Bucket="circleci-builds-123456789012")
    app = app_for(aws_session, bucket="circleci-builds-123456789012")
    async with app.run_test(size=(100, 40)) as pilot:
        await open_page(pilot, "folder")
        await type_into(pilot, "prefix", "artifacts")
        screen = app.screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.state in ("applied", "failed"), what="the run")
        assert screen.state == "applied", screen_text(app)
        assert app.config.prefix == "artifacts/"
        assert screen.query_one("#prefix").value == "artifacts/"
    head = aws_session.client("s3").head_object(Bucket="circleci-builds-123456789012",
                                                Key="artifacts/")
    assert head["ContentLength"] == 0


async def test_existing_bucket_picked_from_the_list(aws_session: Any) -> None:
    s3 = aws_session.client("s3")
    s3.create_bucket(Bucket="team-artifacts")
    app = app_for(aws_session)
    async with app.run_test(size=(100, 40)) as pilot:
        await open_page(pilot, "bucket")
        options = app.screen.query_one("#buckets")
        await wait_for(pilot, lambda: options.option_count and
                       options.get_option_at_index(0).id == "team-artifacts", what="the list")
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert app.config.bucket == "team-artifacts" and not app.config.create_bucket
        await wait_page(pilot, "bucket")
        await wait_for(pilot, lambda: "Bucket team-artifacts exists" in screen_text(app),
                       what="the plan")
        screen = app.screen
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.state in ("applied", "failed"), what="the run")
        assert app.results["bucket"].action == "exists"
