"""The OIDC steps: an IAM identity provider for CircleCI, and a role only one project may assume.

Both need the CircleCI organisation id and project id. They come from ``GET /project/{slug}``
when a CircleCI token is available, or, with no token, straight from a slug of the form
``circleci/<organization-id>/<project-id>`` (the form GitHub App and GitLab projects use anyway).
A ``gh/org/repo`` slug without a token cannot be turned into ids, so the steps say BLOCKED with
that advice instead of guessing.

Ownership: the provider and the role carry the ``managed-by`` tag (the role also lives under
``IAM_PATH``). ``undo`` deletes the role only if the wizard made it, and the provider only if the
wizard made it and no role at all still trusts it, because one provider serves every role of the
organisation in the account.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

from wizard.circleci.client import HOST_ENV, parse_slug
from wizard.circleci.oidc import issuer_host_for, issuer_url, provider_host, trust_policy
from wizard.config import IAM_PATH, MANAGED_BY_TAG, AuthMode
from wizard.context import RunContext
from wizard.errors import ConflictError, WizardError
from wizard.policy import same_policy
from wizard.steps.aws_calls import aws_call, fetch_or_none, is_managed, is_not_found, managed_tags
from wizard.steps.base import Action, Step, StepCheck, StepResult

_CACHE_KEY = "circleci_project_ids"


@dataclass(frozen=True, slots=True)
class ProjectIds:
    """What OIDC trust is built from."""

    org_id: str
    project_id: str
    issuer_host: str


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def project_ids(ctx: RunContext) -> ProjectIds:
    """The organisation and project ids of ``--circleci-project``, asked once per run."""
    if _CACHE_KEY in ctx.cache:
        return ctx.cache[_CACHE_KEY]
    slug = ctx.config.circleci_project
    if not slug:
        raise WizardError(
            "OIDC needs the CircleCI project, to trust only its tokens.",
            hint="Pass --circleci-project (e.g. gh/my-org/my-repo).",
        )
    if ctx.circleci is not None:
        project = ctx.circleci.get_project(slug)
        ids = ProjectIds(project.organization_id, project.id, issuer_host_for(ctx.circleci.host))
    else:
        parts = parse_slug(slug)
        if not (parts.vcs == "circleci" and _is_uuid(parts.org) and _is_uuid(parts.repo)):
            raise WizardError(
                f"OIDC needs the CircleCI organisation and project ids of {slug}, and without a "
                "CircleCI token the wizard cannot look them up.",
                hint="Set CIRCLE_TOKEN (a personal API token), or give the project as "
                "circleci/<organization-id>/<project-id> (Organization Settings > Overview and "
                "Project Settings > Overview show both ids).",
            )
        ids = ProjectIds(parts.org, parts.repo, issuer_host_for(os.environ.get(HOST_ENV)))
    ctx.cache[_CACHE_KEY] = ids
    return ids


def provider_arn(ctx: RunContext, ids: ProjectIds) -> str:
    """``arn:aws:iam::<account>:oidc-provider/oidc.circleci.com/org/<org_id>``."""
    return ctx.iam_arn("oidc-provider", provider_host(ids.org_id, ids.issuer_host))


def role_arn(ctx: RunContext) -> str:
    return ctx.iam_arn("role", ctx.config.role_name, IAM_PATH)


def wanted_trust(ctx: RunContext, ids: ProjectIds) -> dict[str, Any]:
    return trust_policy(
        provider_arn(ctx, ids),
        ids.org_id,
        ids.project_id,
        ctx.config.circleci_branch or None,
        ids.issuer_host,
    )


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str):
        from urllib.parse import unquote

        return json.loads(unquote(raw))
    return raw or {}


def _has_managed_tag(tags: list[dict[str, str]]) -> bool:
    key, value = MANAGED_BY_TAG
    return any(t.get("Key") == key and t.get("Value") == value for t in tags)


def _not_oidc(ctx: RunContext, what: str) -> StepCheck | None:
    if ctx.config.auth is not AuthMode.OIDC:
        return StepCheck(Action.SKIP, f"Keys mode needs no {what}.")
    return None


def roles_trusting(ctx: RunContext, arn: str) -> list[dict[str, Any]]:
    """Every role in the account whose trust policy names the provider ``arn``."""
    found = []
    with aws_call("listing roles to see which trust the OIDC provider", "iam:ListRoles"):
        for page in ctx.client("iam").get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                if arn in json.dumps(_document(role.get("AssumeRolePolicyDocument"))):
                    found.append(role)
    return found


class OidcProviderStep(Step):
    key = "oidc_provider"
    title = "CircleCI OIDC identity provider"
    why = (
        "AWS accepts CircleCI's short-lived OIDC tokens only from an identity provider it "
        "trusts. One provider per CircleCI organisation, with the organisation id as audience, "
        "replaces every long-lived access key: there is no secret left to leak or rotate."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return (
            "iam:GetOpenIDConnectProvider",
            "iam:CreateOpenIDConnectProvider",
            "iam:AddClientIDToOpenIDConnectProvider",
        )

    def _get(self, ctx: RunContext, arn: str) -> dict[str, Any] | None:
        iam = ctx.client("iam")
        try:
            provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except Exception as exc:
            if is_not_found(exc):
                return None
            with aws_call("looking up the OIDC provider", "iam:GetOpenIDConnectProvider"):
                raise
        if "Tags" not in provider:
            with aws_call("reading the OIDC provider's tags", "iam:ListOpenIDConnectProviderTags"):
                provider["Tags"] = iam.list_open_id_connect_provider_tags(
                    OpenIDConnectProviderArn=arn
                )["Tags"]
        return provider

    def check(self, ctx: RunContext) -> StepCheck:
        skip = _not_oidc(ctx, "OIDC provider")
        if skip:
            return skip
        try:
            ids = project_ids(ctx)
        except WizardError as exc:
            return StepCheck(Action.BLOCKED, str(exc))
        url, arn = issuer_url(ids.org_id, ids.issuer_host), provider_arn(ctx, ids)
        provider = self._get(ctx, arn)
        if provider is None:
            return StepCheck(
                Action.CREATE,
                f"Create the IAM OIDC provider for {url} with audience {ids.org_id}.",
                calls=("iam:CreateOpenIDConnectProvider",),
            )
        owner = (
            "made by the wizard" if _has_managed_tag(provider.get("Tags", []))
            else "made outside the wizard; it is reused and destroy keeps it"
        )
        if ids.org_id not in provider.get("ClientIDList", []):
            return StepCheck(
                Action.UPDATE,
                f"The IAM OIDC provider for {url} exists ({owner}) but does not accept the "
                f"audience {ids.org_id}; updating adds it.",
                calls=("iam:AddClientIDToOpenIDConnectProvider",),
                difference=f"audience {ids.org_id} is missing from its client id list",
            )
        return StepCheck(Action.EXISTS, f"The IAM OIDC provider for {url} exists ({owner}).")

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action is Action.BLOCKED:
            raise WizardError(check.detail)
        ids = project_ids(ctx)
        arn = provider_arn(ctx, ids)
        outputs = {"provider_arn": arn}
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, outputs)
        iam = ctx.client("iam")
        if check.action is Action.CREATE:
            # No ThumbprintList: it is optional, and AWS verifies well-known issuers such as
            # oidc.circleci.com with its own trusted CAs, so a pinned thumbprint would only
            # break on CircleCI's next certificate change.
            with aws_call("creating the OIDC provider", "iam:CreateOpenIDConnectProvider"):
                created = iam.create_open_id_connect_provider(
                    Url=issuer_url(ids.org_id, ids.issuer_host),
                    ClientIDList=[ids.org_id],
                    Tags=managed_tags(),
                )
            outputs["provider_arn"] = created["OpenIDConnectProviderArn"]
            return StepResult(
                Action.CREATE, f"Created the IAM OIDC provider for organisation {ids.org_id}.",
                outputs,
            )
        if not allow_update:
            raise ConflictError(
                check.detail,
                hint="Re-run with --yes (or confirm on screen) to add the audience.",
            )
        with aws_call("adding the audience to the OIDC provider",
                      "iam:AddClientIDToOpenIDConnectProvider"):
            iam.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=ids.org_id
            )
        return StepResult(
            Action.UPDATE, f"Added audience {ids.org_id} to the existing OIDC provider.", outputs
        )

    def _destroy_check(self, ctx: RunContext, *, predict: bool) -> StepCheck:
        skip = _not_oidc(ctx, "OIDC provider")
        if skip:
            return StepCheck(Action.KEEP, skip.detail)
        try:
            ids = project_ids(ctx)
        except WizardError as exc:
            return StepCheck(Action.KEEP, f"The OIDC provider is kept: {exc}")
        arn = provider_arn(ctx, ids)
        provider = self._get(ctx, arn)
        if provider is None:
            return StepCheck(Action.ABSENT, "There is no OIDC provider for this organisation.")
        if not _has_managed_tag(provider.get("Tags", [])):
            return StepCheck(Action.KEEP, "The OIDC provider was not made by the wizard; it is "
                             "kept.")
        users = roles_trusting(ctx, arn)
        if predict:
            # The role step runs first in destroy and removes the wizard's own role.
            ours = role_arn(ctx)
            users = [r for r in users if not (r["Arn"] == ours and is_managed(r))]
        if users:
            names = ", ".join(r["RoleName"] for r in users)
            return StepCheck(Action.KEEP, f"The OIDC provider is still trusted by role(s) "
                             f"{names}; it is kept.")
        return StepCheck(Action.DELETE, "Delete the OIDC provider the wizard made (no role "
                         "trusts it any more).", calls=("iam:DeleteOpenIDConnectProvider",))

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        return self._destroy_check(ctx, predict=True)

    def undo(self, ctx: RunContext) -> StepResult:
        check = self._destroy_check(ctx, predict=False)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        arn = provider_arn(ctx, project_ids(ctx))
        with aws_call("deleting the OIDC provider", "iam:DeleteOpenIDConnectProvider"):
            ctx.client("iam").delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        return StepResult(Action.DELETE, "Deleted the OIDC provider the wizard made.")


class OidcRoleStep(Step):
    key = "oidc_role"
    title = "IAM role for CircleCI (OIDC)"
    why = (
        "Instead of a user with a stored key, CircleCI assumes this role with a token that lives "
        "for one job. Its trust policy accepts only your organisation's tokens from this one "
        "project (and branch, if you chose one), and it gets the same least-privilege policy."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:GetRole", "iam:CreateRole", "iam:UpdateAssumeRolePolicy",
                "iam:AttachRolePolicy")

    def _get(self, ctx: RunContext) -> dict[str, Any] | None:
        iam, name = ctx.client("iam"), ctx.config.role_name
        role = fetch_or_none(lambda: iam.get_role(RoleName=name)["Role"],
                             f"looking up role {name}", "iam:GetRole")
        if role is None:
            return None
        if "Tags" not in role:
            with aws_call(f"reading the tags of role {name}", "iam:ListRoleTags"):
                role["Tags"] = iam.list_role_tags(RoleName=name)["Tags"]
        return role

    def _attached(self, ctx: RunContext) -> list[str]:
        with aws_call(f"listing policies of role {ctx.config.role_name}",
                      "iam:ListAttachedRolePolicies"):
            pages = ctx.client("iam").get_paginator("list_attached_role_policies")
            return [p["PolicyArn"] for page in pages.paginate(RoleName=ctx.config.role_name)
                    for p in page["AttachedPolicies"]]

    @staticmethod
    def _policy_arn(ctx: RunContext) -> str:
        from wizard.steps.policy_step import policy_arn

        return policy_arn(ctx)

    def check(self, ctx: RunContext) -> StepCheck:
        skip = _not_oidc(ctx, "role")
        if skip:
            return skip
        try:
            ids = project_ids(ctx)
            wanted = wanted_trust(ctx, ids)
        except (WizardError, ValueError) as exc:
            return StepCheck(Action.BLOCKED, str(exc))
        c = ctx.config
        scope = f"project {ids.project_id}" + (
            f" on branch {c.circleci_branch}" if c.circleci_branch else ""
        )
        role = self._get(ctx)
        if role is None:
            return StepCheck(
                Action.CREATE,
                f"Create role {c.role_name} that only {scope} of CircleCI organisation "
                f"{ids.org_id} may assume, with policy {c.policy_name} attached.",
                calls=("iam:CreateRole", "iam:AttachRolePolicy"),
            )
        if not is_managed(role):
            return StepCheck(
                Action.CONFLICT,
                f"Role {c.role_name} exists and was not made by the wizard; it is left alone. "
                "Choose another --role-name.",
            )
        if not same_policy(_document(role.get("AssumeRolePolicyDocument")), wanted):
            return StepCheck(
                Action.UPDATE,
                f"Role {c.role_name} exists with a different trust policy; updating makes it "
                f"trust only {scope}.",
                calls=("iam:UpdateAssumeRolePolicy",),
                difference="the trust policy differs from the one for this project",
            )
        if self._policy_arn(ctx) not in self._attached(ctx):
            return StepCheck(
                Action.CREATE,
                f"Role {c.role_name} exists; attach policy {c.policy_name} to it.",
                calls=("iam:AttachRolePolicy",),
            )
        return StepCheck(
            Action.EXISTS,
            f"Role {c.role_name} exists, trusts only {scope}, and has {c.policy_name} attached.",
        )

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action in (Action.BLOCKED, Action.CONFLICT):
            raise (ConflictError if check.action is Action.CONFLICT else WizardError)(check.detail)
        outputs = {"role_arn": role_arn(ctx)}
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, outputs)
        iam, c = ctx.client("iam"), ctx.config
        trust = json.dumps(wanted_trust(ctx, project_ids(ctx)))
        done = Action.CREATE
        if self._get(ctx) is None:
            with aws_call(f"creating role {c.role_name}", "iam:CreateRole"):
                created = iam.create_role(
                    RoleName=c.role_name,
                    Path=IAM_PATH,
                    AssumeRolePolicyDocument=trust,
                    Description=f"CircleCI project {c.circleci_project} (OIDC), made by "
                    "circleci-s3-wizard",
                    MaxSessionDuration=3600,
                    Tags=managed_tags(),
                )["Role"]
            outputs["role_arn"] = created["Arn"]
        elif check.action is Action.UPDATE:
            if not allow_update:
                raise ConflictError(
                    check.detail,
                    hint="Re-run with --yes (or confirm on screen) to replace the trust policy.",
                )
            with aws_call(f"updating the trust policy of {c.role_name}",
                          "iam:UpdateAssumeRolePolicy"):
                iam.update_assume_role_policy(RoleName=c.role_name, PolicyDocument=trust)
            done = Action.UPDATE
        arn = self._policy_arn(ctx)
        if arn not in self._attached(ctx):
            with aws_call(f"attaching {c.policy_name} to role {c.role_name}",
                          "iam:AttachRolePolicy"):
                iam.attach_role_policy(RoleName=c.role_name, PolicyArn=arn)
        verb = "Created" if done is Action.CREATE else "Updated"
        return StepResult(done, f"{verb} role {c.role_name} with policy {c.policy_name}.",
                          outputs)

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        name = ctx.config.role_name
        role = self._get(ctx)
        if role is None:
            return StepCheck(Action.ABSENT, f"Role {name} does not exist.")
        if not is_managed(role):
            return StepCheck(Action.KEEP, f"Role {name} was not made by the wizard; it is kept.")
        return StepCheck(Action.DELETE, f"Detach its policies and delete role {name}.",
                         calls=("iam:DetachRolePolicy", "iam:DeleteRole"))

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        iam, name = ctx.client("iam"), ctx.config.role_name
        with aws_call(f"deleting role {name}", "iam:DeleteRole"):
            for arn in self._attached(ctx):
                iam.detach_role_policy(RoleName=name, PolicyArn=arn)
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                iam.delete_role_policy(RoleName=name, PolicyName=policy)
            iam.delete_role(RoleName=name)
        return StepResult(Action.DELETE, f"Deleted role {name}.")
