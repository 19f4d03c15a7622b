"""Verify: prove the result is least privilege (IAM's policy simulator and live probes).

The report is the engine's (:func:`wizard.verify.verify`, in a worker); the page orders it for
reading: failures first, then what was proven, then what could not be checked here, grouped by
reason so one missing simulator is one line, not fourteen.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import LoadingIndicator, Static

from .flow import NEXT
from .messages import Job, Verified
from .page import PageScreen

WHY = {
    "keys": "A policy that looks right is not proof. The wizard asks IAM's policy simulator what "
    "the CircleCI identity may do, and with the new key itself uploads, reads, lists and deletes "
    "a probe under the prefix, then tries to write outside it and to list the whole bucket, "
    "which must be refused.",
    "oidc": "A policy that looks right is not proof. The wizard asks IAM's policy simulator what "
    "the role may do under the prefix and outside it. Only a CircleCI job can get a token to "
    "assume the role, so the live proof is your pipeline's first upload.",
}
_MARKS = {"pass": ("✓", "green"), "fail": ("✗", "bold red"), "unproven": ("?", "yellow")}


def render_report(report: Any) -> Text:
    """The report as the operator reads it."""
    text = Text()
    text.append(f"{report.verdict()}  ", style="bold")
    text.append(f"{report.tally()}\n")
    for outcome in ("fail", "pass"):
        for check in (c for c in report.checks if c.outcome == outcome):
            mark, style = _MARKS[outcome]
            text.append(f"\n{mark} ", style=style)
            text.append(check.sentence())
            if outcome == "fail":
                text.append(f"  {check.detail}", style="dim")
    unproven: dict[str, list[str]] = {}
    for check in (c for c in report.checks if c.outcome == "unproven"):
        name = check.name.removesuffix(" (simulator)").removesuffix(" (with the new key)")
        wanted = "" if check.expectation == "holds" else f" ({check.expectation})"
        unproven.setdefault(check.detail, []).append(f"{name}{wanted}")
    mark, style = _MARKS["unproven"]
    for reason, names in unproven.items():
        text.append(f"\n\n{mark} {len(names)} unproven: {reason}\n", style=style)
        text.append("; ".join(names), style="dim")
    for note in report.notes:
        text.append(f"\n\n{note}", style="italic")
    return text


class VerifyScreen(PageScreen):
    KEY = "verify"
    HELP = ("'unproven' means the check could not be made here (for example, the sandbox does "
            "not enforce IAM); it is never counted as passed.")
    BINDINGS = [
        Binding("enter", "primary", "Continue", priority=True, id="primary",
                tooltip="Go on to the summary"),
        Binding("ctrl+r", "rerun", "Verify again", id="verify-again",
                tooltip="Run every check again"),
    ]

    def __init__(self, ran: Any = None) -> None:
        super().__init__(ran)
        self.running = False
        self.report: Any = None

    def compose_page(self) -> ComposeResult:
        yield Static(self.why(), classes="why")
        yield LoadingIndicator(id="busy")
        yield Static("", id="report", classes="panel")

    def why(self) -> str:
        return WHY[self.state.flow_config.auth.value]

    def help_text(self) -> str:
        return f"{self.why()}\n\n{self.HELP}"

    def mounted(self) -> None:
        self.action_rerun()

    def busy(self) -> bool:
        return self.running

    def action_rerun(self) -> None:
        if self.running:
            return
        self.running = True
        self.query_one("#busy").display = True
        self.query_one("#report", Static).update("Checking what the CircleCI identity can do…")
        self.wizard.verify()

    def _stopped(self) -> None:
        self.running = False
        self.query_one("#busy").display = False

    def on_verified(self, answer: Verified) -> None:
        self.report = answer.report
        self._stopped()
        text = render_report(self.report)
        text.append("\n\nPress Enter to continue.")
        self.query_one("#report", Static).update(text)

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        if job is not Job.VERIFY:
            return super().work_failed(job, key, sentence)
        self._stopped()
        self.query_one("#report", Static).update(
            Text(f"✗ {sentence}\nPress ctrl+r to try again, or Enter to continue."))

    def action_primary(self) -> None:
        if self.running:
            self.notify("Still verifying; Enter continues once the report is in.")
            return
        self.dismiss(NEXT)
