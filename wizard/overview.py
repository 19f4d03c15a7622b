"""The whole plan in a few lines: what running every step would do, before anything runs.

The TUI's Welcome shows it once every step is planned, so an operator whose answers are all
given can run every step in one go having seen what that means (each page still passes by and
says what it did, and stops wherever it would stop when walked by hand: a conflict, a change
that asks first, a new key to look at). A setup with nothing left to do is *complete*: the TUI
then goes straight to Verify. The words and the verdict are here, so that the TUI only shows
them; the CLI's ``plan`` prints the same marks (:attr:`wizard.model.Action.mark`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .model import Plan, StepPlan


@dataclass(frozen=True, slots=True)
class Overview:
    """A setup's plan, every step planned, summed up (the plan's own views: what changes, what
    is refused, what asks first)."""

    plan: Plan

    @property
    def complete(self) -> bool:
        """Nothing to change and nothing in the way: the setup is as the answers want it."""
        return bool(self.plan.steps) and not self.plan.changes and not self.plan.refused

    def headline(self) -> str:
        """One sentence: complete, or how much would change and where a run would stop."""
        plan = self.plan
        total = len(plan.steps)
        if self.complete:
            return f"This setup is complete: all {total} steps are done, nothing to change."
        words = [f"{len(plan.changes)} of {total} steps will change something"]
        if plan.updates:
            words.append(f"{_titles(plan.updates)} asks first")
        if plan.refused:
            words.append(f"{_titles(plan.refused)} cannot run as it stands (a run stops there)")
        return "; ".join(words) + "."

    def refusals(self) -> list[str]:
        """Why each refused step cannot run, with its fix: shown where the answers are typed,
        so a slug OIDC cannot use is said on Welcome, not three steps later."""
        return [f"✗ {p.title}: {p.detail}" for p in self.plan.refused]

    def lines(self) -> list[str]:
        """One line per step: its mark, what it would do, its title (the pages have the rest)."""
        return [f"{p.action.mark} {p.action.value:<8} {p.title}" for p in self.plan.steps]


def _titles(plans: Sequence[StepPlan]) -> str:
    return ", ".join(p.title for p in plans)
