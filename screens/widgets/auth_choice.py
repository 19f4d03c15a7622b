"""How CircleCI signs in to AWS, as the Welcome and CircleCI pages both ask it: OIDC or a key.

One question, one place: the same words, the same order and the same widget on both pages.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.widget import Widget
from textual.widgets import Label

from ...wizard.config import AuthMode
from .choice import Choice, ChoiceSet

QUESTION = "How will CircleCI get AWS access?"

#: Each sign-in mode as the choice shows it, and in words once chosen.
CHOICES = {
    AuthMode.OIDC: ("OIDC role, no stored secret (recommended)",
                    "CircleCI will assume an IAM role (OIDC) that trusts only the project "
                    "below; no secret is stored."),
    AuthMode.KEYS: ("Access key of an IAM user (the tutorial's way)",
                    "CircleCI will use an access key of an IAM user; its secret goes into "
                    "your OS keyring."),
}


def auth_choice(chosen: AuthMode, *, id: str) -> Iterator[Widget]:
    """The question and its options, ``chosen`` marked; ``yield from`` it in a compose."""
    yield Label(QUESTION, classes="field-label")
    yield ChoiceSet(*(Choice(label, mode is chosen, id=mode.value)
                      for mode, (label, _) in CHOICES.items()), id=id, compact=True)
