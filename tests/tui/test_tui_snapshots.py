"""Snapshots of every page at 100x30, and the key pages at 80x24 and 60x20, walked as a newcomer.

One app per size, against moto: Welcome, the bucket and the policy before they run, the access
key just made, the CircleCI page with no token (the by-hand box), and Done; at 100x30 also every
other step page before it runs (folder, group, attach, user; an OIDC walk for the provider, the
role and retiring static keys), Verify's report, the help, the quit question and the sandbox's
Welcome. Each screenshot is compared with the SVG
accepted in ``tests/tui/__snapshots__/`` (pytest-textual-snapshot's SVG extension for syrupy).

Stable without anything test-only in the app: moto's random ids are seeded through its own API,
and :func:`tests.tui.support.mask` hides, in the screenshot only, what must not look real in a
file (an access key id, a secret's last four characters, a local port).

After an intended change of the UI: ``uv run pytest tests/tui/test_tui_snapshots.py
--snapshot-update``, and look at the SVGs before committing them.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_textual_snapshot import SVGImageExtension

from circleci_s3_wizard.screens.app import make_app
from circleci_s3_wizard.screens.confirm_screen import ConfirmScreen
from circleci_s3_wizard.screens.help_screen import HelpScreen
from tests.tui.support import (
    MemoryClipboard,
    MemoryStore,
    connected,
    mask,
    seed_moto,
    settle,
    svg_rows,
    wait_for,
    wait_page,
)

SIZES = [(100, 30), (80, 24), (60, 20)]
TITLE = "circleci-s3-wizard"


@pytest.fixture
def svg(snapshot: Any) -> Any:
    return snapshot.use_extension(SVGImageExtension)


async def shot(pilot: Any) -> str:
    """The settled screen as a masked SVG."""
    await settle(pilot)
    await pilot.pause(0.1)
    await settle(pilot)
    return mask(pilot.app.export_screenshot(title=TITLE))


def text_of(svg_text: str) -> str:
    return "\n".join(svg_rows(svg_text))


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_the_key_pages(tui_aws: Any, aws_endpoint: str, svg: Any,
                             size: tuple[int, int]) -> None:
    seed_moto(aws_endpoint)
    store = MemoryStore()
    app = make_app({}, session=tui_aws, secret_store=store, clipboard=MemoryClipboard())
    async with app.run_test(size=size) as pilot:
        await connected(pilot)
        await wait_for(pilot, lambda: app.state.fresh("access_key"), what="the prefetch")
        welcome = await shot(pilot)
        assert "(•) Access key" in text_of(welcome) and "Quit" in text_of(welcome)
        assert welcome == svg(name="welcome")
        await pilot.press("enter")
        for key in ("bucket", "folder", "group", "policy", "attach", "user", "access_key"):
            await wait_page(pilot, key)
            if key in ("bucket", "policy") or (size == SIZES[0] and key != "access_key"):
                page = await shot(pilot)
                assert "Will create" in text_of(page) and "Run step" in text_of(page)
                assert page == svg(name=key)
            await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen.phase == "ran", what="the key")
        key = store.load_access_key("circleci_service")
        await wait_for(pilot, lambda: app.key_views.get(key.access_key_id), what="the mask")
        made = await shot(pilot)
        assert key.secret_access_key not in made and key.access_key_id not in made
        assert "AKIA" + "*" * 16 in made and "•" * 16 + "XXXX" in made
        assert made == svg(name="access_key")
        await pilot.press("enter")
        await wait_page(pilot, "circleci")
        by_hand = await shot(pilot)
        assert key.secret_access_key not in by_hand
        assert by_hand == svg(name="circleci")
        await pilot.press("enter")
        await wait_page(pilot, "verify")
        await wait_for(pilot, lambda: app.screen.report is not None, what="the report")
        if size == SIZES[0]:
            proof = await shot(pilot)
            assert "Verify" in text_of(proof)
            assert proof == svg(name="verify")
        await pilot.press("enter")
        await wait_page(pilot, "done")
        done = await shot(pilot)
        assert "Finish" in text_of(done)
        assert done == svg(name="done")
        if size == SIZES[0]:
            await pilot.press("f1")
            await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
            assert await shot(pilot) == svg(name="help")
            await pilot.press("escape")
            app.jump_to("group")
            await wait_page(pilot, "group")
            await pilot.press("ctrl+q")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen), what="quit")
            question = await shot(pilot)
            assert "Quit the wizard?" in text_of(question)
            assert question == svg(name="quit")


#: An OIDC setup given by ids (no CircleCI token needed, so nothing random reaches the page).
OIDC_PROJECT = ("circleci/6f6a1d2e-0000-4000-8000-000000000000/"
                "0b7ef8a9-4b2c-4f38-9a3c-1d2e3f405162")


async def test_the_oidc_pages(tui_aws: Any, aws_endpoint: str, svg: Any) -> None:
    """The pages only OIDC shows, at 100x30: the provider, the role, and retiring static keys
    (with no token, it says it cannot look)."""
    seed_moto(aws_endpoint)
    app = make_app({"auth": "oidc", "circleci_projects": (OIDC_PROJECT,)}, session=tui_aws,
                   secret_store=MemoryStore(), clipboard=MemoryClipboard())
    async with app.run_test(size=SIZES[0]) as pilot:
        await connected(pilot)
        await pilot.press("enter")
        for key in ("bucket", "folder", "policy", "oidc_provider", "oidc_role", "circleci",
                    "retire_keys"):
            await wait_page(pilot, key)
            if key in ("oidc_provider", "oidc_role", "retire_keys"):
                page = await shot(pilot)
                assert page == svg(name=key)
                if key == "oidc_role":
                    assert "Will create" in text_of(page)
            await pilot.press("enter")
        await wait_page(pilot, "verify")


async def test_the_sandbox_welcome_says_how_long_it_lasts(
        aws_endpoint: str, svg: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``aws_endpoint`` only for its reset: the embedded sandbox's moto shares this process's
    moto backends with the suite's server, so without it the sidebar showed whatever the tests
    before it on this worker had made (a snapshot that depended on the order)."""
    from circleci_s3_wizard.wizard.sandbox import Sandbox

    for name in Sandbox().environment():  # the sandbox points this process at itself
        monkeypatch.setenv(name, "restored-after-test")
    app = make_app({}, sandbox=True, secret_store=MemoryStore(), clipboard=MemoryClipboard())
    async with app.run_test(size=SIZES[0]) as pilot:
        await connected(pilot)
        welcome = await shot(pilot)
    text = " ".join(text_of(welcome).split())
    assert "SANDBOX" in text and "127.0.0.1:PORT" in text
    assert "vanishes when this wizard exits" in text
    assert welcome == svg(name="sandbox")


async def test_at_80x24_the_sandbox_welcome_shows_its_prompt_under_the_keyring_check(
        aws_endpoint: str, secret_store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The smallest usual terminal, the sandbox's banner, the real keyring's answer: the
    identity and the prompt (Enter, or ctrl+a) are still on screen, not below the fold."""
    from circleci_s3_wizard.wizard.sandbox import Sandbox

    for name in Sandbox().environment():
        monkeypatch.setenv(name, "restored-after-test")
    app = make_app({}, sandbox=True, secret_store=secret_store, clipboard=MemoryClipboard())
    async with app.run_test(size=(80, 24)) as pilot:
        await connected(pilot)
        await wait_for(pilot, lambda: app.keyring_checked, what="the keyring check")
        await wait_for(pilot, lambda: app.state.overview() is not None, what="the whole plan")
        text = " ".join(text_of(await shot(pilot)).split())
    assert "SANDBOX" in text and "SecretService Keyring can keep the secret." in text
    assert "You are arn:aws:sts::123456789012:user/moto" in text
    assert "Press Enter to go step by step, or ctrl+a to run" in text
