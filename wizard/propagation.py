"""Waiting out AWS's propagation after the wizard's own creates, as Terraform's AWS provider does.

IAM and S3 are eventually consistent. For a few seconds after ``CreateUser`` answers, a call that
names the new user (``AddUserToGroup``, ``CreateAccessKey``) can be told "The user with name ...
cannot be found"; right after ``CreateBucket``, ``PutPublicAccessBlock`` can be told
``NoSuchBucket``; and a role whose trust names an OIDC provider made a moment before is refused
with "Invalid principal in policy". Terraform's AWS provider retries exactly these answers for a
bounded time (``propagationTimeout``, two minutes, in its IAM and S3 resources); so does this.

The rule, in one place: a *not found* answer is waited out only when the call names something
this run itself made (its create answered, or said it already existed, so a create whose answer
was lost counts too), and only until :data:`BOUND` seconds after that create. A not-found about
anything else is a real answer, at once: a misspelt name or a deleted user is not made to wait
two minutes. "Invalid principal" is waited out when the trust names a provider this run made or
found. Whatever the run deletes is forgotten at once.

It works below the steps, on botocore's own events, so no step's code has to remember it: every
client :class:`~wizard.context.RunContext` makes is watched (:meth:`Propagation.watch`). A call's
parameters are noted when it is built (``before-parameter-build``), creates and deletes are seen
when they answer (``after-call``), and the wait itself is botocore's retry (``needs-retry``),
which re-signs the request and sleeps the delay this returns. A create that must not be repeated
blindly (an access key, through a client with one attempt) is still retried here, because a
not-found means AWS refused it and made nothing.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: How long after its create an entity may still be invisible: Terraform's ``propagationTimeout``.
BOUND = 120.0
#: The first wait and the longest single wait, in seconds (exponential backoff with jitter).
FIRST_WAIT, LONGEST_WAIT = 0.25, 2.0

#: The parameters by which IAM and S3 calls name an entity, and what kind of entity it is.
NAMING = {"UserName": "user", "GroupName": "group", "RoleName": "role", "PolicyArn": "policy",
          "OpenIDConnectProviderArn": "OIDC provider", "Bucket": "bucket"}
#: Creates: the kind they make, and where its names are (parameters, then answer paths).
CREATES: dict[str, tuple[str, tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "CreateUser": ("user", ("UserName",), (("User", "Arn"),)),
    "CreateGroup": ("group", ("GroupName",), (("Group", "Arn"),)),
    "CreateRole": ("role", ("RoleName",), (("Role", "Arn"),)),
    "CreatePolicy": ("policy", (), (("Policy", "Arn"),)),
    "CreateOpenIDConnectProvider": ("OIDC provider", (), (("OpenIDConnectProviderArn",),)),
    "CreateBucket": ("bucket", ("Bucket",), ()),
}
#: A create told this made it already: the wizard's own earlier create whose answer was lost (the
#: step then decides whether it is really the wizard's; meanwhile it may still be invisible).
EXISTED = frozenset({"EntityAlreadyExists", "BucketAlreadyOwnedByYou"})
#: Reads that, answered, mean the entity was found (for "Invalid principal", providers only).
FOUND_PROVIDER = "GetOpenIDConnectProvider"
#: Deletes: what they name is gone on purpose, and a not-found about it is true from then on.
DELETE_PREFIX = "Delete"
#: Answers meaning "no such thing" (IAM, S3, and S3's bodiless HEAD).
NOT_FOUND = frozenset({"NoSuchEntity", "NoSuchBucket", "404", "NotFound"})
#: The calls whose policy document names principals IAM resolves when it stores the document.
TRUSTS = {"CreateRole": "AssumeRolePolicyDocument", "UpdateAssumeRolePolicy": "PolicyDocument"}


@dataclass(frozen=True, slots=True)
class Wait:
    """One call that met the lag: what it was, what it waited for, for how long in all."""

    operation: str  #: ``iam:AddUserToGroup``
    kind: str  #: ``user``
    name: str  #: the name or ARN it waited for
    waited: float  #: seconds slept before the call went through (or was given up)
    attempts: int
    gave_up: bool = False

    def sentence(self) -> str:
        how = "gave up after" if self.gave_up else "waited"
        return (f"{self.operation} {how} {self.waited:.1f} s for AWS to show the new {self.kind} "
                f"{self.name} ({self.attempts} attempts).")


@dataclass(slots=True)
class _Waiting:
    """A call's wait for one entity, while it lasts."""

    operation: str
    kind: str
    retries: int = 0
    waited: float = 0.0


class Propagation:
    """What this run made, and botocore hooks that wait for AWS to show it (thread-safe)."""

    def __init__(self, *, bound: float = BOUND, clock: Callable[[], float] = time.monotonic,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.bound = bound
        self._clock = clock
        #: Told once per call and entity when a wait begins, in a sentence the operator reads.
        self.on_wait = on_wait
        self._made: dict[str, tuple[str, float]] = {}  # name or ARN -> (kind, made at)
        self._seen: dict[str, float] = {}  # name or ARN -> when a call naming it first went through
        self._providers: dict[str, float] = {}  # provider ARN -> when this run made or found it
        self._waits: list[Wait] = []
        self._lock = threading.Lock()

    # -- what the run made ---------------------------------------------------------------------

    def made(self, kind: str, *names: str) -> None:
        """``names`` (a name and/or an ARN) were created by this run just now."""
        now = self._clock()
        with self._lock:
            for name in filter(None, names):
                self._made[name] = (kind, now)
                self._seen.pop(name, None)  # made again: young again
                if kind == "OIDC provider":
                    self._providers[name] = now

    def gone(self, *names: str) -> None:
        """``names`` were deleted by this run: a not-found about them is the truth now."""
        with self._lock:
            for name in names:
                self._made.pop(name, None)
                self._seen.pop(name, None)
                self._providers.pop(name, None)

    def young(self, name: str) -> tuple[str, float] | None:
        """(kind, seconds since its create) while ``name`` may still be invisible, else None."""
        with self._lock:
            made = self._made.get(name)
        if made is None:
            return None
        age = self._clock() - made[1]
        return (made[0], age) if age < self.bound else None

    @property
    def waits(self) -> tuple[Wait, ...]:
        """Every call that met the lag so far, in the order their waits ended."""
        with self._lock:
            return tuple(self._waits)

    # -- botocore's events --------------------------------------------------------------------

    def watch(self, client: Any) -> None:
        """Hook this run's waiting into ``client`` (a boto3 IAM or S3 client; others ignore it)."""
        service = client.meta.service_model.service_name
        if service not in ("iam", "s3"):
            return
        events = client.meta.events
        events.register(f"before-parameter-build.{service}", self._note_params)
        events.register(f"after-call.{service}", self._after_call)
        events.register(f"needs-retry.{service}", self._needs_retry)

    def _note_params(self, params: Mapping[str, Any], context: dict[str, Any],
                     **_: Any) -> None:
        context["circleci_s3_wizard_params"] = dict(params)
        context["circleci_s3_wizard_started"] = self._clock()

    def _after_call(self, http_response: Any, parsed: Mapping[str, Any], model: Any,
                    context: Mapping[str, Any], **_: Any) -> None:
        params = context.get("circleci_s3_wizard_params") or {}
        name = model.name
        ok = getattr(http_response, "status_code", 500) < 300
        code = str((parsed.get("Error") or {}).get("Code", ""))
        if name in CREATES and (ok or code in EXISTED):
            kind, keys, paths = CREATES[name]
            names = [str(params[k]) for k in keys if params.get(k)]
            names += [v for v in (_dig(parsed, p) for p in paths) if v]
            self.made(kind, *names)
        elif name == FOUND_PROVIDER and ok and params.get("OpenIDConnectProviderArn"):
            with self._lock:
                self._providers[str(params["OpenIDConnectProviderArn"])] = self._clock()
        elif name.startswith(DELETE_PREFIX) and ok:
            named = [str(v) for k, v in params.items() if k in NAMING and name.endswith(
                _OBJECT.get(k, "\0"))]
            self.gone(*named)
        elif ok:
            self._showed(name, params)
        elif code in NOT_FOUND and isinstance(parsed.get("Error"), dict):
            self._outlasted(name, params, parsed["Error"])
        self._finish(context, name, gave_up=False)

    def _showed(self, operation: str, params: Mapping[str, Any]) -> None:
        """A call naming what the run made was answered: AWS shows it now. A call that begins
        after this and is told "not found" hears the truth (someone deleted it), not lag, and
        does not wait: a user removed by hand between two TUI steps must not cost two minutes.
        Calls already waiting when it showed keep waiting (they began before)."""
        creating = _created_by(operation)
        document = str(params.get(TRUSTS.get(operation, ""), ""))
        now = self._clock()
        with self._lock:
            named = [v for k, v in params.items()
                     if k in NAMING and k not in creating and isinstance(v, str)]
            if document:  # a trust IAM accepted: its providers are resolved
                named += [p for p in self._providers if p in document]
            for name in named:
                if name in self._made or name in self._providers:
                    self._seen.setdefault(name, now)

    def _outlasted(self, operation: str, params: Mapping[str, Any],
                   error: dict[str, Any]) -> None:
        """A not-found about something this run made, after waiting :attr:`bound` seconds:
        the answer's message says so, so the operator reads what to do, not a contradiction
        ("cannot be found", of the user the wizard just made)."""
        creating = _created_by(operation)
        with self._lock:
            made = [(self._made[str(v)][0], str(v)) for k, v in params.items()
                    if k in NAMING and k not in creating and str(v) in self._made]
        if made:
            kind, name = made[0]
            error["Message"] = (f"{str(error.get('Message', '')).rstrip('.')}: AWS still does "
                                f"not show the {kind} {name} the wizard made "
                                f"{self.bound:.0f} s ago, although new entities usually "
                                "appear within seconds; run the command again in a minute "
                                "(what is done is kept)")

    def _needs_retry(self, response: Any, operation: Any, attempts: int,
                     request_dict: Mapping[str, Any], **_: Any) -> float | None:
        if response is None:
            return None  # no answer at all: botocore's own retry decides
        parsed = response[1]
        error = parsed.get("Error") or {}
        code, message = str(error.get("Code", "")), str(error.get("Message", ""))
        context = request_dict.get("context") or {}
        params = context.get("circleci_s3_wizard_params") or {}
        started = float(context.get("circleci_s3_wizard_started", 0.0))
        waiting_for = self._waiting_for(operation.name, params, code, message, started)
        if waiting_for is None:
            if code in NOT_FOUND or "Invalid principal" in message:
                self._finish(context, operation.name, gave_up=True)
            return None
        kind, name = waiting_for
        waiting = context.setdefault("circleci_s3_wizard_waiting", {})  # this call's own
        entry = waiting.get(name)
        first = entry is None
        if entry is None:
            entry = waiting[name] = _Waiting(
                f"{operation.service_model.service_name}:{operation.name}", kind)
        delay = min(LONGEST_WAIT, FIRST_WAIT * 2 ** entry.retries)
        delay = random.uniform(delay / 2, delay)  # jitter: parallel steps do not march
        entry.retries += 1
        entry.waited += delay
        if first and self.on_wait is not None:
            self.on_wait(f"Waiting for AWS to show the new {kind} {name}: {entry.operation} "
                         "was told it does not exist yet (a new IAM or S3 entity takes a few "
                         "seconds to appear everywhere)…")
        return delay

    def _waiting_for(self, operation: str, params: Mapping[str, Any], code: str,
                     message: str, started: float) -> tuple[str, str] | None:
        """(kind, name) of the young entity this answer is about, if the answer is lag: made
        (or, for a provider, found) less than :attr:`bound` ago, and not yet shown by AWS to a
        call that began before this one."""
        if "Invalid principal" in message and operation in TRUSTS:
            document = str(params.get(TRUSTS[operation], ""))
            now = self._clock()
            with self._lock:
                providers = [p for p, at in self._providers.items()
                             if p in document and now - at < self.bound
                             and not self._shown_before(p, started)]
            return ("OIDC provider", providers[0]) if providers else None
        if code not in NOT_FOUND:
            return None
        creating = _created_by(operation)
        for key, value in params.items():
            if key in NAMING and key not in creating and isinstance(value, str):
                young = self.young(value)
                with self._lock:
                    shown = self._shown_before(value, started)
                if young is not None and not shown and _about(value, params, code, message):
                    return young[0], value
        return None

    def _shown_before(self, name: str, started: float) -> bool:
        """AWS showed ``name`` before a call that began at ``started`` (under the lock)."""
        seen = self._seen.get(name)
        return seen is not None and seen <= started

    def _finish(self, context: Mapping[str, Any], operation: str, *, gave_up: bool) -> None:
        """The call's waits are over (it was answered, or the lag outlasted the bound)."""
        waiting = context.get("circleci_s3_wizard_waiting")
        if not waiting:
            return
        with self._lock:
            self._waits.extend(Wait(entry.operation, entry.kind, name, round(entry.waited, 2),
                                    1 + entry.retries, gave_up)
                               for name, entry in waiting.items())
        waiting.clear()


#: For a delete, which naming parameter is the thing deleted (``DeleteUser`` deletes its
#: ``UserName``; ``RemoveUserFromGroup`` deletes neither, and is not a delete).
_OBJECT = {"UserName": "User", "GroupName": "Group", "RoleName": "Role", "PolicyArn": "Policy",
           "OpenIDConnectProviderArn": "OpenIDConnectProvider", "Bucket": "Bucket"}


def _about(name: str, params: Mapping[str, Any], code: str, message: str) -> bool:
    """Whether a not-found answer is about ``name`` itself, not about something in it.

    A call naming a new user or bucket can be told "not found" about what it asks for *in* it:
    ``GetUserPolicy`` of an inline policy the user does not have ("The user policy with name P
    cannot be found"), ``HeadObject`` of a folder marker not made yet. That is the truth, at
    once. IAM names the missing entity in its message; S3 says ``NoSuchBucket`` for the bucket,
    and a bodiless 404 is about the bucket only on a call that names no object key.
    """
    if "Bucket" in params and params.get("Bucket") == name:
        return code == "NoSuchBucket" or ("Key" not in params and code in ("404", "NotFound"))
    return name in message


def _created_by(operation: str) -> tuple[str, ...]:
    """The parameters naming what ``operation`` creates (its own name is not a reference)."""
    return CREATES[operation][1] if operation in CREATES else ()


def _dig(parsed: Mapping[str, Any], path: tuple[str, ...]) -> str | None:
    value: Any = parsed
    for part in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return str(value) if value else None
