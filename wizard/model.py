"""The engine's answers as typed values: what a step would do, what it did, and the whole run.

The headless CLI and the TUI are two views of these values: text or JSON on one side, a page
per step on the other. Neither compares strings to decide anything; they read the enums and the
fields here, which the engine filled in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .config import SetupConfig
from .context import Identity
from .errors import WizardError


class Action(StrEnum):
    """What a step would do (in a plan), or did (in a result)."""

    CREATE = "create"  # nothing there yet: apply will create it
    REPAIR = "repair"  # the wizard's own, drifted: apply puts it back as it should be
    UPDATE = "update"  # there, differing in a way the operator may rely on: asks first
    EXISTS = "exists"  # already as wanted: apply changes nothing
    SKIP = "skip"  # not part of this setup (e.g. the user step in OIDC mode)
    CONFLICT = "conflict"  # there but differing in a way the wizard will not touch
    BLOCKED = "blocked"  # cannot proceed until something else is fixed
    DELETE = "delete"  # destroy will remove it (or removed it)
    KEEP = "keep"  # destroy leaves it (not made by the wizard, or the bucket)
    ABSENT = "absent"  # destroy has nothing to remove
    FAILED = "failed"  # (results only) the step's call failed
    STOPPED = "stopped"  # (results only) not run or not finished: an earlier failure stopped it

    @property
    def changes(self) -> bool:
        """Does applying this touch AWS or CircleCI?"""
        return self in (Action.CREATE, Action.REPAIR, Action.UPDATE, Action.DELETE)

    @property
    def stops(self) -> bool:
        """Does this keep a plan from being applied at all?"""
        return self in (Action.CONFLICT, Action.BLOCKED)

    @property
    def asks_first(self) -> bool:
        """Is this applied only with the operator's consent (it changes what they may rely on)?"""
        return self is Action.UPDATE

    @property
    def mark(self) -> str:
        """One character for plans and progress lines, readable without colour."""
        return _MARKS[self]


_MARKS = {
    Action.CREATE: "+", Action.REPAIR: "~", Action.UPDATE: "~", Action.EXISTS: "=",
    Action.CONFLICT: "!", Action.SKIP: "-", Action.DELETE: "x", Action.KEEP: "=",
    Action.ABSENT: "-", Action.BLOCKED: "!", Action.FAILED: "!", Action.STOPPED: "-",
}


@dataclass(frozen=True, slots=True)
class StepPlan:
    """What one step would do, in words an operator can read, and the facts behind it."""

    key: str
    action: Action
    detail: str
    #: The API calls applying would make, e.g. ``("iam:CreateGroup",)``.
    calls: tuple[str, ...] = ()
    #: For REPAIR/UPDATE: each thing that differs from what the setup wants.
    differences: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: What the step read, for its apply (never shown; never a secret).
    facts: Any = field(default=None, compare=False, repr=False)
    #: The step's title, as the registry gives it (whoever makes the plan knows the step).
    title: str = field(kw_only=True)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did."""

    key: str
    action: Action
    detail: str
    #: Resource identifiers for the summary (``{"group_arn": ...}``). Never a secret.
    outputs: Mapping[str, Any] = field(default_factory=dict)
    #: The step's title, as the registry gives it.
    title: str = field(kw_only=True)

    @property
    def ok(self) -> bool:
        return self.action not in (Action.FAILED, Action.STOPPED)


@dataclass(frozen=True, slots=True)
class Plan:
    """Every step's plan for one configuration, in the tutorial's order."""

    kind: str  # "setup" or "destroy"
    config: SetupConfig
    identity: Identity
    region: str
    steps: tuple[StepPlan, ...]
    #: Warnings about the answers (e.g. a bucket name with dots), worded for the CLI.
    warnings: tuple[str, ...] = ()
    #: What reading the identity's effective grants found (:mod:`wizard.grants`): True when it
    #: holds only the wizard's policy, False when more, None when there is no identity yet.
    least_privilege: bool | None = None

    def step(self, key: str) -> StepPlan:
        return next(s for s in self.steps if s.key == key)

    def get(self, key: str) -> StepPlan | None:
        return next((s for s in self.steps if s.key == key), None)

    @property
    def refused(self) -> tuple[StepPlan, ...]:
        """Steps in conflict or blocked: the plan cannot be applied while there are any."""
        return tuple(s for s in self.steps if s.action.stops)

    @property
    def changes(self) -> tuple[StepPlan, ...]:
        return tuple(s for s in self.steps if s.action.changes)

    @property
    def updates(self) -> tuple[StepPlan, ...]:
        """Changes to things the operator may rely on: applied only with consent."""
        return tuple(s for s in self.steps if s.action.asks_first)

    @property
    def ok(self) -> bool:
        return not self.refused


@dataclass(frozen=True, slots=True)
class SecretHandoff:
    """A secret the wizard could not keep safe and must hand to the operator, once.

    Made only when the keyring refused the secret *and* the key could not be deleted again: then
    the operator is the only place the secret can go. ``repr`` never shows it.
    """

    user: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    reason: str = ""

    @property
    def instruction(self) -> str:
        return (f"Store this secret somewhere safe now (a password manager), then delete it from "
                f"the screen; it cannot be shown again. To replace it with a key the keyring "
                f"keeps, fix the keyring and run `circleci-s3-wizard rotate --user {self.user}`.")


class HandoffNeeded(WizardError):
    """The keyring refused the secret and the key could not be deleted: hand it over, once."""

    def __init__(self, handoff: SecretHandoff):
        super().__init__(f"The keyring failed ({handoff.reason}) and access key "
                         f"{handoff.access_key_id} could not be deleted again.")
        self.handoff = handoff


@dataclass(frozen=True, slots=True)
class NextStep:
    """Something left for the operator to do: a sentence, and the lines it refers to (values to
    paste, a config file), if any."""

    text: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Report:
    """What a run of apply or destroy did, step by step, and what is left to do."""

    plan: Plan
    results: tuple[StepResult, ...]
    next_steps: tuple[NextStep, ...] = ()
    handoff: SecretHandoff | None = None
    #: Things the operator should know that are not a step's result (e.g. orphaned keys removed).
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results) and self.handoff is None

    @property
    def failure(self) -> StepResult | None:
        return next((r for r in self.results if r.action is Action.FAILED), None)

    @property
    def outputs(self) -> dict[str, Any]:
        merged: dict[str, Any] = {}
        for result in self.results:
            merged.update({k: v for k, v in result.outputs.items() if v is not None})
        return merged

    def result(self, key: str) -> StepResult | None:
        return next((r for r in self.results if r.key == key), None)
