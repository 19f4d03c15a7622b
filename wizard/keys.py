"""The access key invariant: every key of the wizard's user is held by someone, or is an orphan.

An access key's secret exists only where it was handed: the OS keyring the wizard stored it in,
and CircleCI when it was delivered. A key that neither holds, and that has never been used, is an
**orphan**: a run was killed, or AWS's answer was lost, after ``CreateAccessKey`` reached AWS and
before the secret was stored. Nobody can ever use it; it only counts against IAM's two keys per
user. ``plan`` shows orphans, ``apply`` deletes them, ``verify`` fails on them.

A key that was used before but is held by neither is *in use elsewhere* (another machine's
keyring, a by-hand copy): the wizard never deletes it, it says so. A key whose secret was handed
to the operator (the keyring refused it) is remembered by id in the state folder: it is held, by
the operator, until ``rotate`` replaces it. When CircleCI is part of the
setup but cannot be read right now, a key nobody here holds is *unknown*, never an orphan: the
wizard does not delete what it cannot prove unused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from .aws import lookup
from .steps import iam_reads

if TYPE_CHECKING:
    from .context import RunContext
    from .secret_store import AccessKey

IAM_KEYS_PER_USER = 2


class Holder(StrEnum):
    """Who has a key's secret."""

    KEYRING = "keyring"  # this machine's OS keyring (and CircleCI, when delivered)
    CIRCLECI = "circleci"  # CircleCI, but not this keyring
    OPERATOR = "handed to you"  # shown once to the operator: the keyring could not keep it
    IN_USE = "in use elsewhere"  # someone used it; its secret exists somewhere else
    UNKNOWN = "unknown"  # CircleCI could not be read: maybe CircleCI
    ORPHAN = "orphan"  # nobody: never used, held by neither


@dataclass(frozen=True, slots=True)
class KeyFact:
    key_id: str
    active: bool
    holder: Holder
    created: datetime | None = None
    #: e.g. "2026-11-20 by s3 in us-east-1", or None when never used (or not asked).
    last_used: str | None = None

    def describe(self) -> str:
        state = "active" if self.active else "inactive"
        used = f", last used {self.last_used}" if self.last_used else ""
        return f"{self.key_id} ({state}, {self.holder.value}{used})"


@dataclass(frozen=True, slots=True)
class KeyState:
    """The user's keys, classified, and what the keyring holds."""

    keys: tuple[KeyFact, ...]
    #: The keyring's key for the user (its id may be missing from IAM: a stale entry).
    stored: AccessKey | None

    @property
    def held(self) -> KeyFact | None:
        """The key whose secret the keyring holds, if IAM still has it."""
        return next((k for k in self.keys if k.holder is Holder.KEYRING), None)

    @property
    def orphans(self) -> tuple[KeyFact, ...]:
        return tuple(k for k in self.keys if k.holder is Holder.ORPHAN)

    @property
    def others(self) -> tuple[KeyFact, ...]:
        """Keys held by someone other than this keyring (never deleted by apply)."""
        return tuple(k for k in self.keys if k.holder not in (Holder.KEYRING, Holder.ORPHAN))

    @property
    def whole(self) -> bool:
        """The invariant: no orphan, and every active key is the keyring's."""
        return not self.orphans and all(k.holder is Holder.KEYRING for k in self.keys if k.active)


def _last_used(ctx: RunContext, user: str, key_id: str) -> str | None:
    def ask() -> str | None:
        answer = lookup(lambda: ctx.client("iam").get_access_key_last_used(AccessKeyId=key_id),
                        f"asking when access key {key_id} was last used",
                        "iam:GetAccessKeyLastUsed")
        used = answer.get("AccessKeyLastUsed") if answer is not None else None
        when = used.get("LastUsedDate") if used is not None else None
        if not when:
            return None
        service = used.get("ServiceName") if used is not None else None
        by = f" by {service}" if service and service != "N/A" else ""
        return f"{when:%Y-%m-%d %H:%M} UTC{by}"

    return ctx.reads.once(("key_last_used", key_id), ask)


def circleci_key_four(ctx: RunContext) -> str | None | bool:
    """The last four characters of the key id CircleCI holds for this setup.

    None: CircleCI holds no key id (or is not part of the setup). False: CircleCI is part of it
    but cannot be read (no token, an error, or a context, whose values are never returned).
    """
    config = ctx.config
    if not config.circleci_project:
        return None
    if ctx.circleci is None or config.circleci_context:
        return False
    from .circleci.reads import project_variables

    try:
        variables = project_variables(ctx)
    except Exception:  # noqa: BLE001 - unreadable CircleCI only makes the keys "unknown"
        return False
    held = variables.get("AWS_ACCESS_KEY_ID")
    return held.last_four if held is not None else None


def read_keys(ctx: RunContext, stored: AccessKey | None) -> KeyState:
    """Classify every key of the configured user (see the module docstring)."""
    from .graph import each_at_once

    user = ctx.config.user
    listed = iam_reads.access_keys(ctx, user)
    stored_id = stored.access_key_id if stored else None
    from .state import handed_over

    handed = handed_over(ctx.secrets.service, user) if ctx.secrets is not None else set()
    strangers = [k for k in listed if k["AccessKeyId"] != stored_id]
    circleci_four: Any = circleci_key_four(ctx) if strangers else None
    used = dict(zip([k["AccessKeyId"] for k in strangers],
                    each_at_once(partial(_last_used, ctx, user, k["AccessKeyId"])
                                 for k in strangers), strict=True))
    facts = []
    for key in listed:
        key_id = key["AccessKeyId"]
        if key_id == stored_id:
            holder = Holder.KEYRING
        elif circleci_four and key_id[-4:] == circleci_four:
            holder = Holder.CIRCLECI
        elif key_id in handed:
            holder = Holder.OPERATOR
        elif used.get(key_id):
            holder = Holder.IN_USE
        elif circleci_four is False:
            holder = Holder.UNKNOWN
        else:
            holder = Holder.ORPHAN
        facts.append(KeyFact(key_id, key.get("Status") == "Active", holder,
                             key.get("CreateDate"), used.get(key_id)))
    return KeyState(tuple(facts), stored)
