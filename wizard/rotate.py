"""Staged key rotation: every destination checked first; the old key retired once the new works.

1. **Check** (nothing changes): the keyring works; the user exists; CircleCI's token is valid and
   the project (or context) reachable, when CircleCI holds the key; there is room for a second
   key (orphans are deleted first, they only take a slot).
2. **Create** the new key (never retried blindly: see
   :func:`~wizard.steps.access_key_step.create_key`).
3. **Store** it in the keyring, in place of the old one.
4. **Deliver** it to CircleCI.
5. **Prove** it works: a live call signed with it, waiting out IAM's propagation delay (bounded).
6. Only then **deactivate and delete** the old key.

On any failure before step 6 (ctrl+c included) the rotation rolls back to exactly one active
key, the old one, held by the keyring and by CircleCI as before, and says what it undid. If the
keyring cannot take the old key back either, the old secret is handed to the operator rather
than lost.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import key_records
from .aws import NOT_YET_VALID, delete, is_managed
from .context import RunContext
from .errors import WizardError, error_code
from .keys import IAM_KEYS_PER_USER, Holder, KeyFact, KeyState, read_keys
from .model import SecretHandoff
from .state import install_id
from .steps import iam_reads
from .steps.access_key_step import create_key, keyring_problem, reconcile, stored_key

#: How long a new key may take to be accepted (IAM is eventually consistent).
PROPAGATION_SECONDS = 30.0


@dataclass
class Preflight:
    """What the checks found; ``summary`` says what the rotation will do."""

    state: KeyState
    old: Any  # AccessKey | None: the keyring's key, kept to roll back to
    deliver: bool
    summary: str

    @property
    def retiring(self) -> str | None:
        """The key this rotation replaces: the keyring's, or one handed to the operator."""
        return _retiring(self.state)


def _retiring(state: KeyState) -> str | None:
    from .keys import Holder

    if state.held is not None:
        return state.held.key_id
    return next((k.key_id for k in state.keys if k.holder is Holder.OPERATOR), None)


def _kept(state: KeyState) -> tuple[KeyFact, ...]:
    """The keys a rotation leaves as they are: everyone's but the one it retires."""
    return tuple(k for k in state.others if k.key_id != _retiring(state))


def _left_alone(key: KeyFact) -> str:
    """``key``, left alone by a rotation, and why, in words (after "leave" or "Left")."""
    if key.where and key.holder is Holder.ELSEWHERE:
        return f"access key {key.key_id} alone (held in {key.where}: it stays usable there)"
    return f"access key {key.key_id} alone ({key.holder.value})"


@dataclass
class RotationOutcome:
    ok: bool
    new_key_id: str | None = None
    deleted_key_id: str | None = None
    active_key_id: str | None = None
    circleci: str | None = None
    steps: list[str] = field(default_factory=list)
    error: str | None = None
    handoff: SecretHandoff | None = None


class Rotation:
    """One rotation of the configured user's key."""

    def __init__(self, ctx: RunContext, *, propagation_seconds: float = PROPAGATION_SECONDS):
        self.ctx = ctx
        self.propagation_seconds = propagation_seconds

    # -- 1. check --------------------------------------------------------------------------

    def check(self) -> Preflight:
        """Every destination, before anything is made; raises :class:`WizardError` if one fails."""
        ctx, user = self.ctx, self.ctx.config.user
        problem = keyring_problem(ctx)
        if problem:
            raise WizardError(problem)
        found = iam_reads.user(ctx, user)
        if found is None:
            raise WizardError(f"IAM user {user} does not exist; run apply first.")
        if not is_managed(found) and not ctx.config.adopt:
            raise WizardError(f"IAM user {user} was not made by the wizard, so its access keys "
                              "are not the wizard's to rotate; none was touched.")
        old = stored_key(ctx)
        state = read_keys(ctx, old)
        deliver = self._check_circleci()
        if state.full:
            raise WizardError(
                f"{user} already has {IAM_KEYS_PER_USER} access keys, IAM's limit, so a new one "
                f"cannot be made before an old one goes: "
                f"{'; '.join(k.describe() for k in state.keys)}.",
                hint="Delete the one not in use in the IAM console, then rotate again.")
        lines = [f"Rotation of {user}'s access key:"]
        if state.orphans:
            lines.append(f"  delete orphaned key {', '.join(k.key_id for k in state.orphans)}")
        if state.superseded:
            lines.append("  delete access key "
                         f"{', '.join(k.key_id for k in state.superseded)} (an earlier rotation "
                         "replaced it)")
        lines.extend(f"  leave {_left_alone(k)}" for k in _kept(state))
        lines.append("  create a new key and store it in your keyring")
        if deliver:
            lines.append(f"  deliver it to CircleCI ({self._where()})")
        lines.append("  prove the new key works (a live call signed with it)")
        retiring = _retiring(state)
        if retiring is not None:
            lines.append(f"  then deactivate and delete the old key {retiring}")
        return Preflight(state, old, deliver, "\n".join(lines))

    def _where(self) -> str:
        c = self.ctx.config
        return f"context {c.circleci_context}" if c.circleci_context else \
            f"project {c.circleci_project}"

    def _check_circleci(self) -> bool:
        ctx, c = self.ctx, self.ctx.config
        if not c.circleci_project:
            return False
        if ctx.circleci is None:
            raise WizardError(
                f"CircleCI ({self._where()}) holds this key, and there is no CircleCI token to "
                "give it the new one, so rotating now would break its builds.",
                hint="Set CIRCLE_TOKEN, or leave out --circleci-project if CircleCI does not use "
                "this key.")
        from .circleci.reads import context, project, project_variables

        project(ctx)  # the token is valid and the project reachable
        if c.circleci_context:
            context(ctx)
        else:
            project_variables(ctx)
        return True

    # -- 2..6 ------------------------------------------------------------------------------

    def run(self, pre: Preflight, *, progress: Callable[[str], None] | None = None
            ) -> RotationOutcome:
        ctx, user, iam = self.ctx, self.ctx.config.user, self.ctx.client("iam")
        outcome = RotationOutcome(ok=False)
        old_id = pre.retiring
        outcome.active_key_id = old_id

        def say(line: str) -> None:
            outcome.steps.append(line)
            if progress is not None:
                progress(f"  {line}")

        for orphan in pre.state.orphans:
            delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=orphan.key_id),
                   f"deleting orphaned access key {orphan.key_id}", "iam:DeleteAccessKey")
            say(f"Deleted orphaned access key {orphan.key_id} (nobody held its secret).")
        if pre.state.orphans:
            key_records.abandon(ctx, user, install_id())
        for old in pre.state.superseded:  # a rotation's retirement cut short
            delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=old.key_id),
                   f"deleting superseded access key {old.key_id}", "iam:DeleteAccessKey")
            key_records.forget_key(ctx, user, old.key_id)
            say(f"Deleted access key {old.key_id}, which an earlier rotation had replaced.")
        known = {k.key_id for k in pre.state.keys if k not in pre.state.leftovers}
        try:
            key_records.begin(ctx, user, known)  # before the key exists (wizard.key_records)
            new = create_key(ctx, known, say)
        except WizardError as exc:
            outcome.error = f"{exc} The old key {old_id or '(none)'} is unchanged."
            return outcome
        except KeyboardInterrupt:
            # The request may have reached AWS: a key made now has a secret nobody will see.
            removed = reconcile(ctx, known)
            made = (f"AWS had made access key {', '.join(removed)}; it was deleted again. "
                    if removed else "")
            outcome.error = (f"Interrupted while creating the new key. {made}The old key "
                             f"{old_id or '(none)'} is unchanged.")
            return outcome
        outcome.new_key_id = new.access_key_id
        say(f"Created access key {new.access_key_id}.")

        stage = "storing it in the keyring"
        try:
            ctx.keyring.store_access_key(user, new)
            say("Stored it in your keyring.")
            stage = "recording it on the user"
            key_records.stored(ctx, user, new.access_key_id, key_records.destinations(ctx))
            if pre.deliver:
                stage = "delivering it to CircleCI"
                outcome.circleci = self._deliver()
                say(f"CircleCI: {outcome.circleci}")
            stage = "proving it works"
            self._prove(new)
            say("Proved it works (a call signed with it succeeded).")
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - all rolled back alike
            # ctrl+c too: the old key must not be left active with its secret overwritten
            # everywhere (the probe alone may wait half a minute for IAM).
            reason = ("interrupted" if isinstance(exc, KeyboardInterrupt) else str(exc)
                      if isinstance(exc, WizardError) else f"{type(exc).__name__}: {exc}")
            outcome.error = self._roll_back(pre, new, stage, reason, outcome, say)
            return outcome
        finally:
            ctx.reads.forget("stored_key", "access_keys")

        outcome.active_key_id = new.access_key_id
        if old_id is not None:
            # Deactivating first is a courtesy (a key that cannot be deleted is at least
            # unusable); deleting is what retires it, so a failed deactivation does not stop it.
            try:
                iam.update_access_key(UserName=user, AccessKeyId=old_id, Status="Inactive")
                deactivated: str | None = None
            except Exception as exc:  # noqa: BLE001
                deactivated = error_code(exc) or type(exc).__name__
            try:
                delete(lambda: iam.delete_access_key(UserName=user, AccessKeyId=old_id),
                       f"deleting old access key {old_id}", "iam:DeleteAccessKey")
            except WizardError as exc:
                state = ("it is still ACTIVE, though nobody holds its secret any more"
                         if deactivated else "it is inactive, so nothing can use it")
                outcome.error = (f"The new key {new.access_key_id} is in place everywhere, but "
                                 f"the old key {old_id} could not be deleted ({exc}); {state}. "
                                 "Delete it in the IAM console.")
                return outcome
            outcome.deleted_key_id = old_id
            with contextlib.suppress(WizardError):  # a stale record is tidied by the next apply
                key_records.forget_key(ctx, user, old_id)
            from .state import forget_handoff

            forget_handoff(ctx.keyring.service, user, old_id)
            say(f"Deleted the old key {old_id} (AWS would not deactivate it first: "
                f"{deactivated})." if deactivated else
                f"Deactivated and deleted the old key {old_id}.")
        else:
            say("There was no old key in your keyring to retire.")
        for kept in _kept(pre.state):
            say(f"Left {_left_alone(kept)}.")
        outcome.ok = True
        return outcome

    def _deliver(self) -> str:
        from .circleci.delivery_step import CircleCIDeliveryStep
        from .registry import info

        self.ctx.reads.forget("stored_key")
        step = info("circleci").step()
        assert isinstance(step, CircleCIDeliveryStep)
        return step.deliver(self.ctx)

    def _prove(self, key: Any) -> None:
        """A call signed with ``key`` (STS GetCallerIdentity needs no permission), retried while
        AWS does not know the key yet, up to :attr:`propagation_seconds`."""
        import boto3

        from .aws import client_config

        sts = boto3.Session(aws_access_key_id=key.access_key_id,
                            aws_secret_access_key=key.secret_access_key,
                            region_name=self.ctx.region).client(
                                "sts", config=client_config(attempts=1))
        deadline = time.monotonic() + self.propagation_seconds
        while True:
            try:
                answer = sts.get_caller_identity()
                break
            except Exception as exc:
                if error_code(exc) in NOT_YET_VALID and time.monotonic() < deadline:
                    time.sleep(1.0)
                    continue
                raise WizardError(f"the new key was not accepted by AWS "
                                  f"({error_code(exc) or type(exc).__name__})") from None
        if not str(answer.get("Arn", "")).endswith(f"/{self.ctx.config.user}"):
            raise WizardError(f"the new key signs as {answer.get('Arn')}, not as the user")

    def _roll_back(self, pre: Preflight, new: Any, stage: str, reason: str,
                   outcome: RotationOutcome, say: Callable[[str], None]) -> str:
        """Back to exactly one active key: the old one, in the keyring and in CircleCI."""
        ctx, user = self.ctx, self.ctx.config.user
        undone: list[str] = []
        try:
            delete(lambda: ctx.client("iam").delete_access_key(UserName=user,
                                                               AccessKeyId=new.access_key_id),
                   f"deleting the new key {new.access_key_id}", "iam:DeleteAccessKey")
            undone.append(f"deleted the new key {new.access_key_id}")
            outcome.new_key_id = None
            with contextlib.suppress(WizardError):
                key_records.forget_key(ctx, user, new.access_key_id)
                key_records.abandon(ctx, user, install_id())
        except WizardError as exc:
            undone.append(f"could NOT delete the new key {new.access_key_id} ({exc})")
        try:
            if pre.old is not None:
                ctx.keyring.store_access_key(user, pre.old)
                undone.append(f"put the old key {pre.old.access_key_id} back in your keyring")
            else:
                ctx.keyring.delete_access_key(user)
        except Exception as exc:  # noqa: BLE001 - the old secret must not be lost
            if pre.old is not None:
                from .state import remember_handoff

                remember_handoff(ctx.keyring.service, user, pre.old.access_key_id)
                outcome.handoff = SecretHandoff(user, pre.old.access_key_id,
                                                pre.old.secret_access_key, str(exc))
            undone.append(f"could NOT restore your keyring ({exc})")
        circleci_holds_old = True
        if pre.deliver and stage != "storing it in the keyring" and pre.old is not None:
            try:
                self._deliver()
                undone.append("gave CircleCI the old key again")
            except Exception as exc:  # noqa: BLE001
                # A refused write may have replaced nothing; a half-done one left CircleCI with
                # the new key's id: look before saying which.
                circleci_holds_old = self._circleci_holds(pre.old)
                undone.append("CircleCI still holds the old key (its values were not replaced)"
                              if circleci_holds_old else
                              f"could NOT give CircleCI the old key again ({exc})")
        ctx.reads.forget("stored_key", "access_keys")
        for line in undone:
            say(f"Rolled back: {line}.")
        old = pre.old.access_key_id if pre.old is not None else None
        if not old:
            kept = "There is no active key in your keyring."
        elif pre.deliver and not circleci_holds_old:
            kept = (f"The old key {old} is still the only active one, in your keyring, but "
                    f"CircleCI ({self._where()}) does NOT hold it: run `circleci-s3-wizard "
                    "apply --yes` once CircleCI takes writes again, or set AWS_ACCESS_KEY_ID "
                    "and AWS_SECRET_ACCESS_KEY there by hand.")
        else:
            kept = (f"The old key {old} is still the only active one, in your keyring"
                    + (" and in CircleCI." if pre.deliver else "."))
        return f"Failed while {stage}: {reason.rstrip('.')}. {kept}"

    def _circleci_holds(self, key: Any) -> bool:
        """Does CircleCI hold ``key`` now (its id and secret, by their last four characters)?
        A context's values cannot be read back, so there the answer is no."""
        from .circleci.client import last_four
        from .circleci.reads import project_variables

        if self.ctx.config.circleci_context:
            return False
        self.ctx.reads.forget("circleci_envvars")
        try:
            held = project_variables(self.ctx)
        except Exception:  # noqa: BLE001 - unreadable: not proven to hold it
            return False
        pairs = (("AWS_ACCESS_KEY_ID", key.access_key_id),
                 ("AWS_SECRET_ACCESS_KEY", key.secret_access_key))
        return all(name in held and held[name].last_four == last_four(value)
                   for name, value in pairs)
