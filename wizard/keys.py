"""The access key invariant: every key of the wizard's user is held by someone, or is an orphan.

An access key's secret exists only where it was handed: the OS keyring the wizard stored it in,
and CircleCI when it was delivered. The wizard writes down each key it makes, on the IAM user it
owns (:mod:`wizard.key_records`): "create began" before ``CreateAccessKey``, and where the
secret went once it was stored. That record, and nothing else, decides:

* An **orphan** is a key this install began to make and whose secret was never stored (a run
  killed, or AWS's answer lost, after ``CreateAccessKey`` reached AWS). Nobody can ever use it.
  ``plan`` shows orphans, ``apply`` deletes them, ``verify`` fails on them.
* A key recorded in **another install's keyring** (another machine) is never deleted: the plan
  says where it lives; ``rotate`` makes one this machine holds, and leaves that one alone.
* A key with **no record** was not made by the wizard (by hand, or by another tool): it is
  reported and never touched.
* A key whose secret was handed to the operator (the keyring refused it) is held, by the
  operator, until ``rotate`` replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any

from .aws import lookup
from .key_records import Records
from .steps import iam_reads

if TYPE_CHECKING:
    from .context import RunContext
    from .key_records import KeyRecord, PendingRecord
    from .secret_store import AccessKey

IAM_KEYS_PER_USER = 2


class Holder(StrEnum):
    """Who has a key's secret."""

    KEYRING = "keyring"  # this machine's OS keyring (and CircleCI, when delivered)
    CIRCLECI = "circleci"  # CircleCI, but not this keyring
    OPERATOR = "handed to you"  # shown once to the operator: the keyring could not keep it
    IN_USE = "in use elsewhere"  # someone used it; its secret exists somewhere else
    UNKNOWN = "unknown"  # CircleCI could not be read: maybe CircleCI
    ELSEWHERE = "held on another machine"  # recorded in another install's keyring
    CREATING = "being made on another machine"  # another install's create began, not finished
    LOST = "recorded in your keyring, which no longer has it"
    FOREIGN = "not made by the wizard"  # no record: never touched
    #: recorded in this keyring, which now holds a newer recorded key: a rotation's unfinished
    #: retirement (deleted by the next apply or rotate)
    SUPERSEDED = "replaced in your keyring by a newer key"
    ORPHAN = "orphan"  # this install's create began; its secret was never stored


@dataclass(frozen=True, slots=True)
class KeyFact:
    key_id: str
    active: bool
    holder: Holder
    created: datetime | None = None
    #: e.g. "2026-11-20 by s3 in us-east-1", or None when never used (or not asked).
    last_used: str | None = None
    #: Where the wizard's record says its secret lives, in words (None: no record).
    where: str | None = None

    def describe(self) -> str:
        state = "active" if self.active else "inactive"
        used = f", last used {self.last_used}" if self.last_used else ""
        holder = (f"held in {self.where}" if self.where and self.holder is Holder.ELSEWHERE
                  else self.holder.value)
        return f"{self.key_id} ({state}, {holder}{used})"


@dataclass(frozen=True, slots=True)
class KeyState:
    """The user's keys, classified, and what the keyring holds."""

    keys: tuple[KeyFact, ...]
    #: The keyring's key for the user (its id may be missing from IAM: a stale entry).
    stored: AccessKey | None
    #: The wizard's records on the user (see :mod:`wizard.key_records`).
    records: Records = field(default_factory=Records)

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
        return tuple(k for k in self.keys if k.holder not in (Holder.KEYRING, Holder.ORPHAN,
                                                             Holder.SUPERSEDED))

    @property
    def whole(self) -> bool:
        """The invariant: no orphan, and every active key is the keyring's or another
        machine's (recorded there)."""
        return not self.leftovers and all(k.holder in (Holder.KEYRING, Holder.ELSEWHERE)
                                        for k in self.keys if k.active)

    @property
    def elsewhere(self) -> tuple[KeyFact, ...]:
        """Active keys another machine holds, or is making: the setup has its key there.

        ``apply`` makes no second key beside them (one would fill IAM's two slots and leave
        ``rotate`` no room); ``rotate`` makes one this machine holds, with consent, and leaves
        them alone. ``destroy`` never deletes them either.
        """
        return tuple(k for k in self.keys
                     if k.active and k.holder in (Holder.ELSEWHERE, Holder.CREATING))

    @property
    def untouchable(self) -> tuple[KeyFact, ...]:
        """Keys no command of this machine may delete: another machine's (held or being
        made) and keys the wizard did not make."""
        return tuple(k for k in self.keys
                     if k.holder in (Holder.ELSEWHERE, Holder.CREATING, Holder.FOREIGN))

    @property
    def each_held(self) -> bool:
        """What verify proves: no leftovers, at least one active key, and every active key is
        this keyring's or recorded in another machine's keyring (each machine its own key)."""
        active = [k for k in self.keys if k.active]
        return self.whole and bool(active) and all(
            k.holder in (Holder.KEYRING, Holder.ELSEWHERE) for k in active)

    @property
    def superseded(self) -> tuple[KeyFact, ...]:
        return tuple(k for k in self.keys if k.holder is Holder.SUPERSEDED)

    @property
    def leftovers(self) -> tuple[KeyFact, ...]:
        """The wizard's own keys apply and rotate delete: orphans and superseded keys."""
        return self.orphans + self.superseded

    @property
    def full(self) -> bool:
        """IAM's two keys per user are taken by keys apply keeps (so rotate cannot make one)."""
        return len(self.keys) - len(self.leftovers) >= IAM_KEYS_PER_USER


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
    """Classify every key of the configured user by the wizard's records (module docstring)."""
    from . import key_records
    from .graph import each_at_once
    from .state import handed_over, install_id

    user = ctx.config.user
    listed = iam_reads.access_keys(ctx, user)
    records = key_records.read(ctx, user) if listed else Records()
    here = install_id()
    stored_id = stored.access_key_id if stored else None
    handed = handed_over(ctx.secrets.service, user) if ctx.secrets is not None else set()
    strangers = [k for k in listed if k["AccessKeyId"] != stored_id]
    circleci_four: Any = circleci_key_four(ctx) if strangers else None
    used = dict(zip([k["AccessKeyId"] for k in strangers],
                    each_at_once(partial(_last_used, ctx, user, k["AccessKeyId"])
                                 for k in strangers), strict=True))
    facts = []
    for key in listed:
        key_id = key["AccessKeyId"]
        record = records.keys.get(key_id)
        holder = _holder(key_id, record, records.made_by(key_id, key.get("CreateDate")), here,
                         stored_id=stored_id, newer=stored_id in records.keys and any(
                             k["AccessKeyId"] == stored_id for k in listed),
                         circleci_four=circleci_four, handed=handed, used=bool(used.get(key_id)))
        facts.append(KeyFact(key_id, key.get("Status") == "Active", holder,
                             key.get("CreateDate"), used.get(key_id),
                             record.describe_places(here) if record is not None else None))
    return KeyState(tuple(facts), stored, records)


def _holder(key_id: str, record: KeyRecord | None, attempt: PendingRecord | None, here: str, *,
            stored_id: str | None, circleci_four: Any, handed: set[str], used: bool,
            newer: bool = False) -> Holder:
    """Who holds ``key_id``: the keyring first, then what the record says (never a guess)."""
    if key_id == stored_id:
        return Holder.KEYRING
    if circleci_four and key_id[-4:] == circleci_four:
        return Holder.CIRCLECI
    if key_id in handed or (record is not None and record.handed_over):
        return Holder.OPERATOR
    if record is not None:
        install = record.keyring_install()
        if install is not None and install != here:
            return Holder.ELSEWHERE
        if circleci_four is False and record.circleci():
            return Holder.UNKNOWN
        if stored_id is not None and newer:
            return Holder.SUPERSEDED
        if used:
            return Holder.IN_USE
        return Holder.LOST
    if attempt is None:
        return Holder.FOREIGN
    return Holder.ORPHAN if attempt.install == here else Holder.CREATING
