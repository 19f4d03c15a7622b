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
  then holds the marker variable :data:`CONTEXT_MARKER`) and nothing else is left in it.
"""

from __future__ import annotations

from typing import Any

from wizard.circleci.client import DEFAULT_HOST, Context, Project, last_four
from wizard.circleci.errors import CircleCIError
from wizard.config import AuthMode, SetupConfig
from wizard.context import RunContext
from wizard.errors import ConflictError, WizardError
from wizard.steps.base import Action, Step, StepCheck, StepResult

KEY_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
ROLE_VARS = ("AWS_ROLE_ARN",)
REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
#: Put into a context the wizard creates: contexts cannot be tagged, and this is how ``undo``
#: later knows the context is the wizard's to delete.
CONTEXT_MARKER = "S3_WIZARD_MANAGED_BY"
CONTEXT_MARKER_VALUE = "circleci-s3-wizard"


def variable_names(config: SetupConfig) -> tuple[str, ...]:
    """The variables this setup puts into CircleCI, in the order they are set."""
    return (ROLE_VARS if config.auth is AuthMode.OIDC else KEY_VARS) + REGION_VARS


def manual_instructions(
    config: SetupConfig,
    key_id: str | None = None,
    *,
    region: str | None = None,
    role_arn: str | None = None,
    host: str = DEFAULT_HOST,
) -> str:
    """Where to paste each value by hand when the wizard has no CircleCI token.

    Never contains the secret: it names the variable and says the value is the one copied from
    the wizard's copy-once screen.
    """
    default = host.rstrip("/") == DEFAULT_HOST
    where_app = "the CircleCI web app" if default else f"CircleCI at {host}"
    project = (f"the project {config.circleci_project}" if config.circleci_project
               else "your project")
    region = region or config.region or "us-east-1"
    values: list[tuple[str, str]] = []
    if config.auth is AuthMode.OIDC:
        values.append(("AWS_ROLE_ARN", role_arn or "the role ARN shown by the wizard"))
    else:
        values.append(("AWS_ACCESS_KEY_ID", key_id or "the access key id shown by the wizard"))
        values.append(("AWS_SECRET_ACCESS_KEY",
                       "the secret from the copy-once screen (paste it, then clear the "
                       "clipboard)"))
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


def _wanted_values(ctx: RunContext) -> dict[str, str] | None:
    """Name -> value to deliver, or None while there is no access key to deliver yet.

    Holds the secret in keys mode: it goes to CircleCI and nowhere else (never into a StepCheck,
    a StepResult or a message).
    """
    region = ctx.region
    if ctx.config.auth is AuthMode.OIDC:
        from wizard.circleci.oidc_steps import role_arn

        head = {"AWS_ROLE_ARN": role_arn(ctx)}
    else:
        key = ctx.secrets.load_access_key(ctx.config.user) if ctx.secrets else None
        if key is None:
            return None
        head = {"AWS_ACCESS_KEY_ID": key.access_key_id,
                "AWS_SECRET_ACCESS_KEY": key.secret_access_key}
    return {**head, "AWS_REGION": region, "AWS_DEFAULT_REGION": region}


def _known_key_ids(ctx: RunContext) -> set[str]:
    """Access key ids that are the wizard's: the IAM user's keys and the keyring's key."""
    ids: set[str] = set()
    user = ctx.config.user
    if ctx.secrets is not None:
        stored = ctx.secrets.load_access_key(user)
        if stored is not None:
            ids.add(stored.access_key_id)
    from wizard.steps.aws_calls import aws_call, is_not_found

    try:
        keys = ctx.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
    except Exception as exc:
        if not is_not_found(exc):
            with aws_call(f"listing access keys of {user}", "iam:ListAccessKeys"):
                raise
        keys = []
    ids.update(k["AccessKeyId"] for k in keys)
    return ids


class CircleCIDeliveryStep(Step):
    key = "circleci"
    title = "Deliver to CircleCI"
    why = (
        "CircleCI's old 'AWS Permissions' page is gone: credentials now live in the project's "
        "environment variables or in a context. The wizard sets them through CircleCI's API and "
        "reads them back, so nothing is pasted by hand (with OIDC there is not even a secret)."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        if ctx.config.circleci_context:
            return ("GET /project/{slug}", "GET /context", "POST /context",
                    "PUT /context/{id}/environment-variable/{name}")
        return ("GET /project/{slug}", "GET /project/{slug}/envvar",
                "POST /project/{slug}/envvar")

    # -- reading -------------------------------------------------------------------------

    def _project(self, ctx: RunContext) -> Project:
        assert ctx.circleci is not None and ctx.config.circleci_project
        return ctx.circleci.get_project(ctx.config.circleci_project)

    def _context(self, ctx: RunContext, project: Project) -> Context | None:
        assert ctx.circleci is not None and ctx.config.circleci_context
        return ctx.circleci.find_context(project.organization_id, ctx.config.circleci_context)

    def _where(self, ctx: RunContext) -> str:
        c = ctx.config
        return f"context {c.circleci_context}" if c.circleci_context else \
            f"project {c.circleci_project}"

    def _precheck(self, ctx: RunContext) -> StepCheck | None:
        c = ctx.config
        if not c.circleci_project:
            return StepCheck(Action.SKIP, "No CircleCI project was given: the values and the "
                             "config.yml snippet are shown for you to add by hand.")
        if ctx.circleci is None:
            return StepCheck(Action.SKIP, "No CircleCI token (CIRCLE_TOKEN or the keyring): add "
                             f"{', '.join(variable_names(c))} to {self._where(ctx)} by hand; the "
                             "wizard says exactly where.")
        return None

    def check(self, ctx: RunContext) -> StepCheck:
        early = self._precheck(ctx)
        if early:
            return early
        try:
            return self._check(ctx)
        except CircleCIError as exc:
            return StepCheck(Action.BLOCKED, str(exc))

    def _check(self, ctx: RunContext) -> StepCheck:
        c, client = ctx.config, ctx.circleci
        assert client is not None and c.circleci_project
        names = variable_names(c)
        listed = ", ".join(names)
        project = self._project(ctx)
        values = _wanted_values(ctx)
        pending = "" if values is not None else " (from the access key the key step creates)"
        if c.circleci_context:
            context = self._context(ctx, project)
            if context is None:
                return StepCheck(Action.CREATE, f"Create context {c.circleci_context} in the "
                                 f"organisation of {c.circleci_project} and set {listed} in "
                                 f"it{pending}.", calls=("POST /context", "PUT env var"))
            present = [n for n in names if n in client.list_context_envvars(context.id)]
            if not present:
                return StepCheck(Action.CREATE, f"Set {listed} in context {c.circleci_context}"
                                 f"{pending}.", calls=("PUT env var",))
            return StepCheck(
                Action.UPDATE,
                f"Context {c.circleci_context} already holds {', '.join(present)}; CircleCI never "
                "reveals context values, so they are rewritten with the current ones.",
                calls=("PUT env var",),
                difference=f"{', '.join(present)} exist in the context with unknown values",
            )
        existing = {v.name: v for v in client.list_project_envvars(c.circleci_project)}
        present = [n for n in names if n in existing]
        if values is None:
            if present:
                return StepCheck(
                    Action.UPDATE,
                    f"Project {c.circleci_project} already has {', '.join(present)}; they will be "
                    "replaced with the new access key.",
                    calls=("POST /project/{slug}/envvar",),
                    difference=f"{', '.join(present)} will be overwritten",
                )
            return StepCheck(Action.CREATE, f"Set {listed} on project {c.circleci_project}"
                             f"{pending}.", calls=("POST /project/{slug}/envvar",))
        differing = [n for n in present if existing[n].last_four != last_four(values[n])]
        missing = [n for n in names if n not in existing]
        if differing:
            return StepCheck(
                Action.UPDATE,
                f"Project {c.circleci_project} has {', '.join(differing)} with other values "
                "(their last four characters differ); updating overwrites them.",
                calls=("POST /project/{slug}/envvar",),
                difference=f"{', '.join(differing)} differ",
            )
        if missing:
            return StepCheck(Action.CREATE, f"Set {', '.join(missing)} on project "
                             f"{c.circleci_project}.", calls=("POST /project/{slug}/envvar",))
        return StepCheck(Action.EXISTS, f"Project {c.circleci_project} already has {listed} "
                         "with the right values (checked by their last four characters).")

    # -- writing -------------------------------------------------------------------------

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action is Action.BLOCKED:
            raise WizardError(check.detail)
        c = ctx.config
        outputs: dict[str, Any] = {"project": c.circleci_project,
                                   "variables": list(variable_names(c))}
        if c.circleci_context:
            outputs["context"] = c.circleci_context
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, outputs)
        if check.action is Action.UPDATE and not allow_update:
            raise ConflictError(check.detail, hint="Re-run with --yes (or confirm on screen) to "
                                "overwrite them.")
        values = _wanted_values(ctx)
        if values is None:
            raise WizardError(
                "There is no access key to give CircleCI: the keyring holds none for "
                f"{c.user}.",
                hint="Run the access key step first (apply), or `circleci-s3-wizard rotate`.",
            )
        detail = (self._deliver_to_context(ctx, values) if c.circleci_context
                  else self._deliver_to_project(ctx, values))
        return StepResult(check.action, detail, outputs)

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

    def _deliver_to_context(self, ctx: RunContext, values: dict[str, str]) -> str:
        client, name = ctx.circleci, ctx.config.circleci_context
        assert client is not None and name
        project = self._project(ctx)
        context = self._context(ctx, project)
        created = context is None
        if context is None:
            context = client.create_context(project.organization_id, name)
            client.set_context_envvar(context.id, CONTEXT_MARKER, CONTEXT_MARKER_VALUE)
        for var, value in values.items():
            client.set_context_envvar(context.id, var, value)
        back = set(client.list_context_envvars(context.id))
        wrong = [n for n in values if n not in back]
        if wrong:
            raise WizardError(f"CircleCI did not keep {', '.join(wrong)} in context {name} "
                              "(read back after setting them).")
        made = "Created context" if created else "Updated context"
        return (f"{made} {name} with {', '.join(values)} (names read back; CircleCI does not "
                "return context values). Give the job `context: " + name + "` in config.yml.")

    # -- removing ------------------------------------------------------------------------

    def _owned_project_vars(self, ctx: RunContext, existing: dict[str, Any]) -> list[str]:
        region_four = last_four(ctx.region)
        if ctx.config.auth is AuthMode.OIDC:
            from wizard.circleci.oidc_steps import role_arn

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

    def _destroy_plan(self, ctx: RunContext) -> tuple[StepCheck, list[str], Context | None, bool]:
        """(check, variable names to delete, context, delete the context too?)."""
        c = ctx.config
        if not c.circleci_project:
            return StepCheck(Action.ABSENT, "No CircleCI project was set up."), [], None, False
        if ctx.circleci is None:
            return StepCheck(Action.KEEP, "No CircleCI token: remove "
                             f"{', '.join(variable_names(c))} from {self._where(ctx)} by hand."
                             ), [], None, False
        client = ctx.circleci
        names = variable_names(c)
        if c.circleci_context:
            context = self._context(ctx, self._project(ctx))
            if context is None:
                return (StepCheck(Action.ABSENT, f"Context {c.circleci_context} does not exist."),
                        [], None, False)
            held = client.list_context_envvars(context.id)
            ours = CONTEXT_MARKER in held
            # In a context the operator made, region variables may serve other jobs: keep them.
            removable = names if ours else [n for n in names if n not in REGION_VARS]
            remove = [n for n in removable if n in held]
            drop_context = ours and set(held) - set(remove) == {CONTEXT_MARKER}
            if drop_context:
                return (StepCheck(Action.DELETE, f"Delete context {c.circleci_context} (made by "
                                  "the wizard, holding only its variables)."),
                        remove, context, True)
            if remove:
                kept = "" if ours else " (the context itself was not made by the wizard)"
                return (StepCheck(Action.DELETE, f"Remove {', '.join(remove)} from context "
                                  f"{c.circleci_context}{kept}."), remove, context, False)
            return (StepCheck(Action.ABSENT, f"Context {c.circleci_context} holds none of the "
                              "wizard's variables."), [], context, False)
        existing = {v.name: v for v in client.list_project_envvars(c.circleci_project)}
        present = [n for n in names if n in existing]
        if not present:
            return (StepCheck(Action.ABSENT, f"Project {c.circleci_project} has none of "
                              f"{', '.join(names)}."), [], None, False)
        owned = self._owned_project_vars(ctx, existing)
        if not owned:
            return (StepCheck(Action.KEEP, f"Project {c.circleci_project} has "
                              f"{', '.join(present)}, but their last four characters do not "
                              "match what the wizard set; they are kept."), [], None, False)
        kept = [n for n in present if n not in owned]
        tail = f" ({', '.join(kept)} kept: not the wizard's values)" if kept else ""
        return (StepCheck(Action.DELETE, f"Remove {', '.join(owned)} from project "
                          f"{c.circleci_project}{tail}."), owned, None, False)

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        try:
            return self._destroy_plan(ctx)[0]
        except CircleCIError as exc:
            return StepCheck(Action.KEEP, f"CircleCI variables are kept: {exc}")

    def undo(self, ctx: RunContext) -> StepResult:
        check, names, context, drop_context = self._destroy_plan(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        client = ctx.circleci
        assert client is not None
        if context is not None and drop_context:
            client.delete_context(context.id)
        elif context is not None:
            for name in names:
                client.delete_context_envvar(context.id, name)
        else:
            for name in names:
                client.delete_project_envvar(str(ctx.config.circleci_project), name)
        return StepResult(Action.DELETE, check.detail.replace("Remove ", "Removed ", 1)
                          .replace("Delete ", "Deleted ", 1))
