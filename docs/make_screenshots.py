"""Regenerate the README's screenshots: the wizard walked through once in the sandbox, at 100x32.

    uv run python docs/make_screenshots.py [--out assets/screenshots]

One run of the real app with the embedded sandbox (moto on 127.0.0.1), pressing Enter through
every page with the tutorial's defaults, as an operator would, and saving an SVG of four of them:
the Welcome page, the policy with its JSON, the access key (masked secret) and the summary.
moto's ids are seeded through its own API, and what must not look real in a file (key ids, the
secret's last four characters, the sandbox's port) is masked in the saved SVG by this script (the
app itself has no such switch), so regenerating changes a file only when the screen really
changed. The access key's secret goes to a private, throwaway GNOME Keyring started for the run
(the tests' own Secret Service), never to your keyring, so the screenshot shows the real backend
at work.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: make ``screens``, ``wizard``, ``tests`` importable
    sys.path.insert(0, str(ROOT))

SIZE = (100, 30)
TITLE = "circleci-s3-wizard --sandbox"


async def walk(out: Path) -> list[Path]:
    """Start a throwaway GNOME Keyring, walk the wizard once, stop the keyring."""
    import os
    import tempfile

    from keyring.backends.SecretService import Keyring

    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE
    from circleci_s3_wizard.wizard.secret_store import SecretStore
    from tests.fixtures.keyring_service import start_secret_service

    service = start_secret_service(Path(tempfile.mkdtemp(prefix="screenshots-keyring-")))
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = service.address
    try:
        return await _walk(out, SecretStore(Keyring(), service=SANDBOX_SERVICE))
    finally:
        service.stop()


async def _walk(out: Path, store: Any) -> list[Path]:
    import logging

    from circleci_s3_wizard.screens.app import make_app
    from tests.tui_support import (
        MemoryClipboard,
        connected,
        mask,
        seed_moto,
        settle,
        wait_for,
        wait_page,
    )

    # The sandbox has no policy simulator; its server logs the refused call with a traceback,
    # which in a real terminal Textual swallows but this headless run would print. (A filter,
    # because the sandbox sets the logger's level itself when it starts.)
    logging.getLogger("werkzeug").addFilter(lambda record: False)
    app = make_app({}, sandbox=True, secret_store=store, clipboard=MemoryClipboard())
    saved: list[Path] = []

    async def shot(pilot: Any, name: str) -> None:
        await settle(pilot)
        path = out / f"{name}.svg"
        path.write_text(mask(app.export_screenshot(title=TITLE)))
        saved.append(path)

    async def enter_on(pilot: Any, key: str) -> None:
        await wait_page(pilot, key, timeout=30)
        await pilot.press("enter")

    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        seed_moto(app.sandbox.endpoint)
        await wait_for(pilot, lambda: app.state.fresh("access_key"), timeout=30,
                       what="the plan")
        await shot(pilot, "welcome")
        await pilot.press("enter")
        for key in ("bucket", "folder", "group"):
            await enter_on(pilot, key)
        await wait_page(pilot, "policy", timeout=30)
        page = app.screen.query_one("#page")
        page.scroll_to_widget(app.screen.query_one("#summary"), animate=False, top=True)
        await shot(pilot, "policy")
        await pilot.press("enter")
        for key in ("attach", "user", "access_key"):
            await enter_on(pilot, key)
        await wait_for(pilot, lambda: app.screen.phase == "ran" and app.key_views,
                       timeout=30, what="the access key")
        await shot(pilot, "access-key")
        await pilot.press("enter")
        await enter_on(pilot, "circleci")
        await wait_page(pilot, "verify", timeout=30)
        await wait_for(pilot, lambda: app.screen.report is not None, timeout=60,
                       what="the verification")
        await pilot.press("enter")
        await wait_page(pilot, "done", timeout=30)
        await shot(pilot, "done")
        await pilot.press("enter")
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "assets" / "screenshots",
                        help="folder for the SVG files")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for path in asyncio.run(walk(args.out)):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
