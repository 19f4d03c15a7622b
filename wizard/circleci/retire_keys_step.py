"""The move from keys to OIDC: the wizard's static key leaves CircleCI, IAM and the keyring.

After ``apply --auth oidc`` on a project first set up with ``--auth keys``, CircleCI still holds
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, and the aws-cli orb uses static keys whenever it
finds them: OIDC would silently not be used, and a long-lived key would stay active for nothing.
This step (OIDC mode, after the CircleCI step has set ``AWS_ROLE_ARN``) finds them and, with the
operator's consent (it plans an UPDATE), deletes the variables, then deactivates and deletes the
IAM access key, then the keyring entry. The IAM user and group stay: ``destroy --auth keys``
removes them (the policy stays while the role uses it).

Only the wizard's own key is touched, and only when CircleCI shows it belongs to *this* setup:

* a project variable ``AWS_ACCESS_KEY_ID`` (in any ``--circleci-project``) whose last four
  characters (all CircleCI returns) match the keyring's key or a key of ``--user``: that
  variable and ``AWS_SECRET_ACCESS_KEY`` beside it go, and so does the matched IAM key;
* static key variables in the configured context, when the wizard made that context (it carries
  :data:`~wizard.circleci.delivery_step.CONTEXT_MARKER`; context values are never returned, so a
  context the operator made cannot be proven to hold the wizard's key): they go, with the
  keyring's key, which is the one the wizard delivered there.

Anything else is reported, never deleted: a key whose last four match no key of the user (made
by someone else), static keys in an operator's context, and the keyring's key when no CircleCI
variable of this setup holds it (another project's keys setup may still use it; without a
CircleCI token nothing can be matched at all). The keyring is read only when there is a key to
match, so an OIDC-only run never touches it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from ..aws import aws_call, delete
from ..context import RunContext
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from ..steps import iam_reads
from ..steps.base import Step
from .client import STATIC_KEY_VARS, Context
from .errors import CircleCIError
from .reads import (
    CONTEXT_MARKER,
    context,
    context_variables,
    project_variables,
)

ORB_PREFERS_KEYS = ("The aws-cli orb uses static keys whenever it finds them, so until they are "
                    "gone OIDC is not used.")


@dataclass(frozen=True, slots=True)
class Retirement:
    """What the move removes, in the order it removes it (facts of the plan; no secret)."""

    #: (project slug, variable names) to delete.
    project_vars: tuple[tuple[str, tuple[str, ...]], ...] = ()
    context: Context | None = None
    context_vars: tuple[str, ...] = ()
    #: (access key id, active?) of the wizard's user to deactivate and delete.
    iam_keys: tuple[tuple[str, bool], ...] = ()
    #: The keyring entry's access key id, when the entry goes.
    keyring_key: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.project_vars or self.context_vars or self.iam_keys or self.keyring_key)

    def lines(self, user: str) -> list[str]:
        """One ``-`` line per removal, in the order apply makes them."""
        out = [f"- delete {', '.join(names)} from project {slug}"
               for slug, names in self.project_vars]
        if self.context_vars and self.context is not None:
            out.append(f"- delete {', '.join(self.context_vars)} from context "
                       f"{self.context.name}")
        out += [f"- {'deactivate, then ' if active else ''}delete access key {key_id} of {user} "
                "(the user stays)" for key_id, active in self.iam_keys]
        if self.keyring_key:
            out.append(f"- delete the keyring entry of {user} (access key {self.keyring_key})")
        return out


def _keyring_key_id(ctx: RunContext) -> tuple[str | None, str | None]:
    """(the keyring's access key id for ``--user``, or why it could not be read)."""
    from ..steps.access_key_step import stored_key

    try:
        stored = stored_key(ctx)
    except Exception as exc:  # noqa: BLE001 - an unreadable keyring only means "cannot tell"
        return None, f"The keyring could not be read ({exc}), so its key cannot be retired."
    return (stored.access_key_id if stored is not None else None), None


class RetireKeysStep(Step):
    key = "retire_keys"

    def plan(self, ctx: RunContext) -> StepPlan:
        try:
            return self._plan(ctx)
        except CircleCIError as exc:
            return self.planned(Action.BLOCKED, str(exc))

    def _plan(self, ctx: RunContext) -> StepPlan:
        from ..graph import each_at_once

        c = ctx.config
        user = c.user
        listed = iam_reads.access_keys(ctx, user)
        active = {k["AccessKeyId"]: k.get("Status") == "Active" for k in listed}
        warnings: list[str] = []
        tied: set[str] = set()
        project_vars: list[tuple[str, tuple[str, ...]]] = []
        found: Context | None = None
        context_vars: tuple[str, ...] = ()
        if ctx.circleci is None:
            if listed:
                where = (f"context {c.circleci_context}" if c.circleci_context
                         else f"project {c.circleci_project}")
                warnings.append(
                    f"Without a CircleCI token the wizard cannot see which key CircleCI holds, "
                    f"so no key of {user} is retired. If {where} still has AWS_ACCESS_KEY_ID and "
                    f"AWS_SECRET_ACCESS_KEY, remove them by hand: {ORB_PREFERS_KEYS}")
            return self.planned(Action.SKIP, "No CircleCI token: static key variables cannot "
                                "be looked for.", warnings=tuple(warnings))
        slugs = c.circleci_projects
        statics = {slug: [v[n] for n in STATIC_KEY_VARS if n in v] for slug, v in zip(
            slugs, each_at_once(partial(project_variables, ctx, s) for s in slugs),
            strict=True)}
        context_statics: tuple[str, ...] = ()
        if c.circleci_context:
            found = context(ctx)
            names = context_variables(ctx, found.id) if found is not None else []
            context_statics = tuple(n for n in STATIC_KEY_VARS if n in names)
            if context_statics and CONTEXT_MARKER in names:
                context_vars = context_statics
            elif context_statics:
                warnings.append(
                    f"Context {c.circleci_context} holds {', '.join(context_statics)}; it was "
                    "not made by the wizard and CircleCI never returns context values, so the "
                    f"wizard cannot tell whose key it is and leaves it. {ORB_PREFERS_KEYS} "
                    f"Remove them at Organization Settings > Contexts > {c.circleci_context} "
                    "(or run `circleci-s3-wizard destroy --auth keys --circleci-context "
                    f"{c.circleci_context}` if the wizard put them there).")
        # The keyring is asked only when there is a key to match: an OIDC-only operator's
        # keyring (perhaps locked, perhaps absent) is none of this step's business.
        keyring_id: str | None = None
        if listed or any(statics.values()) or context_vars:
            keyring_id, problem = _keyring_key_id(ctx)
            warnings += [problem] if problem else []
        if context_vars and keyring_id:
            tied.add(keyring_id)  # the key the wizard delivered into its own context
        candidates = set(active) | ({keyring_id} if keyring_id else set())
        for slug, held in statics.items():
            if not held:
                continue
            key_var = next((v for v in held if v.name == "AWS_ACCESS_KEY_ID"), None)
            matched = {k for k in candidates if key_var and k[-4:] == key_var.last_four}
            if matched:
                tied |= matched
                project_vars.append((slug, tuple(v.name for v in held)))
                continue
            shown = ", ".join(f"{v.name} ({v.masked})" if v.name == "AWS_ACCESS_KEY_ID"
                              else v.name for v in held)
            warnings.append(f"Project {slug} has {shown}, which is not a key of {user} nor your "
                            f"keyring's (made by someone else): it is left alone. "
                            f"{ORB_PREFERS_KEYS} Remove it at Project Settings > Environment "
                            "Variables once nothing else needs it.")
        iam_keys = tuple((k, active[k]) for k in sorted(tied) if k in active)
        keyring_key = keyring_id if keyring_id in tied else None
        untied = sorted(k for k in active if k not in tied)
        if untied:
            held_by = {k: "your keyring" if k == keyring_id else "not your keyring"
                       for k in untied}
            warnings.append(
                f"Access key {', '.join(f'{k} ({held_by[k]})' for k in untied)} of {user} is not "
                "held by any CircleCI variable of this setup, so it is left alone (another "
                "project's keys setup may use it). When nothing uses it, `circleci-s3-wizard "
                f"destroy --auth keys --user {user}` removes it with the user and group.")
        retirement = Retirement(tuple(project_vars), found, context_vars, iam_keys, keyring_key)
        if retirement.empty:
            return self.planned(Action.EXISTS, "No static AWS key of this setup is left in "
                                "CircleCI, IAM or your keyring.", warnings=tuple(warnings),
                                facts=retirement)
        return self.planned(Action.UPDATE, self._sentence(retirement, user),
                            calls=self._calls(retirement), differences=tuple(
                                retirement.lines(user)), warnings=tuple(warnings),
                            facts=retirement)

    @staticmethod
    def _sentence(r: Retirement, user: str) -> str:
        parts = []
        variables = [f"{', '.join(names)} from project {slug}" for slug, names in r.project_vars]
        if r.context_vars and r.context is not None:
            variables.append(f"{', '.join(r.context_vars)} from context {r.context.name}")
        if variables:
            parts.append("delete " + "; ".join(variables))
        if r.iam_keys:
            parts.append(f"deactivate and delete access key "
                         f"{', '.join(k for k, _ in r.iam_keys)} of {user}")
        if r.keyring_key:
            parts.append("delete its keyring entry")
        tail = (" The IAM user and group stay (`destroy --auth keys` removes them)."
                if r.iam_keys else "")
        orb = f" {ORB_PREFERS_KEYS}" if variables else ""
        return f"Move off static keys: {', then '.join(parts)}.{tail}{orb}"

    @staticmethod
    def _calls(r: Retirement) -> tuple[str, ...]:
        calls: list[str] = []
        if r.project_vars:
            calls.append("DELETE /project/{slug}/envvar/{name}")
        if r.context_vars:
            calls.append("DELETE /context/{id}/environment-variable/{name}")
        if any(active for _, active in r.iam_keys):
            calls.append("iam:UpdateAccessKey")
        if r.iam_keys:
            calls.append("iam:DeleteAccessKey")
        return tuple(calls)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        r: Retirement = plan.facts
        user, client = ctx.config.user, ctx.circleci
        # AWS_ROLE_ARN first: the project is never left with no way to reach AWS.
        work.need("circleci")
        for slug, names in r.project_vars:
            assert client is not None
            work.checkpoint()
            for name in names:
                client.delete_project_envvar(slug, name)
            work.did(f"Deleted {', '.join(names)} from project {slug}.")
        if r.context_vars and r.context is not None:
            assert client is not None
            work.checkpoint()
            for name in r.context_vars:
                client.delete_context_envvar(r.context.id, name)
            work.did(f"Deleted {', '.join(r.context_vars)} from context {r.context.name}.")
        ctx.reads.forget("circleci_envvars", "circleci_context_vars")
        iam = ctx.client("iam")
        for key_id, active in r.iam_keys:
            work.checkpoint()
            if active:
                with aws_call(f"deactivating access key {key_id}", "iam:UpdateAccessKey"):
                    iam.update_access_key(UserName=user, AccessKeyId=key_id, Status="Inactive")
            delete(partial(iam.delete_access_key, UserName=user, AccessKeyId=key_id),
                   f"deleting access key {key_id}", "iam:DeleteAccessKey")
            work.did(f"Deactivated and deleted access key {key_id} of {user}.")
        ctx.reads.forget(("access_keys", user))
        if r.keyring_key and ctx.secrets is not None:
            work.checkpoint()
            ctx.secrets.delete_access_key(user)
            ctx.reads.forget(("stored_key", ctx.secrets.service, user))
            work.did(f"Deleted the keyring entry of {user}.")
        return self.result(Action.UPDATE, " ".join(work.done),
                           retired_access_keys=[k for k, _ in r.iam_keys])

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        return self.planned(Action.ABSENT, "Nothing to undo: retired keys are not brought back.")
