"""Helpers for the TUI tests: an in-memory keyring stand-in, a readable clipboard, Pilot helpers,
key counting, and what makes a screenshot safe and stable to keep.

The fake store keeps secrets in a dict and answers like :class:`wizard.secret_store.SecretStore`
(same methods); the real GNOME Keyring is used where the keyring itself is the point.
Screenshots are made stable *here*, never in the app: moto's random ids are seeded through its
own API (``POST /moto-api/seed``), and :func:`mask` hides what must not look real in a file (an
access key id, a secret's last four characters, a local port).
"""

from __future__ import annotations

import asyncio
import html
import io
import re
import urllib.request
from collections import defaultdict
from typing import TYPE_CHECKING, Any, cast

from textual.pilot import Pilot

from circleci_s3_wizard.screens.messages import Job
from circleci_s3_wizard.wizard.secret_store import AccessKey

if TYPE_CHECKING:
    from circleci_s3_wizard.screens.app import WizardApp


class Faults:
    """Makes chosen AWS operations fail, through botocore's own ``before-send`` hook.

    Registered on the boto3 session the app is given, so every client the app makes from it
    sends those requests nowhere and gets AWS's error answer instead (parsed by botocore as a
    real one); every other request reaches moto. ``calls`` counts the requests per operation.
    """

    def __init__(self, session: Any) -> None:
        self._rules: dict[str, list[Any]] = {}
        self.calls: dict[str, int] = defaultdict(int)
        session.events.register("before-send", self._before_send)

    def refuse(self, operation: str, *, times: int | None = 1, code: str = "AccessDenied",
               status: int = 403) -> None:
        """``operation`` (``iam:CreateGroup``) answers ``code`` the next ``times`` times
        (None: until :meth:`clear`)."""
        self._rules[operation] = [times, code, status]

    def throttle(self, operation: str, *, times: int | None = None) -> None:
        self.refuse(operation, times=times, code="Throttling", status=400)

    def clear(self) -> None:
        self._rules.clear()

    def reads(self) -> int:
        return sum(n for op, n in self.calls.items()
                   if op.split(":")[1].startswith(("Get", "List", "Head")))

    def _before_send(self, request: Any, event_name: str = "", **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        _event, service, name = event_name.split(".", 2)
        operation = f"{service}:{name}"
        self.calls[operation] += 1
        rule = self._rules.get(operation)
        if rule is None or rule[0] == 0:
            return None
        if rule[0] is not None:
            rule[0] -= 1
        code, status = rule[1], rule[2]
        message = f"Refused by the test for {operation}"
        if service == "s3":
            body: str = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        else:
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>"
                    f"{message}</Message></Error><RequestId>test</RequestId></ErrorResponse>")
        headers = HTTPHeaders()
        headers["Content-Type"] = "text/xml"
        return AWSResponse(request.url, status, headers,
                           _Body(body.encode()))


class _Body:
    """The raw body botocore reads an answer from."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


class MemoryStore:
    """A keyring that lives in memory (what SecretStore would do, minus D-Bus)."""

    service = "circleci-s3-wizard-tests"

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def ensure_usable(self) -> None:
        return None

    def backend_name(self) -> str:
        return "tests.MemoryStore"

    def backend_label(self) -> str:
        return "Memory Keyring"

    def store_access_key(self, user: str, key: AccessKey) -> None:
        self.entries[f"aws-access-key:{user}"] = f"{key.access_key_id}\n{key.secret_access_key}"

    def load_access_key(self, user: str) -> AccessKey | None:
        raw = self.entries.get(f"aws-access-key:{user}")
        if raw is None:
            return None
        key_id, secret = raw.split("\n")
        return AccessKey(key_id, secret)

    def delete_access_key(self, user: str) -> bool:
        return self.entries.pop(f"aws-access-key:{user}", None) is not None

    def store_token(self, name: str, token: str) -> None:
        self.entries[f"token:{name}"] = token

    def load_token(self, name: str) -> str | None:
        return self.entries.get(f"token:{name}")

    def delete_token(self, name: str) -> bool:
        return self.entries.pop(f"token:{name}", None) is not None


def made_by_the_engine(session: Any, store: Any, *steps: str, **answers: Any) -> None:
    """The steps ``steps`` made headless, one page's apply each, as an earlier run would have
    (the pages a test does not walk). Answers as the CLI takes them; the bucket defaults to
    the name the wizard suggests for moto's account, created."""
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.context import RunContext
    from circleci_s3_wizard.wizard.engine import Engine

    answers = {"bucket": "circleci-builds-123456789012", "create_bucket": True, **answers}
    engine = Engine(RunContext(build_config(answers).config, session, secrets=store))
    for step in steps:
        engine.apply_step(engine.plan_step(step))


#: The keys setup's steps before the access key.
UP_TO_THE_USER = ("bucket", "folder", "group", "policy", "attach", "user")


class MemoryClipboard:
    """A clipboard that can be read back, like a desktop one."""

    name = "test clipboard"

    def __init__(self) -> None:
        self.text = ""
        self.copies = 0
        #: Every text copied, in order (in memory only).
        self.history: list[str] = []

    def copy(self, text: str) -> None:
        self.text = text
        self.copies += 1
        self.history.append(text)

    def paste(self) -> str:
        return self.text


def seed_moto(endpoint: str, seed: int = 42) -> None:
    """Make moto's ids (access keys, secrets, policy ids) the same on every run."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/seed?a={seed}",
                                                  method="POST")).close()


_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
_LAST_FOUR = re.compile(r"(•{16})[^\s•<]{4}")
_PORT = re.compile(r"(127\.0\.0\.1|localhost):\d+")


def mask(text: str) -> str:
    """``text`` (an SVG or a screen) with nothing in it that looks like a real key or a port."""
    text = _KEY_ID.sub(lambda m: m.group(1) + "*" * 16, text)
    text = _LAST_FOUR.sub(lambda m: m.group(1) + "XXXX", text)
    return _PORT.sub(lambda m: f"{m.group(1)}:PORT", text)


_SVG_TEXT = re.compile(r'<text class="[^"]*" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>')


def svg_rows(svg: str) -> list[str]:
    """The rows of text in a Textual SVG screenshot, as the terminal would show them."""
    rows: dict[float, list[tuple[float, str]]] = defaultdict(list)
    for match in _SVG_TEXT.finditer(svg):
        text = html.unescape(match.group(3)).replace("\xa0", " ")
        rows[float(match.group(2))].append((float(match.group(1)), text))
    lines = []
    for y in sorted(rows):
        line = ""
        for x, text in sorted(rows[y]):
            line = line.ljust(round(x / 12.2)) + text
        lines.append(line.rstrip())
    return lines


def visible_rows(app: Any) -> list[str]:
    """The terminal's rows as the operator sees them right now."""
    return svg_rows(app.export_screenshot())


def screen_text(app: Any) -> str:
    """What the operator can read: every shown Static of the page (scrolled through), then the
    visible rows (Footer included)."""
    from rich.console import Console
    from textual.widget import Widget
    from textual.widgets import Static

    console = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    for widget in app.screen.query(Static):
        chain = [widget, *widget.ancestors]
        if not all(node.display for node in chain if isinstance(node, Widget)):
            continue
        try:
            console.print(widget.content)
        except Exception:  # noqa: BLE001 - Textual-only content: the plain text will do
            console.print(str(widget.content), markup=False)
    return console.export_text() + "\n" + "\n".join(visible_rows(app))


def flat(text: str) -> str:
    """``text`` with all whitespace collapsed (wrapped lines join up again)."""
    return " ".join(text.split())


def the_app(pilot: Pilot[Any]) -> WizardApp:
    """The wizard driven by ``pilot`` (Pilot knows only an App)."""
    return cast("WizardApp", pilot.app)


async def wait_for(pilot: Pilot[Any], condition: Any, timeout: float = 15.0,
                   what: str = "") -> None:
    """Let the app run until ``condition()`` is true (workers finish in their own time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}; the screen "
                                 f"shows:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)


async def wait_page(pilot: Pilot[Any], key: str, timeout: float = 15.0) -> None:
    """Wait until the driver shows page ``key`` and its plan (if a step page) is in, or, on
    Done, its list of next steps."""
    app = the_app(pilot)
    await wait_for(pilot, lambda: getattr(app.screen, "KEY", None) == key, timeout,
                   f"page {key}")
    screen = app.screen
    if hasattr(screen, "phase"):
        await wait_for(pilot, lambda: screen.phase != "planning", timeout,
                       f"the plan on {key}")
    if key == "done":  # its list of next steps is made in a worker
        await wait_for(pilot, lambda: app.said(Job.NEXT_STEPS) is not None
                       or app.failure(Job.NEXT_STEPS) is not None, timeout, "the next steps")


async def connected(pilot: Pilot[Any]) -> None:
    app = the_app(pilot)
    await wait_for(pilot, lambda: app.connection in ("ready", "failed"), what="the connection")
    assert app.connection == "ready", app.connection_error


class KeyCounter:
    """Presses keys through Pilot and counts them, as the newcomer's keystroke budget does."""

    def __init__(self, pilot: Pilot[Any]) -> None:
        self.pilot = pilot
        self.count = 0

    async def press(self, *keys: str) -> None:
        self.count += len(keys)
        await self.pilot.press(*keys)


async def goto(pilot: Pilot[Any], key: str) -> None:
    """Jump to a page, as the command palette does."""
    await connected(pilot)
    the_app(pilot).jump_to(key)
    await wait_page(pilot, key)


async def settle(pilot: Pilot[Any]) -> None:
    """Let every background job finish (not the page driver), and stop cursors blinking."""
    from textual.widgets import Input

    app = the_app(pilot)
    await wait_for(pilot, lambda: all(w.is_finished for w in app.workers if w.group != "flow"),
                   what="background work")
    for screen in app.screen_stack:
        for box in screen.query(Input):
            box.cursor_blink = False
    await pilot.pause(0.05)
