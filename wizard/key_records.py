"""The wizard's own record of every access key it makes, kept as tags on the IAM user it owns.

A key's secret is seen once, by the run that made it, and only that run knows where it went.
Without a record, a later run (or a run on another machine) can only guess from "never used,
held by neither" whether a key is a dead orphan or someone's working key. So the wizard writes
down what it did, in AWS, on the user, where every machine can read it:

* ``circleci-s3-wizard:key-pending:<install>`` = ``state=began when=... known=AKID+AKID`` is
  written *before* ``CreateAccessKey``: this install is about to make a key, and these were the
  user's keys before. A key that is not in ``known`` and has no record of its own was made by
  that attempt; if this install's keyring does not hold it, its secret was never stored: it is
  an **orphan** (the only thing the wizard ever calls one).
* ``circleci-s3-wizard:key:<AKID>`` = ``state=stored at=keyring:<install>+circleci:project:<slug>
  when=...`` is written once the secret is stored: where its secret went (this install's
  keyring, CircleCI projects or a context, or ``operator`` when it was handed over). The pending
  tag goes after it. When the wizard deletes the key, the record goes too.

Every step converges after a kill: a pending tag with no new key is stale and goes; a new key
with a pending tag and no record is an orphan (on its own install) or "being made on another
machine"; a stored key whose record is missing gets it from the install whose keyring holds it;
a record whose key is gone is stale and goes. A key with no record at all was not made by the
wizard, and is never touched.

Values keep to IAM's tag rules (256 characters of ``[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]``): ``+``
joins lists, a space separates fields. No secret is ever in a record; an install id is a random
name for a machine's state folder (:func:`wizard.state.install_id`), nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from .aws import aws_call

if TYPE_CHECKING:
    from .context import RunContext

KEY_PREFIX = "circleci-s3-wizard:key:"
PENDING_PREFIX = "circleci-s3-wizard:key-pending:"
KEYRING = "keyring:"
OPERATOR = "operator"
PROJECT = "circleci:project:"
CONTEXT = "circleci:context:"
MAX_VALUE = 256
#: A pending tag whose attempt is over (kept, one per install, rather than removed).
IDLE = "state=idle"
#: How long after "create began" a key can still be that attempt's (clock skew aside).
ATTEMPT_WINDOW = timedelta(hours=1)
_NOT_ALLOWED = re.compile(r"[^\w\s.:/=+\-@]", re.UNICODE)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%MZ")


def _clean(text: str) -> str:
    """``text`` with the characters IAM tags refuse replaced (slugs and ids never have them)."""
    return _NOT_ALLOWED.sub("_", text)


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """What the wizard wrote down about one of its keys."""

    key_id: str
    #: Where its secret went: ``keyring:<install>``, ``circleci:project:<slug>``,
    #: ``circleci:context:<id>``, ``operator``.
    holders: tuple[str, ...]
    when: str = ""

    def keyring_install(self) -> str | None:
        """The install whose keyring holds it, if the record says one does."""
        return next((h[len(KEYRING):] for h in self.holders if h.startswith(KEYRING)), None)

    @property
    def handed_over(self) -> bool:
        return OPERATOR in self.holders

    def circleci(self) -> tuple[str, ...]:
        """The CircleCI places (``circleci:project:<slug>``, ``circleci:context:<id>``)."""
        return tuple(h for h in self.holders if h.startswith("circleci:"))

    def value(self) -> str:
        return encode({"state": "stored", "at": "+".join(self.holders), "when": self.when})

    def describe_places(self, here: str) -> str:
        """Where its secret lives, in words, from the point of view of install ``here``."""
        words = []
        for h in self.holders:
            if h == f"{KEYRING}{here}":
                words.append("your keyring")
            elif h.startswith(KEYRING):
                words.append(f"the keyring of install {h[len(KEYRING):]} (another machine)")
            elif h.startswith(PROJECT):
                words.append(f"CircleCI project {h[len(PROJECT):]}")
            elif h.startswith(CONTEXT):
                words.append(f"CircleCI context {h[len(CONTEXT):]}")
            elif h == OPERATOR:
                words.append("you (it was shown to you once)")
        return ", ".join(words) or "nowhere the record knows of"


@dataclass(frozen=True, slots=True)
class PendingRecord:
    """An install began making a key; ``known`` were the user's keys just before."""

    install: str
    known: frozenset[str]
    when: str = ""

    def value(self) -> str:
        return encode({"state": "began", "when": self.when, "known": "+".join(sorted(self.known))})

    def covers(self, created: datetime | None) -> bool:
        """Whether a key created at ``created`` can be this attempt's (unknown dates can)."""
        try:
            began = datetime.strptime(self.when, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
        except ValueError:
            return True
        if created is None:
            return True
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        return began - ATTEMPT_WINDOW / 12 <= created <= began + ATTEMPT_WINDOW


@dataclass(frozen=True, slots=True)
class Records:
    """Every record on the user, read from its tags."""

    keys: Mapping[str, KeyRecord] = field(default_factory=dict)
    pending: Mapping[str, PendingRecord] = field(default_factory=dict)
    #: Tag names of pending tags whose attempt is over (``state=idle``), of any install.
    idle: tuple[str, ...] = ()

    def made_by(self, key_id: str, created: datetime | None = None) -> PendingRecord | None:
        """The pending attempt that made ``key_id`` (a key with no record of its own).

        A key made by hand while a stale pending tag was still there is not taken for the
        attempt's: the key must have been created within :data:`ATTEMPT_WINDOW` of it.
        """
        if key_id in self.keys:
            return None
        return next((p for p in self.pending.values()
                     if key_id not in p.known and p.covers(created)), None)

    def stale(self, listed: Iterable[str]) -> tuple[list[str], list[str]]:
        """Records of keys IAM no longer has; pending tags that made no key still listed."""
        ids = set(listed)
        gone = [k for k in self.keys if k not in ids]
        idle = [p.install for p in self.pending.values()
                if not any(k not in p.known and k not in self.keys for k in ids)]
        # (a pending tag whose key is still listed stays until that key is stored or deleted)
        return gone, idle


def encode(fields: Mapping[str, str]) -> str:
    text = " ".join(f"{k}={_clean(v)}" for k, v in fields.items() if v)
    return text[:MAX_VALUE]


def decode(value: str) -> dict[str, str]:
    fields = {}
    for part in value.split(" "):
        name, sep, text = part.partition("=")
        if sep:
            fields[name] = text
    return fields


def parse(tags: Sequence[Mapping[str, Any]] | None) -> Records:
    """The records among a user's tags (other tags are ignored)."""
    keys: dict[str, KeyRecord] = {}
    pending: dict[str, PendingRecord] = {}
    idle: list[str] = []
    for tag in tags or []:
        name, value = str(tag.get("Key", "")), str(tag.get("Value", ""))
        fields = decode(value)
        if name.startswith(KEY_PREFIX):
            key_id = name[len(KEY_PREFIX):]
            at = fields.get("at", "")
            keys[key_id] = KeyRecord(key_id, tuple(h for h in at.split("+") if h),
                                     fields.get("when", ""))
        elif name.startswith(PENDING_PREFIX) and fields.get("state") == "began":
            install = name[len(PENDING_PREFIX):]
            known = fields.get("known", "")
            pending[install] = PendingRecord(install, frozenset(k for k in known.split("+") if k),
                                             fields.get("when", ""))
        elif name.startswith(PENDING_PREFIX) and fields.get("state") == "idle":
            idle.append(name)
    return Records(keys, pending, tuple(idle))


def read(ctx: RunContext, user: str) -> Records:
    """The records on ``user`` (its tags come with GetUser, read once per run)."""
    from .steps import iam_reads

    found = iam_reads.user(ctx, user)
    return parse(found.get("Tags") if found else None)


def destinations(ctx: RunContext) -> tuple[str, ...]:
    """Where a key made by this run goes: this install's keyring and the setup's CircleCI."""
    from .state import install_id

    config = ctx.config
    places = [f"{KEYRING}{install_id()}"]
    if config.circleci_context:
        places.append(f"{CONTEXT}{config.circleci_context}")
    elif config.circleci_projects:
        places.extend(f"{PROJECT}{slug}" for slug in config.circleci_projects)
    return tuple(places)


def _tag(ctx: RunContext, user: str, tags: Mapping[str, str]) -> None:
    with aws_call(f"recording an access key on user {user}", "iam:TagUser"):
        ctx.client("iam").tag_user(UserName=user, Tags=[{"Key": k, "Value": v}
                                                        for k, v in tags.items()])
    ctx.reads.forget(("user", user))


def _untag(ctx: RunContext, user: str, *names: str) -> None:
    if not names:
        return
    with aws_call(f"removing an access key's record from user {user}", "iam:UntagUser"):
        ctx.client("iam").untag_user(UserName=user, TagKeys=list(names))
    ctx.reads.forget(("user", user))


def begin(ctx: RunContext, user: str, known: Iterable[str]) -> None:
    """Write this install's pending tag: it is about to call CreateAccessKey.

    Other installs' idle pending tags go first. Each install leaves one when its attempt ends,
    and an install is a state folder: a CI job that rotates from a fresh container is a new
    install every time. Kept, they would fill IAM's 50 tags per user within weeks, and then
    TagUser (so every key) would be refused. An idle tag records nothing anyone needs; an
    attempt still under way (``state=began``) is never removed.
    """
    from .state import install_id

    install = install_id()
    own = f"{PENDING_PREFIX}{install}"
    _untag(ctx, user, *(name for name in read(ctx, user).idle if name != own))
    _tag(ctx, user, {own: PendingRecord(install, frozenset(known), _now()).value()})


def stored(ctx: RunContext, user: str, key_id: str, holders: Sequence[str]) -> None:
    """Record where ``key_id``'s secret went and close this install's attempt, in one call.

    The pending tag is overwritten with ``state=idle`` rather than removed, so it is one
    TagUser (atomic: both or neither) and no second round trip.
    """
    from .state import install_id

    _tag(ctx, user, {f"{KEY_PREFIX}{key_id}": KeyRecord(key_id, tuple(holders), _now()).value(),
                     f"{PENDING_PREFIX}{install_id()}": IDLE})


def forget_key(ctx: RunContext, user: str, *key_ids: str) -> None:
    """Remove the records of keys the wizard deleted."""
    _untag(ctx, user, *(f"{KEY_PREFIX}{k}" for k in key_ids))


def abandon(ctx: RunContext, user: str, *installs: str) -> None:
    """Close attempts that are over (their key deleted again, or never made)."""
    if installs:
        _tag(ctx, user, {f"{PENDING_PREFIX}{i}": IDLE for i in installs})


def tidy(ctx: RunContext, user: str, records: Records, listed: Iterable[str], *,
         close: bool = True) -> list[str]:
    """Drop records of keys IAM no longer has, and close this install's attempt if it made no
    key; return what was done, in words. ``records`` and ``listed`` are the plan's reads.

    Only this install's attempt is closed: another machine's may be under way right now.
    """
    from .state import install_id

    gone, idle = records.stale(listed)
    done = []
    if gone:
        forget_key(ctx, user, *gone)
        done.append(f"Removed the record of deleted access key {', '.join(gone)} from {user}.")
    if close and install_id() in idle:
        abandon(ctx, user, install_id())
    return done
