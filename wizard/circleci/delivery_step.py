"""The last step: put what CircleCI needs into the project (or a context), and prove it landed.

Keys mode sets ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION`` and
``AWS_DEFAULT_REGION`` (the aws-cli orb reads the latter); OIDC mode sets ``AWS_ROLE_ARN`` and the
two region variables, and no secret at all. Project variables are read back: CircleCI returns
``xxxx`` + the last four characters, which is what the check compares. Context variables cannot
be read back at all (the API returns names only), so a context is confirmed by names, and a
context that already holds them is reported as UPDATE (its values are unknowable) rather than
EXISTS.

Without a CircleCI token the step says SKIP, not BLOCKED: the engine refuses a whole plan with a
BLOCKED step, and the rest of the setup is still worth doing. The TUI then runs the copy-once
flow with :func:`manual_instructions`, which says where each value goes.

What ``undo`` removes, conservatively, since CircleCI variables and contexts carry no tags:

* project variables only when CircleCI's last four characters show they are the wizard's (the
  access key id matches a key of the wizard's IAM user or the keyring; ``AWS_ROLE_ARN`` matches the
  wizard's role); the region variables go only together with those and only if they hold the
  run's region;
* in a context, the same variable names; the context itself only if the wizard created it (it
  then holds the marker variable :data:`CONTEXT_MARKER`) and nothing else is left in it; from a
  context that stays, the restrictions the wizard recorded adding, after the values.

A context is restricted to the setup's projects (and, if asked, its branch) before any value is
written into it; :mod:`wizard.circleci.context_restrictions` holds those rules and caveats.
"""

from __future__ import annotations

from typing import Any

from ..config import AuthMode, SetupConfig
from ..context import RunContext
from ..errors import WizardError
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from ..steps.base import Step
from . import context_restrictions as restrictions
from .client import (
    DEFAULT_HOST,
    HOST_ENV,
    Context,
    last_four,
)
from .errors import CircleCIError
from .reads import (
    CONTEXT_MARKER,
    CONTEXT_MARKER_VALUE,
    REGION_VARS,
    context,
    context_variables,
    project,
    project_variables,
)

KEY_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
ROLE_VARS = ("AWS_ROLE_ARN",)



def variable_names(config: SetupConfig) -> tuple[str, ...]:
    """The variables this setup puts into CircleCI, in the order they are set."""
    return (ROLE_VARS if config.auth is AuthMode.OIDC else KEY_VARS) + REGION_VARS


def manual_instructions(
    config: SetupConfig,
    key_id: str | None = None,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    host: str | None = None,
    secret_from: str = "cli",
    sandbox: bool = False,
) -> str:
    """Where to paste each value by hand when the wizard has no CircleCI token.

    Never contains the secret: it names the variable and says where the value comes from, in the
    terms of the view showing it (``secret_from``: ``cli`` or ``screen``).
    """
    import os

    from ..urls import shown

    host = host or os.environ.get(HOST_ENV) or DEFAULT_HOST
    default = host.rstrip("/") == DEFAULT_HOST
    where_app = "the CircleCI web app" if default else f"CircleCI at {shown(host)}"
    project = (f"the project {config.circleci_project}" if config.circleci_project
               else "your project")
    region = region or config.region or "us-east-1"
    values: list[tuple[str, str]] = []
    if config.auth is AuthMode.OIDC:
        values.append(("AWS_ROLE_ARN", role_arn or "the role ARN shown by the wizard"))
    else:
        values.append(("AWS_ACCESS_KEY_ID", key_id or "the access key id shown by the wizard"))
        flag = " --sandbox" if sandbox else ""
        keyring = (f"`circleci-s3-wizard credential-process --user {config.user}{flag}` prints "
                   "it from your keyring")
        # On screen the page's ctrl+s copies it once; the keyring's copy stays true after that.
        source = (f"ctrl+s copies it once (the clipboard is cleared after 30 s); later, {keyring}"
                  if secret_from == "screen" else f"from your keyring: {keyring}")
        values.append(("AWS_SECRET_ACCESS_KEY", source))
    values += [("AWS_REGION", region), ("AWS_DEFAULT_REGION", region)]
    if config.circleci_context:
        lines = [
            f"In {where_app}, open Organization Settings > Contexts and select the context "
            f"{config.circleci_context} (Create Context first if it does not exist).",
            "For each line below, click Add Environment Variable and enter the name and value:",
        ]
    else:
        lines = [
            f"In {where_app}, open {project}, then Project Settings > Environment "
            "Variables.",
            "For each line below, click Add Environment Variable and enter the name and value:",
        ]
    width = max(len(name) for name, _ in values)
    lines += [f"  {name.ljust(width)}  {value}" for name, value in values]
    if config.circleci_context:
        lines.append(f"Then give the job `context: {config.circleci_context}` in "
                     ".circleci/config.yml (the snippet the wizard shows already does).")
    return "\n".join(lines)


def _forget(ctx: RunContext) -> None:
    ctx.reads.forget("circleci_envvars", "circleci_context", "circleci_context_vars",
                     "circleci_restrictions")


def _wanted_values(ctx: RunContext) -> dict[str, str] | None:
    """Name -> value to deliver, or None while there is no access key to deliver yet.

    Holds the secret in keys mode: it goes to CircleCI and nowhere else (never into a plan, a
    result or a message).
    """
    region = ctx.region
    if ctx.config.auth is AuthMode.OIDC:
        from .oidc_steps import role_arn

        head = {"AWS_ROLE_ARN": role_arn(ctx)}
    else:
        from ..steps.access_key_step import keyring_problem, stored_key

        # An unusable keyring is the access key step's to report (it blocks the plan).
        key = stored_key(ctx) if keyring_problem(ctx) is None else None
        if key is None:
            return None
        head = {"AWS_ACCESS_KEY_ID": key.access_key_id,
                "AWS_SECRET_ACCESS_KEY": key.secret_access_key}
    return {**head, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def _known_key_ids(ctx: RunContext) -> set[str]:
    """Access key ids that are the wizard's: the IAM user's keys and the keyring's key."""
    from ..steps import iam_reads
    from ..steps.access_key_step import stored_key

    ids = {k["AccessKeyId"] for k in iam_reads.access_keys(ctx, ctx.config.user)}
    stored = stored_key(ctx)
    if stored is not None:
        ids.add(stored.access_key_id)
    return ids


class CircleCIDeliveryStep(Step):
    key = "circleci"

    def _where(self, ctx: RunContext) -> str:
        c = ctx.config
        return f"context {c.circleci_context}" if c.circleci_context else \
            f"project {c.circleci_project}"

    def _precheck(self, ctx: RunContext) -> StepPlan | None:
        c = ctx.config
        if not c.circleci_project:
            return self.skip("No CircleCI project was given: the values and the config.yml "
                             "snippet are shown for you to add by hand.")
        if ctx.circleci is None:
            return self.skip("No CircleCI token (CIRCLE_TOKEN or the keyring): add "
                             f"{', '.join(variable_names(c))} to {self._where(ctx)} by hand; the "
                             "wizard says exactly where.")
        return None

    def plan(self, ctx: RunContext) -> StepPlan:
        early = self._precheck(ctx)
        if early:
            return early
        try:
            return self._plan(ctx)
        except CircleCIError as exc:
            return self.planned(Action.BLOCKED, str(exc))

    def _plan(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        assert c.circleci_project
        names = variable_names(c)
        listed = ", ".join(names)
        project(ctx)  # a bad token or slug blocks the plan here, before AWS is changed
        values = _wanted_values(ctx)
        pending = "" if values is not None else " (from the access key the key step creates)"
        if c.circleci_context:
            return self._plan_context(ctx, names, pending)
        existing = project_variables(ctx)
        present = [n for n in names if n in existing]
        if values is None:
            if present:
                return self.planned(
                    Action.UPDATE,
                    f"Project {c.circleci_project} already has {', '.join(present)}; they will be "
                    "replaced with the new access key.",
                    calls=("POST /project/{slug}/envvar",),
                    differences=(f"{', '.join(present)} will be overwritten",))
            return self.planned(Action.CREATE, f"Set {listed} on project {c.circleci_project}"
                                f"{pending}.", calls=("POST /project/{slug}/envvar",))
        differing = [n for n in present if existing[n].last_four != last_four(values[n])]
        missing = [n for n in names if n not in existing]
        if differing:
            return self.planned(
                Action.UPDATE,
                f"Project {c.circleci_project} has {', '.join(differing)} with other values "
                "(their last four characters differ); updating overwrites them.",
                calls=("POST /project/{slug}/envvar",),
                differences=(f"{', '.join(differing)} differ",))
        if missing:
            return self.planned(Action.CREATE, f"Set {', '.join(missing)} on project "
                                f"{c.circleci_project}.", calls=("POST /project/{slug}/envvar",))
        return self.planned(Action.EXISTS, f"Project {c.circleci_project} already has {listed} "
                            "with the right values (checked by their last four characters).")

    def _plan_context(self, ctx: RunContext, names: tuple[str, ...], pending: str) -> StepPlan:
        """Setting the values in the context, restricted first to the setup's projects."""
        c = ctx.config
        name, listed = c.circleci_context, ", ".join(names)
        found = context(ctx)
        held = context_variables(ctx, found.id) if found is not None else []
        rules = restrictions.plan_for(ctx, found, held)
        adding = [w.label for w in rules.to_add]
        restrict = f", restricted first to {', '.join(adding)}" if adding else ""
        calls = (("POST /context/{id}/restrictions",) if adding else ()) + ("PUT env var",)
        lines = tuple(rules.lines())
        warnings = tuple(rules.warnings(ctx, names))
        if found is None:
            return self.planned(Action.CREATE, f"Create context {name} in the organisation of "
                                f"{c.circleci_project}{restrict}, and set {listed} in it"
                                f"{pending}.", calls=("POST /context", *calls),
                                differences=lines, warnings=warnings)
        present = [n for n in names if n in held]
        if present:
            return self.planned(
                Action.UPDATE,
                f"Context {name} already holds {', '.join(present)}; CircleCI never reveals "
                f"context values, so they are rewritten with the current ones{restrict}.",
                calls=calls, warnings=warnings,
                differences=(f"{', '.join(present)} exist in the context with unknown values",
                             *lines))
        if rules.narrows:
            return self.planned(
                Action.UPDATE,
                f"Context {name} exists and any project of the organisation can use it; "
                f"updating restricts it to {', '.join(adding)}, then sets {listed} in it"
                f"{pending}.", calls=calls, differences=lines, warnings=warnings)
        return self.planned(Action.CREATE, f"Set {listed} in context {name}{restrict}{pending}.",
                            calls=calls, differences=lines, warnings=warnings)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        c = ctx.config
        work.need("access_key", "oidc_role")
        ctx.reads.forget("stored_key")
        values = _wanted_values(ctx)
        if values is None:
            raise WizardError(
                "There is no access key to give CircleCI: the keyring holds none for "
                f"{c.user}.",
                hint="Run the access key step first (apply), or `circleci-s3-wizard rotate`.",
            )
        work.checkpoint()
        detail = (self._deliver_to_context(ctx, values) if c.circleci_context
                  else self._deliver_to_project(ctx, values))
        _forget(ctx)
        return self.result(plan.action, detail, **self.outputs(ctx, plan))

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        c = ctx.config
        if plan.action is Action.SKIP:
            return {}
        outputs: dict[str, Any] = {"project": c.circleci_project,
                                   "variables": list(variable_names(c))}
        if c.circleci_context:
            outputs["context"] = c.circleci_context
        return outputs

    def deliver(self, ctx: RunContext) -> str:
        """Put the current values into CircleCI now (rotation uses this); the detail.

        The context's restrictions are left as they are: rotation replaces a key where it
        already is, and restricting a context is apply's change, shown in its plan.
        """
        values = _wanted_values(ctx)
        if values is None:
            raise WizardError(f"There is no access key of {ctx.config.user} in the keyring.")
        detail = (self._deliver_to_context(ctx, values, restrict=False)
                  if ctx.config.circleci_context else self._deliver_to_project(ctx, values))
        _forget(ctx)
        return detail

    def _deliver_to_project(self, ctx: RunContext, values: dict[str, str]) -> str:
        client, slug = ctx.circleci, ctx.config.circleci_project
        assert client is not None and slug
        for name, value in values.items():
            client.set_project_envvar(slug, name, value)
        back = {v.name: v for v in client.list_project_envvars(slug)}
        wrong = [n for n, v in values.items()
                 if n not in back or back[n].last_four != last_four(v)]
        if wrong:
            raise WizardError(f"CircleCI did not keep {', '.join(wrong)} on project {slug} "
                              "(read back after setting them).",
                              hint="Run the wizard again; if it persists, check the project's "
                              "Environment Variables page.")
        return (f"Set {', '.join(values)} on project {slug} and read them back (last four "
                "characters match).")

    def _deliver_to_context(self, ctx: RunContext, values: dict[str, str], *,
                            restrict: bool = True) -> str:
        client, name = ctx.circleci, ctx.config.circleci_context
        assert client is not None and name
        found = context(ctx)
        created = found is None
        if found is None:
            found = client.create_context(project(ctx).organization_id, name)
            client.set_context_envvar(found.id, CONTEXT_MARKER, CONTEXT_MARKER_VALUE)
        # Restricted before any value is written: no other project can ever read one.
        added = restrictions.restrict(ctx, found) if restrict else []
        for var, value in values.items():
            client.set_context_envvar(found.id, var, value)
        back = set(client.list_context_envvars(found.id))
        wrong = [n for n in values if n not in back]
        if wrong:
            raise WizardError(f"CircleCI did not keep {', '.join(wrong)} in context {name} "
                              "(read back after setting them).")
        made = "Created context" if created else "Updated context"
        restricted = f", restricted it to {', '.join(added)}," if added else ""
        return (f"{made} {name}{restricted} with {', '.join(values)} (names read back; CircleCI "
                "does not return context values). Give the job `context: " + name + "` in "
                "config.yml.")

    # -- removing ------------------------------------------------------------------------

    def _owned_project_vars(self, ctx: RunContext, existing: dict[str, Any]) -> list[str]:
        region_four = last_four(ctx.region)
        if ctx.config.auth is AuthMode.OIDC:
            from .oidc_steps import role_arn

            var = existing.get("AWS_ROLE_ARN")
            if var is None or var.last_four != last_four(role_arn(ctx)):
                return []
            owned = ["AWS_ROLE_ARN"]
        else:
            var = existing.get("AWS_ACCESS_KEY_ID")
            fours = {last_four(k) for k in _known_key_ids(ctx)}
            if var is None or var.last_four not in fours:
                return []
            owned = [n for n in KEY_VARS if n in existing]
        owned += [n for n in REGION_VARS if n in existing and existing[n].last_four == region_four]
        return owned

    def _destroy_plan(self, ctx: RunContext) -> tuple[StepPlan, list[str], Context | None,
                                                     bool | restrictions.Removal]:
        """(plan, variable names to delete, context, True to delete the context too, or what to
        take out of its restrictions when it stays)."""
        c = ctx.config
        if not c.circleci_project:
            return self.planned(Action.ABSENT, "No CircleCI project was set up."), [], None, False
        if ctx.circleci is None:
            return self.planned(Action.KEEP, "No CircleCI token: remove "
                                f"{', '.join(variable_names(c))} from {self._where(ctx)} by "
                                "hand."), [], None, False
        names = variable_names(c)
        if c.circleci_context:
            found = context(ctx)
            if found is None:
                return (self.planned(Action.ABSENT, f"Context {c.circleci_context} does not "
                                     "exist."), [], None, False)
            held = context_variables(ctx, found.id)
            ours = CONTEXT_MARKER in held
            # In a context the operator made, region variables may serve other jobs: keep them.
            removable = names if ours else [n for n in names if n not in REGION_VARS]
            remove = [n for n in removable if n in held]
            records = set(restrictions.record_names(held))
            drop_context = ours and set(held) - set(remove) - records == {CONTEXT_MARKER}
            if drop_context:
                return (self.planned(Action.DELETE, f"Delete context {c.circleci_context} (made "
                                     "by the wizard, holding only its variables; its "
                                     "restrictions go with it)."), remove, found, True)
            if remove:
                # Only what the wizard recorded adding: a restriction the operator had is kept.
                taken = restrictions.removal(ctx, found, held, remove)
                kept = "" if ours else " (the context itself was not made by the wizard)"
                also = f", {taken.words()}" if taken.words() else ""
                return (self.planned(Action.DELETE, f"Remove {', '.join(remove)} from context "
                                     f"{c.circleci_context}{also}{kept}."), remove, found, taken)
            return (self.planned(Action.ABSENT, f"Context {c.circleci_context} holds none of "
                                 "the wizard's variables."), [], found, False)
        existing = project_variables(ctx)
        present = [n for n in names if n in existing]
        if not present:
            return (self.planned(Action.ABSENT, f"Project {c.circleci_project} has none of "
                                 f"{', '.join(names)}."), [], None, False)
        owned = self._owned_project_vars(ctx, existing)
        if not owned:
            return (self.planned(Action.KEEP, f"Project {c.circleci_project} has "
                                 f"{', '.join(present)}, but their last four characters do not "
                                 "match what the wizard set; they are kept."), [], None, False)
        theirs = [n for n in present if n not in owned]
        tail = f" ({', '.join(theirs)} kept: not the wizard's values)" if theirs else ""
        return (self.planned(Action.DELETE, f"Remove {', '.join(owned)} from project "
                             f"{c.circleci_project}{tail}."), owned, None, False)

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        try:
            plan, names, found, drop = self._destroy_plan(ctx)
        except CircleCIError as exc:
            return self.planned(Action.KEEP, f"CircleCI variables are kept: {exc}")
        return StepPlan(plan.key, plan.action, plan.detail, plan.calls, facts=(names, found, drop),
                        title=plan.title)

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        names, found, drop_context = plan.facts
        client = ctx.circleci
        assert client is not None
        if found is not None and drop_context is True:
            client.delete_context(found.id)
        elif found is not None:
            for name in names:
                client.delete_context_envvar(found.id, name)
            # The values are gone before the restrictions that guarded them.
            if isinstance(drop_context, restrictions.Removal):
                restrictions.remove(ctx, found, drop_context)
        else:
            for name in names:
                client.delete_project_envvar(str(ctx.config.circleci_project), name)
        _forget(ctx)
        return self.result(Action.DELETE, plan.detail.replace("Remove ", "Removed ", 1)
                           .replace("Delete ", "Deleted ", 1))
