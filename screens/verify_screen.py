"""Step 9: prove the result is least privilege (policy simulator and live probes)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import LoadingIndicator, Static

from screens.flow import NEXT
from screens.page import PageScreen
from wizard.config import AuthMode
from wizard.context import RunContext
from wizard.errors import explain

WHY = (
    "A policy that looks right is not proof. The wizard asks IAM's policy simulator what the "
    "CircleCI identity may do, and with the new key itself uploads, reads, lists and deletes a "
    "probe under the prefix, then tries to write outside it and to list the whole bucket, "
    "which must be refused."
)
WHY_OIDC = (
    "A policy that looks right is not proof. The wizard asks IAM's policy simulator what the "
    "role may do under the prefix and outside it. Only a CircleCI job can get a token to "
    "assume the role, so the live proof is your pipeline's first upload."
)
_MARKS = {"pass": ("✓", "green"), "fail": ("✗", "bold red"), "unproven": ("?", "yellow")}


def render_report(report: Any) -> Text:
    """The report as the operator reads it: failures first, then what was proven, then what
    could not be checked here, grouped by reason so one missing simulator is one line, not
    fourteen."""
    counts = report.counts()
    text = Text()
    verdict = "Least privilege confirmed." if report.proven else (
        "Nothing failed, but some checks could not be proven here." if report.ok
        else "Something is allowed that should not be, or the reverse.")
    text.append(f"{verdict}  ", style="bold")
    text.append(f"{counts['pass']} passed, {counts['fail']} failed, "
                f"{counts['unproven']} unproven\n")
    for outcome in ("fail", "pass"):
        for check in (c for c in report.checks if c.outcome == outcome):
            mark, style = _MARKS[outcome]
            text.append(f"\n{mark} ", style=style)
            text.append(f"{check.name}: should be {check.expectation}")
            if outcome == "fail":
                text.append(f"  {check.detail}", style="dim")
    unproven: dict[str, list[str]] = {}
    for check in (c for c in report.checks if c.outcome == "unproven"):
        name = check.name.removesuffix(" (simulator)").removesuffix(" (with the new key)")
        unproven.setdefault(check.detail, []).append(f"{name} ({check.expectation})")
    mark, style = _MARKS["unproven"]
    for reason, names in unproven.items():
        text.append(f"\n\n{mark} {len(names)} unproven: {reason}\n", style=style)
        text.append("; ".join(names), style="dim")
    for note in report.notes:
        text.append(f"\n\n{note}", style="italic")
    return text


class VerifyScreen(PageScreen):
    KEY = "verify"
    HELP = WHY + "\n\n'unproven' means the check could not be made here (for example, the " \
        "sandbox does not enforce IAM); it is never counted as passed."
    BINDINGS = [
        Binding("enter", "next", "Next", priority=True, id="verify-next"),
        Binding("ctrl+r", "rerun", "Run again", id="verify-again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.running = False
        self.report: Any = None

    def compose_page(self) -> ComposeResult:
        yield Static(self.why(), classes="why")
        yield LoadingIndicator(id="busy")
        yield Static("", id="report", classes="panel")

    def why(self) -> str:
        """What this page proves, for the mode in use (OIDC has no key to probe with)."""
        return WHY_OIDC if self.wizard.config.auth is AuthMode.OIDC else WHY

    def help_text(self) -> str:
        return self.HELP.replace(WHY, self.why(), 1)

    def on_mount(self) -> None:
        self.action_rerun()

    def busy(self) -> bool:
        return self.running

    def action_rerun(self) -> None:
        if self.running:
            return
        self.running = True
        self.query_one("#busy").display = True
        self.query_one("#report", Static).update("Checking what the CircleCI identity can do…")
        self._verify(self.wizard.context())

    @work(thread=True, exclusive=True, group="verify", exit_on_error=False,
          description="verifying least privilege")
    def _verify(self, ctx: RunContext) -> None:
        from wizard.verify import verify

        try:
            report = verify(ctx)
        except Exception as exc:  # noqa: BLE001 - shown as a sentence, with a retry
            self._call(self._show_error, str(explain(exc, "verifying the setup")))
            return
        self._call(self._show_report, report)

    def _call(self, callback: Any, *args: Any) -> None:
        self.wizard.call_ui(callback, *args)

    def _done(self) -> None:
        self.running = False
        self.query_one("#busy").display = False

    def _show_error(self, message: str) -> None:
        if not self.is_attached:
            return
        self._done()
        self.wizard.set_status(self.KEY, "failed")
        self.query_one("#report", Static).update(
            Text(f"✗ {message}\nPress ctrl+r to try again, or Enter to continue."))

    def _show_report(self, report: Any) -> None:
        self.report = report
        if not self.is_attached:
            return
        self._done()
        text = render_report(report)
        text.append("\n\nPress Enter to continue.")
        self.query_one("#report", Static).update(text)
        self.wizard.set_status(self.KEY, "done" if report.ok else "failed")

    def action_next(self) -> None:
        if self.running:
            self.notify("Still verifying…")
            return
        self.dismiss(NEXT)
