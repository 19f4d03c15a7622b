"""Signing in to CircleCI from a page (OIDC provider, CircleCI): the token box and Enter on it.

The page shows the box while the run has no CircleCI connection, or while its step is blocked
(a token CircleCI refused, a slug it does not know). Enter in the box hands the token to the
engine's ``sign_in_circleci`` (in a worker: checked with CircleCI, then kept in the keyring); the
app then plans again with the new connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from ..wizard.model import Action
from .messages import Job, SignedIn
from .widgets.token_box import TokenBox

if TYPE_CHECKING:
    from .app import WizardApp


class SignsIn:
    """Mixed into a step page that composes a :class:`TokenBox` (before the page's class, so
    that its ``work_failed`` sees a failed sign-in first)."""

    wizard: WizardApp
    KEY: ClassVar[str]

    def token_wanted(self) -> bool:
        ctx = self.wizard.state.ctx
        plan = self.wizard.state.plan(self.KEY)
        return ctx is not None and (ctx.circleci is None or
                                    (plan is not None and plan.action is Action.BLOCKED))

    def show_token_box(self) -> None:
        box = self.query_one(TokenBox)  # type: ignore[attr-defined]
        box.display = self.token_wanted()

    def sign_in_if_typed(self) -> bool:
        """Enter in the token box with a token in it: sign in (True), else leave Enter be."""
        box = self.query_one(TokenBox)  # type: ignore[attr-defined]
        if not box.display or self.focused is not box.input or not box.input.value.strip():  # type: ignore[attr-defined]
            return False
        token = box.take()
        box.say("Checking the token with CircleCI…")
        self.wizard.sign_in(token)
        return True

    def on_signed_in(self, answer: SignedIn) -> None:
        who = f" as {answer.login}" if answer.login else ""
        said = f"Signed in to CircleCI{who}; the token is in your OS keyring."
        self.query_one(TokenBox).say(said)  # type: ignore[attr-defined]
        self.notify(said)  # type: ignore[attr-defined]

    def work_failed(self, job: Job, key: str | None, sentence: str) -> None:
        if not self.sign_in_failed(job, sentence):
            super().work_failed(job, key, sentence)  # type: ignore[misc]

    def sign_in_failed(self, job: Job, sentence: str) -> bool:
        if job is not Job.SIGN_IN:
            return False
        self.query_one(TokenBox).say(f"✗ {sentence}")  # type: ignore[attr-defined]
        return True
