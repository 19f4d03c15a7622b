"""Step 7: the access key. Its secret goes straight into the OS keyring, never to a file.

The keyring is proven usable *before* the key is created, so the usual failure (no Secret
Service, or an insecure backend) costs nothing. If storing still fails after the key exists, the
key is deleted again; only if that too fails is the secret handed to the operator, once, so no
key is ever left whose secret nobody has.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wizard.config import AuthMode
from wizard.context import RunContext
from wizard.errors import WizardError
from wizard.steps.aws_calls import aws_call
from wizard.steps.base import Action, Step, StepCheck, StepResult
from wizard.steps.user_step import get_user

IAM_KEYS_PER_USER = 2


class SecretHandoff(WizardError):
    """Storing the secret failed and the key could not be deleted: show the secret once.

    ``str()`` never contains the secret; the caller reads :attr:`access_key` and shows it to the
    operator exactly once.
    """

    def __init__(self, message: str, access_key: Any):
        super().__init__(message, hint="Store the secret somewhere safe now, then delete it from "
                         "the screen; it cannot be shown again.")
        self.access_key = access_key


def list_keys(ctx: RunContext, user: str) -> list[dict[str, Any]]:
    if get_user(ctx, user) is None:
        return []
    with aws_call(f"listing access keys of {user}", "iam:ListAccessKeys"):
        return ctx.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]


class AccessKeyStep(Step):
    key = "access_key"
    title = "Access key"
    why = (
        "CircleCI authenticates with an access key id and a secret. The secret is shown by AWS "
        "only once; the wizard puts it straight into your OS keyring instead of a downloaded CSV, "
        "so it never sits in a file on disk."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:ListAccessKeys", "iam:CreateAccessKey")

    def _stored(self, ctx: RunContext):
        return ctx.secrets.load_access_key(ctx.config.user) if ctx.secrets else None

    def check(self, ctx: RunContext) -> StepCheck:
        c = ctx.config
        if c.auth is AuthMode.OIDC:
            return StepCheck(Action.SKIP, "OIDC needs no access key: nothing long-lived to leak.")
        if ctx.secrets is None:
            return StepCheck(Action.BLOCKED, "No keyring is configured, so the secret would have "
                             "nowhere safe to go.")
        try:
            ctx.secrets.ensure_usable()
        except Exception as exc:  # KeyringUnavailable / InsecureKeyring: already a sentence
            return StepCheck(Action.BLOCKED, f"The OS keyring cannot hold the secret: {exc}")
        keys = list_keys(ctx, c.user)
        stored = self._stored(ctx)
        if stored and any(k["AccessKeyId"] == stored.access_key_id and k["Status"] == "Active"
                          for k in keys):
            return StepCheck(Action.EXISTS, f"Access key {stored.access_key_id} of {c.user} is "
                             "active and its secret is in your keyring.")
        if len(keys) >= IAM_KEYS_PER_USER:
            return StepCheck(Action.CONFLICT, f"{c.user} already has {len(keys)} access keys, "
                             "IAM's limit, and none of them is in your keyring. Delete one "
                             "(or run `circleci-s3-wizard rotate`) and retry.")
        return StepCheck(Action.CREATE, f"Create an access key for {c.user} and store its secret "
                         f"in the OS keyring ({ctx.secrets.backend_name()}).",
                         calls=("iam:CreateAccessKey",))

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action is Action.EXISTS:
            stored = self._stored(ctx)
            return StepResult(Action.EXISTS, check.detail,
                              {"access_key_id": stored.access_key_id if stored else None})
        if check.action is not Action.CREATE:
            raise WizardError(check.detail)
        key_id = self.create_and_store(ctx)
        return StepResult(Action.CREATE, f"Created access key {key_id}; its secret is in your "
                          "OS keyring.", {"access_key_id": key_id})

    def create_and_store(self, ctx: RunContext) -> str:
        """Create a key, store it, and return its id. Shared by apply and rotate."""
        from wizard.secret_store import AccessKey

        user, iam = ctx.config.user, ctx.client("iam")
        with aws_call(f"creating an access key for {user}", "iam:CreateAccessKey"):
            created = iam.create_access_key(UserName=user)["AccessKey"]
        key = AccessKey(created["AccessKeyId"], created["SecretAccessKey"])
        del created
        try:
            ctx.secrets.store_access_key(user, key)
        except Exception as store_error:
            try:
                iam.delete_access_key(UserName=user, AccessKeyId=key.access_key_id)
            except Exception:
                raise SecretHandoff(
                    f"The keyring failed ({store_error}) and access key {key.access_key_id} could "
                    "not be deleted again.", key) from None
            raise WizardError(f"The keyring failed while storing the secret ({store_error}); "
                              f"access key {key.access_key_id} was deleted again, so nothing is "
                              "left behind.") from None
        return key.access_key_id

    def rotate(self, ctx: RunContext,
               deliver: Callable[[], object] | None = None) -> tuple[str, str | None]:
        """Replace the stored key with a new one; returns (new id, old id deleted or None).

        Order matters: the new key is created and stored, then ``deliver`` (e.g. updating
        CircleCI) runs, and only then is the old key deleted, so builds never hold a dead key.
        Only the key the keyring held is deleted: a key made elsewhere is never touched.
        """
        user = ctx.config.user
        ctx.secrets.ensure_usable()
        old = self._stored(ctx)
        keys = list_keys(ctx, user)
        if not keys and get_user(ctx, user) is None:
            raise WizardError(f"IAM user {user} does not exist; run apply first.")
        if len(keys) >= IAM_KEYS_PER_USER:
            raise WizardError(f"{user} already has two access keys, IAM's limit, so a new one "
                              "cannot be made before an old one goes; delete the one not in use "
                              "in the IAM console, then rotate again.")
        new_id = self.create_and_store(ctx)
        if deliver is not None:
            deliver()
        if old and any(k["AccessKeyId"] == old.access_key_id for k in keys):
            with aws_call(f"deleting old access key {old.access_key_id}", "iam:DeleteAccessKey"):
                ctx.client("iam").delete_access_key(UserName=user, AccessKeyId=old.access_key_id)
            return new_id, old.access_key_id
        return new_id, None

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        c = ctx.config
        if c.auth is AuthMode.OIDC:
            return StepCheck(Action.SKIP, "Not part of an OIDC setup; left as it is.")
        stored = self._stored(ctx)
        if stored is None:
            return StepCheck(Action.ABSENT, f"No access key of {c.user} is in your keyring.")
        return StepCheck(Action.DELETE, f"Delete access key {stored.access_key_id} and its "
                         "keyring entry.", calls=("iam:DeleteAccessKey",))

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        c = ctx.config
        stored = self._stored(ctx)
        if any(k["AccessKeyId"] == stored.access_key_id for k in list_keys(ctx, c.user)):
            with aws_call(f"deleting access key {stored.access_key_id}", "iam:DeleteAccessKey"):
                ctx.client("iam").delete_access_key(UserName=c.user,
                                                    AccessKeyId=stored.access_key_id)
        ctx.secrets.delete_access_key(c.user)
        return StepResult(Action.DELETE, f"Deleted access key {stored.access_key_id} and its "
                          "keyring entry.")
