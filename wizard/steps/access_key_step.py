"""Step 7: the access key. Its secret goes straight into the OS keyring, never to a file.

The keyring is proven usable in the *plan*, before anything is created, so the usual failure (no
Secret Service, or an insecure backend) costs nothing. ``CreateAccessKey`` is the one call that
must never be repeated blindly: AWS makes a new key each time, and a key whose answer was lost
has a secret nobody will ever see. So it goes through a client that does not retry; when its
answer is lost the user's keys are listed again, the stray key is deleted (see
:mod:`wizard.keys`), and the key is created once more, the one repeat that is then safe. If
storing fails after the key exists, the key is deleted again; only if that fails too is the
secret handed to the operator, once (:class:`~wizard.model.SecretHandoff`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from .. import key_records
from ..aws import delete, is_managed, once_unless_throttled, outcome_unknown
from ..context import RunContext
from ..errors import WizardError, error_code, explain
from ..graph import Work, at_once
from ..keys import IAM_KEYS_PER_USER, Holder, KeyFact, KeyState, read_keys
from ..model import Action, HandoffNeeded, SecretHandoff, StepPlan, StepResult
from . import iam_reads
from .base import Step

if TYPE_CHECKING:
    from ..secret_store import AccessKey


def keyring_problem(ctx: RunContext) -> str | None:
    """Why the keyring cannot take the secret now (None when it can), checked once per run.

    The check writes, reads back and deletes a throwaway entry: a locked or absent keyring only
    fails on first use, and this must fail before AWS is changed, not after.
    """
    if ctx.secrets is None:
        return "No keyring is configured, so the secret would have nowhere safe to go."

    def ask() -> str | None:
        try:
            ctx.keyring.ensure_usable()
        except Exception as exc:  # KeyringUnavailable / InsecureKeyring: already sentences
            return f"The OS keyring cannot hold the secret: {exc}"
        return None

    return ctx.reads.once(("keyring", ctx.secrets.service), ask)


def stored_key(ctx: RunContext) -> AccessKey | None:
    """The keyring's access key for the configured user, or None (asked once per run)."""
    if ctx.secrets is None:
        return None
    user = ctx.config.user
    return ctx.reads.once(("stored_key", ctx.secrets.service, user),
                          lambda: ctx.keyring.load_access_key(user))


def create_key(ctx: RunContext, known: set[str], told: Callable[[str], None]) -> AccessKey:
    """A new access key for the configured user, never made blindly twice.

    ``known`` are the user's key ids before the call; the caller has written this install's
    "create began" record. When AWS's answer is lost, every key not in ``known`` is one this
    call made and nobody can ever learn the secret of: it is deleted (:func:`reconcile`), and
    then, the user being back to ``known``, the key is created once more, under a new record.
    That second create is the only repeat: if its answer is lost too, its stray is deleted and
    the run stops, asking for another. ``told`` hears, in one line, that the first answer was
    lost and what became of its key.
    """
    user = ctx.config.user
    try:
        return _create_once(ctx)
    except Exception as exc:
        if not outcome_unknown(exc):
            raise explain(exc, f"creating an access key for {user}",
                          "iam:CreateAccessKey") from exc
        lost = error_code(exc) or type(exc).__name__
    removed = reconcile(ctx, known)
    key_records.begin(ctx, user, known)  # the second attempt's own "create began"
    try:
        key = _create_once(ctx)
    except Exception as exc:
        if not outcome_unknown(exc):
            raise explain(exc, f"creating an access key for {user} again",
                          "iam:CreateAccessKey") from exc
        removed += reconcile(ctx, known)
        many = len(removed) > 1
        gone = (f" It made access key{'s' * many} {' and '.join(removed)}, whose "
                f"secret{'s' * many} nobody has; the wizard deleted {'them' if many else 'it'} "
                "again." if removed else " No new key was found, so nothing is left behind.")
        raise WizardError(
            f"AWS's answer to creating an access key for {user} was lost twice "
            f"({lost}, then {error_code(exc) or type(exc).__name__}).{gone}",
            hint="Run the command again.") from exc
    made = (f"the key it made ({', '.join(removed)}) was deleted" if removed else
            "it had made no key")
    told(f"AWS's answer to CreateAccessKey was lost ({lost}); {made} and a new one created.")
    return key


def _create_once(ctx: RunContext) -> AccessKey:
    """One ``CreateAccessKey`` through a client that does not retry (throttling aside: AWS did
    not act); the read of the user's keys is forgotten, as they changed."""
    from ..secret_store import AccessKey

    user = ctx.config.user
    once = ctx.client("iam", attempts=1)
    created = once_unless_throttled(lambda: once.create_access_key(UserName=user))["AccessKey"]
    ctx.reads.forget(("access_keys", user))
    key = AccessKey(created["AccessKeyId"], created["SecretAccessKey"])
    del created
    return key


def reconcile(ctx: RunContext, known: set[str]) -> list[str]:
    """Delete the user's keys that are not in ``known``; return their ids."""
    user, iam = ctx.config.user, ctx.client("iam")
    ctx.reads.forget(("access_keys", user))
    strays = [k["AccessKeyId"] for k in iam_reads.access_keys(ctx, user)
              if k["AccessKeyId"] not in known]
    for key_id in strays:
        delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=key_id),
               f"deleting access key {key_id}", "iam:DeleteAccessKey")
    ctx.reads.forget(("access_keys", user))
    _attempt_over(ctx)
    return strays


def _attempt_over(ctx: RunContext) -> None:
    """This install's "create began" record is done with (its key deleted again, or none made).

    Best effort: a pending record left behind makes no key an orphan but one this install made.
    """
    from ..state import install_id

    with contextlib.suppress(WizardError):
        key_records.abandon(ctx, ctx.config.user, install_id())


def store_or_hand_over(ctx: RunContext, key: Any) -> None:
    """Keep ``key`` in the keyring; if that fails, delete it; if that fails, hand it over."""
    user = ctx.config.user
    try:
        ctx.keyring.store_access_key(user, key)
    except Exception as store_error:  # noqa: BLE001 - any keyring failure means the same
        try:
            ctx.client("iam").delete_access_key(UserName=user, AccessKeyId=key.access_key_id)
        except Exception:  # noqa: BLE001 - the secret must not be lost: it goes to the operator
            from ..state import remember_handoff

            # Remembered (the id only, here and on the user), so no later run takes it for an
            # orphan and deletes it.
            remember_handoff(ctx.keyring.service, user, key.access_key_id)
            with contextlib.suppress(WizardError):
                key_records.stored(ctx, user, key.access_key_id, (key_records.OPERATOR,))
            raise HandoffNeeded(SecretHandoff(user, key.access_key_id, key.secret_access_key,
                                              str(store_error))) from None
        _attempt_over(ctx)
        raise WizardError(f"The keyring failed while storing the secret ({store_error}); access "
                          f"key {key.access_key_id} was deleted again, so nothing is left "
                          "behind.") from None
    finally:
        ctx.reads.forget(("stored_key", ctx.keyring.service, user), ("access_keys", user))


def stale_records(state: KeyState) -> list[str]:
    """What apply tidies in the wizard's records: records of keys IAM no longer has, and this
    machine's "create began" record when no key came of it (a kill before AWS made one)."""
    from ..state import install_id

    gone, idle = state.records.stale(k.key_id for k in state.keys)
    lines = [f"Remove the record of deleted access key {k}." for k in gone]
    if install_id() in idle:
        lines.append("Close this machine's unfinished record of making a key (no key came of it).")
    return lines


def left_alone(key: KeyFact, state: KeyState, user: str) -> str:
    """Why ``key`` (not this keyring's, not an orphan) is left alone, and what the operator can do.

    ``rotate`` is only offered where it can run: it makes a key before it retires one, so it
    refuses when IAM's two keys per user are taken.
    """
    if key.holder is Holder.ELSEWHERE:
        mine = ("" if state.full else " `circleci-s3-wizard rotate --yes` makes one this "
                "machine's keyring holds, and never deletes that one.")
        return (f"Access key {key.key_id} of {user} is held in {key.where}; the wizard leaves it "
                f"alone: use it from there.{mine}")
    if key.holder is Holder.CREATING:
        return (f"Access key {key.key_id} of {user} is being made by another machine (its record "
                "says so); the wizard leaves it alone.")
    if key.holder is Holder.FOREIGN:
        return (f"Access key {key.describe()} of {user} was not made by the wizard (it has no "
                "record of it), so the wizard never touches it. Delete it in the IAM console "
                "once nothing uses it.")
    retire = (" Retire it with `circleci-s3-wizard rotate` or in the IAM console once nothing "
              "uses it." if not state.full else
              " Delete it in the IAM console once nothing uses it (rotate needs a free slot: "
              f"IAM allows {IAM_KEYS_PER_USER} keys per user).")
    return (f"Access key {key.describe()} of {user} is not in your keyring; the wizard leaves "
            f"it alone.{retire}")


def beyond_prefix(ctx: RunContext, work: Work) -> None:
    """Refuse to hand out a key while the user holds more than the wizard's policy.

    The plan read the user's effective grants (:mod:`wizard.grants`); when they reached beyond
    the prefix, the group and user steps of the same apply take the rest away, and this reads
    them again, after those steps, before any key exists. A user the plan found clean, or made
    in this run, needs no second look.
    """
    from ..grants import effective, forget_holdings

    found = effective(ctx)
    if found is None or found.clean:
        return
    work.need("group", "user")  # their removals first
    forget_holdings(ctx)
    again = effective(ctx)
    if again is not None and not again.clean:
        raise WizardError(f"No access key was made: {again.identity} holds more than the "
                          "wizard's policy: " + "; ".join(again.drift_lines()) + ".",
                          hint="Run apply again to take it away (where the wizard owns it), or "
                          "remove it in the IAM console.")


class AccessKeyStep(Step):
    key = "access_key"

    def plan(self, ctx: RunContext) -> StepPlan:
        user = ctx.config.user
        # The keyring (local D-Bus calls) and the user's keys (AWS) are asked at the same time;
        # listing the keys of a user that does not exist is a quick "none".
        problem, _, exists = at_once(lambda: keyring_problem(ctx),
                                     lambda: iam_reads.access_keys(ctx, user),
                                     lambda: iam_reads.user(ctx, user) is not None)
        if problem:
            return self.planned(Action.BLOCKED, str(problem))
        foreign = exists and not ctx.config.adopt and not is_managed(iam_reads.user(ctx, user))
        if foreign:  # a user someone else made: its keys are theirs, and are never touched
            return self.planned(Action.BLOCKED, f"IAM user {user} was not made by the wizard, "
                                "so no access key is made for it and its keys are not touched "
                                "(see IAM user).")
        try:
            stored = stored_key(ctx)
        except Exception as exc:  # a malformed entry or a keyring that failed on read
            return self.planned(Action.BLOCKED, str(exc))
        backend = ctx.keyring.backend_name()
        if not exists:
            return self.planned(Action.CREATE, f"Create an access key for {user} and store its "
                                f"secret in the OS keyring ({backend}).",
                                calls=("iam:TagUser", "iam:CreateAccessKey"),
                                facts=KeyState((), stored))
        state = read_keys(ctx, stored)
        orphans = state.leftovers
        removal = (f"Delete orphaned access key {', '.join(k.key_id for k in state.orphans)} "
                   "(its making began here and its secret was never stored). "
                   if state.orphans else "")
        removal += (f"Delete access key {', '.join(k.key_id for k in state.superseded)}, which "
                    "rotate replaced in your keyring (its retirement was cut short). "
                    if state.superseded else "")
        deletes = ("iam:DeleteAccessKey",) if orphans else ()
        differences = (*(f"orphaned key {k.key_id}" for k in state.orphans),
                       *(f"superseded key {k.key_id}" for k in state.superseded))
        warnings = tuple(left_alone(k, state, user) for k in state.others)
        held = state.held
        handed = [k for k in state.keys if k.holder is Holder.OPERATOR]
        if held is None and handed:
            return self.planned(
                Action.BLOCKED, f"Access key {handed[0].key_id} of {user} was handed to you "
                "(shown once) because the keyring could not keep it. Once the keyring works, "
                f"run `circleci-s3-wizard rotate --user {user}`: it replaces that key with one "
                "the keyring keeps.", facts=state, warnings=warnings)
        if held is not None and not held.active:
            return self.planned(Action.BLOCKED, f"The keyring's access key {held.key_id} is "
                                "inactive in IAM (someone deactivated it). Replace it with "
                                "`circleci-s3-wizard rotate`.", facts=state, warnings=warnings)
        if held is not None:
            unrecorded = held.key_id not in state.records.keys
            stale = stale_records(state)
            if orphans or unrecorded or stale:
                record = (f"Record on {user} that access key {held.key_id} is in your keyring "
                          "(the wizard's record of it is missing). " if unrecorded else "")
                tags = ("iam:TagUser",) if unrecorded or stale else ()
                return self.planned(
                    Action.REPAIR, f"{removal}{record}{' '.join(stale)}".strip(),
                    calls=(*deletes, *tags, *(("iam:UntagUser",) if stale else ())),
                    differences=(*differences, *((f"no record of key {held.key_id}",)
                                                 if unrecorded else ()), *stale),
                    warnings=warnings, facts=state)
            return self.planned(Action.EXISTS, f"Access key {held.key_id} of {user} is active "
                                "and its secret is in your keyring.", warnings=warnings,
                                facts=state)
        if state.elsewhere:  # the setup's key is on another machine: no second one here
            there = "; ".join(k.describe() for k in state.elsewhere)
            detail = (f"{user}'s access key is on another machine: {there}. No key is made "
                      "here (use it from there, or `circleci-s3-wizard rotate --yes` makes one "
                      "this machine's keyring holds and leaves that one alone).")
            stale = stale_records(state)
            warnings = tuple(w for k, w in zip(state.others, warnings, strict=True)
                             if k not in state.elsewhere)
            if orphans or stale:
                return self.planned(Action.REPAIR, f"{removal}{' '.join(stale)} {detail}".strip(),
                                    calls=(*deletes, *(("iam:UntagUser",) if stale else ())),
                                    differences=(*differences, *stale), warnings=warnings,
                                    facts=state)
            return self.planned(Action.EXISTS, detail, warnings=warnings, facts=state)
        if len(state.keys) - len(orphans) >= IAM_KEYS_PER_USER:
            return self.planned(Action.CONFLICT, f"{user} already has {IAM_KEYS_PER_USER} access "
                                "keys, IAM's limit, and none of them is in your keyring: "
                                f"{'; '.join(k.describe() for k in state.others)}. Delete the one "
                                "not in use in the IAM console, then run the wizard again.",
                                facts=state)
        replaced = (f" (the keyring's key {stored.access_key_id} no longer exists in IAM; its "
                    "entry is replaced)" if stored is not None else "")
        return self.planned(Action.CREATE, f"{removal}Create an access key for {user} and store "
                            f"its secret in the OS keyring ({backend}){replaced}.",
                            calls=(*deletes, "iam:TagUser", "iam:CreateAccessKey"),
                            differences=differences,
                            warnings=warnings, facts=state)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        user, iam = ctx.config.user, ctx.client("iam")
        state: KeyState = plan.facts
        work.need("user")
        for orphan in state.orphans:
            work.checkpoint()
            delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=orphan.key_id),
                   f"deleting orphaned access key {orphan.key_id}", "iam:DeleteAccessKey")
            work.did(f"Deleted orphaned access key {orphan.key_id} (nobody held its secret).")
        for old in state.superseded:
            work.checkpoint()
            delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=old.key_id),
                   f"deleting superseded access key {old.key_id}", "iam:DeleteAccessKey")
            key_records.forget_key(ctx, user, old.key_id)
            work.did(f"Deleted access key {old.key_id}, which rotate had replaced.")
        if state.orphans:
            _attempt_over(ctx)
        key_id = state.held.key_id if state.held else None
        if state.held is not None and key_id not in state.records.keys:
            work.checkpoint()
            key_records.stored(ctx, user, state.held.key_id, key_records.destinations(ctx))
            work.did(f"Recorded access key {key_id} on {user} (held in your keyring).")
        if plan.action is Action.CREATE:
            beyond_prefix(ctx, work)
            work.checkpoint()
            known = {k.key_id for k in state.keys if k not in state.leftovers}
            # Written before the key exists: a kill from here on leaves a record that says
            # whose attempt the new key was (see wizard.key_records).
            key_records.begin(ctx, user, known)
            key = create_key(ctx, known, work.did)
            store_or_hand_over(ctx, key)
            key_id = key.access_key_id
            del key
            key_records.stored(ctx, user, key_id, key_records.destinations(ctx))
            work.did(f"Created access key {key_id}; its secret is in your OS keyring.")
        ctx.reads.forget(("access_keys", user))
        if state.records.keys or state.records.pending:
            for line in key_records.tidy(ctx, user, state.records,
                                         [k.key_id for k in state.keys],
                                         close=plan.action is not Action.CREATE):
                work.did(line)
        return self.result(plan.action, " ".join(work.done), access_key_id=key_id)

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        state: KeyState | None = plan.facts
        return {"access_key_id": state.held.key_id} if state and state.held else {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        from ..secret_store import MalformedEntry

        user = ctx.config.user
        try:
            stored = stored_key(ctx) if keyring_problem(ctx) is None else None
        except MalformedEntry:  # the entry's own message promises destroy removes it
            return self.planned(Action.DELETE, f"Delete the keyring entry for {user}: it is not "
                                "an access key the wizard wrote (no key of it is touched).",
                                facts=None)
        except Exception:  # noqa: BLE001 - a keyring that fails on read is left for the operator
            stored = None
        if stored is None:
            return self.planned(Action.ABSENT, f"No access key of {user} is in your keyring.")
        return self.planned(Action.DELETE, f"Delete access key {stored.access_key_id} and its "
                            "keyring entry.", calls=("iam:DeleteAccessKey",), facts=stored)

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        if plan.facts is None:  # a malformed entry: only the entry goes
            ctx.keyring.delete_access_key(ctx.config.user)
            ctx.reads.forget(("stored_key", ctx.keyring.service, ctx.config.user))
            return self.result(Action.DELETE, f"Deleted the malformed keyring entry for "
                               f"{ctx.config.user}.")
        user, key_id = ctx.config.user, plan.facts.access_key_id
        delete(lambda: ctx.client("iam").delete_access_key(UserName=user, AccessKeyId=key_id),
               f"deleting access key {key_id}", "iam:DeleteAccessKey")
        ctx.keyring.delete_access_key(user)
        ctx.reads.forget(("access_keys", user), ("stored_key", ctx.keyring.service, user))
        with contextlib.suppress(WizardError):  # the user is deleted next, with its tags
            key_records.forget_key(ctx, user, key_id)
        return self.result(Action.DELETE, f"Deleted access key {key_id} and its keyring entry.")
