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

The provider: IAM names a provider after its issuer URL, so the one the account already has for
``oidc.circleci.com/org/<org-id>`` (made by anyone) is found by its ARN and reused; if it lacks
the organisation id as an audience, adding it is an UPDATE (asked first, since other roles use
the provider). A provider the wizard makes has no thumbprint: it is optional, and AWS checks the
certificate of a well-known issuer itself.

The session: the aws-cli orb asks STS for ``--session-duration`` seconds, which STS refuses at
run time when it exceeds the role's MaxSessionDuration. The role step reads the existing role's
maximum (or takes the one it would create the role with, :data:`ROLE_MAX_SESSION`) and is BLOCKED
with both numbers when the duration is longer.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..aws import (
    adopt_own,
    already_exists,
    aws_call,
    delete,
    has_managed_tag,
    is_managed,
    is_not_found,
    managed_tags,
    policy_document,
)
from ..config import DEFAULT_SESSION_DURATION, IAM_PATH
from ..context import RunContext
from ..errors import WizardError, explain
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from ..policy import same_policy
from ..steps.base import Step
from ..steps.iam_reads import read_role, role_policies
from .client import HOST_ENV, parse_slug
from .oidc import (
    check_session_duration,
    issuer_host_for,
    issuer_url,
    project_trust_policy,
    provider_host,
    trust_diff,
    trust_policy_size_problem,
)
from .reads import project

#: The MaxSessionDuration of the role the wizard makes: IAM's default, and the aws-cli orb's
#: default session (a longer ``--session-duration`` needs the role's maximum raised first).
ROLE_MAX_SESSION = DEFAULT_SESSION_DURATION

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import GetOpenIDConnectProviderResponseTypeDef, RoleTypeDef


@dataclass(frozen=True, slots=True)
class ProjectIds:
    """What OIDC trust is built from: one organisation, every project the role trusts."""

    org_id: str
    project_ids: tuple[str, ...]
    issuer_host: str
    #: (project id, slug) pairs, to name projects in a plan.
    slugs: tuple[tuple[str, str], ...] = ()

    @property
    def project_id(self) -> str:
        return self.project_ids[0]

    def names(self) -> dict[str, str]:
        return dict(self.slugs)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def project_ids(ctx: RunContext) -> ProjectIds:
    """The organisation and project ids of every ``--circleci-project``, asked once per run."""
    return ctx.reads.once(("circleci_ids", ctx.config.circleci_projects), lambda: _ids(ctx))


def _one(ctx: RunContext, slug: str) -> tuple[str, str, str]:
    """(organisation id, project id, issuer host) of one project slug."""
    if ctx.circleci is not None:
        found = project(ctx, slug)
        return found.organization_id, found.id, issuer_host_for(ctx.circleci.host)
    parts = parse_slug(slug)
    if not (parts.vcs == "circleci" and _is_uuid(parts.org) and _is_uuid(parts.repo)):
        raise WizardError(
            f"OIDC needs the CircleCI organisation and project ids of {slug}, and without a "
            "CircleCI token the wizard cannot look them up.",
            hint="Set CIRCLE_TOKEN (a personal API token), or give the project as "
            "circleci/<organization-id>/<project-id> (Organization Settings > Overview and "
            "Project Settings > Overview show both ids).",
        )
    return parts.org, parts.repo, issuer_host_for(os.environ.get(HOST_ENV))


def _ids(ctx: RunContext) -> ProjectIds:
    slugs = ctx.config.circleci_projects
    if not slugs:
        raise WizardError(
            "OIDC needs the CircleCI project, to trust only its tokens.",
            hint="Pass --circleci-project (e.g. gh/my-org/my-repo).",
        )
    from ..graph import each_at_once

    found = each_at_once(partial(_one, ctx, s) for s in slugs)
    orgs = {org for org, _, _ in found}
    if len(orgs) > 1:
        raise WizardError(
            "The projects belong to different CircleCI organisations; one role trusts one "
            "organisation's tokens (its audience).",
            hint="Run the wizard once per organisation, with another --role-name.")
    org, _, host = found[0]
    ids = tuple(pid for _, pid, _ in found)
    return ProjectIds(org, ids, host, tuple(zip(ids, slugs, strict=True)))


def provider_arn(ctx: RunContext, ids: ProjectIds) -> str:
    """``arn:aws:iam::<account>:oidc-provider/oidc.circleci.com/org/<org_id>``."""
    return ctx.iam_arn("oidc-provider", provider_host(ids.org_id, ids.issuer_host))


def role_arn(ctx: RunContext) -> str:
    return ctx.managed_arn("role", ctx.config.role_name)


def wanted_trust(ctx: RunContext, ids: ProjectIds) -> dict[str, Any]:
    """Only this organisation's tokens (audience), only from these projects (the project-id
    key where STS has it, and ``sub``), only from the branch when one is pinned."""
    return project_trust_policy(
        provider_arn(ctx, ids),
        ids.org_id,
        list(ids.project_ids),
        ctx.config.circleci_branch or None,
        ids.issuer_host,
    )


def session_limit(role: Mapping[str, Any] | None) -> int:
    """The role's MaxSessionDuration: what it says, or what the wizard gives a role it makes."""
    if role is None:
        return ROLE_MAX_SESSION
    return int(role.get("MaxSessionDuration") or ROLE_MAX_SESSION)


def max_session_duration(ctx: RunContext) -> int:
    """The configured role's MaxSessionDuration (read once per run), for the config.yml snippet:
    ``config_yml(config, arn, max_session_duration=max_session_duration(ctx))``."""
    return session_limit(read_role(ctx))


def roles_trusting(ctx: RunContext, arn: str) -> list[RoleTypeDef]:
    """Every role in the account whose trust policy names the provider ``arn``."""
    found: list[RoleTypeDef] = []
    with aws_call("listing roles to see which trust the OIDC provider", "iam:ListRoles"):
        for page in ctx.client("iam").get_paginator("list_roles").paginate():
            for role in page["Roles"]:
                if arn in json.dumps(policy_document(role.get("AssumeRolePolicyDocument"))):
                    found.append(role)
    return found


def read_provider(ctx: RunContext, arn: str) -> GetOpenIDConnectProviderResponseTypeDef | None:
    """The IAM OIDC provider ``arn`` with its tags, or None (asked once per run)."""

    def ask() -> GetOpenIDConnectProviderResponseTypeDef | None:
        iam = ctx.client("iam")
        try:
            provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except Exception as exc:
            if is_not_found(exc):
                return None
            with aws_call("looking up the OIDC provider", "iam:GetOpenIDConnectProvider"):
                raise
        if "Tags" not in provider:
            with aws_call("reading the OIDC provider's tags",
                          "iam:ListOpenIDConnectProviderTags"):
                provider["Tags"] = iam.list_open_id_connect_provider_tags(
                    OpenIDConnectProviderArn=arn)["Tags"]
        return provider

    return ctx.reads.once(("oidc_provider", arn), ask)


class OidcProviderStep(Step):
    key = "oidc_provider"

    def plan(self, ctx: RunContext) -> StepPlan:
        try:
            ids = project_ids(ctx)
        except WizardError as exc:
            return self.planned(Action.BLOCKED, str(exc))
        url, arn = issuer_url(ids.org_id, ids.issuer_host), provider_arn(ctx, ids)
        provider = read_provider(ctx, arn)
        if provider is None:
            return self.planned(
                Action.CREATE,
                f"Create the IAM OIDC provider for {url} with audience {ids.org_id}.",
                calls=("iam:CreateOpenIDConnectProvider",), facts=ids)
        owner = (
            "made by the wizard" if has_managed_tag(provider.get("Tags"))
            else "made outside the wizard; it is reused and destroy keeps it"
        )
        if ids.org_id not in provider.get("ClientIDList", []):
            return self.planned(
                Action.UPDATE,
                f"The IAM OIDC provider for {url} exists ({owner}) but does not accept the "
                f"audience {ids.org_id}; updating adds it.",
                calls=("iam:AddClientIDToOpenIDConnectProvider",),
                differences=(f"audience {ids.org_id} is missing from its client id list",),
                facts=ids)
        return self.planned(Action.EXISTS, f"The IAM OIDC provider for {url} exists ({owner}).",
                            facts=ids)

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"provider_arn": provider_arn(ctx, plan.facts)} if plan.facts else {}

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        ids: ProjectIds = plan.facts
        arn = provider_arn(ctx, ids)
        iam = ctx.client("iam")
        work.checkpoint()
        if plan.action is Action.CREATE:
            # No ThumbprintList: it is optional, and AWS verifies well-known issuers such as
            # oidc.circleci.com with its own trusted CAs, so a pinned thumbprint would only
            # break on CircleCI's next certificate change.
            try:
                iam.create_open_id_connect_provider(
                    Url=issuer_url(ids.org_id, ids.issuer_host),
                    ClientIDList=[ids.org_id],
                    Tags=managed_tags(),
                )
            except Exception as exc:
                if not already_exists(exc):
                    raise explain(exc, "creating the OIDC provider",
                                  "iam:CreateOpenIDConnectProvider") from exc
            ctx.reads.forget(("oidc_provider", arn))
            return self.result(Action.CREATE, "Created the IAM OIDC provider for organisation "
                               f"{ids.org_id}.", provider_arn=arn)
        with aws_call("adding the audience to the OIDC provider",
                      "iam:AddClientIDToOpenIDConnectProvider"):
            iam.add_client_id_to_open_id_connect_provider(
                OpenIDConnectProviderArn=arn, ClientID=ids.org_id)
        ctx.reads.forget(("oidc_provider", arn))
        return self.result(Action.UPDATE, f"Added audience {ids.org_id} to the existing OIDC "
                           "provider.", provider_arn=arn)

    def _destroy_plan(self, ctx: RunContext, *, predict: bool) -> StepPlan:
        try:
            ids = project_ids(ctx)
        except WizardError as exc:
            return self.planned(Action.KEEP, f"The OIDC provider is kept: {exc}")
        arn = provider_arn(ctx, ids)
        provider = read_provider(ctx, arn)
        if provider is None:
            return self.planned(Action.ABSENT, "There is no OIDC provider for this organisation.")
        if not has_managed_tag(provider.get("Tags")):
            return self.planned(Action.KEEP, "The OIDC provider was not made by the wizard; it "
                                "is kept.")
        users = roles_trusting(ctx, arn)
        if predict:
            # The role step runs first in destroy and removes the wizard's own role.
            ours = role_arn(ctx)
            users = [r for r in users if not (r["Arn"] == ours and is_managed(r))]
        if users:
            names = ", ".join(r["RoleName"] for r in users)
            return self.planned(Action.KEEP, f"The OIDC provider is still trusted by role(s) "
                                f"{names}; it is kept.")
        return self.planned(Action.DELETE, "Delete the OIDC provider the wizard made (no role "
                            "trusts it any more).", calls=("iam:DeleteOpenIDConnectProvider",),
                            facts=arn)

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        return self._destroy_plan(ctx, predict=True)

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        again = self._destroy_plan(ctx, predict=False)
        if again.action is not Action.DELETE:
            return self.result(again.action, again.detail)
        delete(lambda: ctx.client("iam").delete_open_id_connect_provider(
            OpenIDConnectProviderArn=again.facts), "deleting the OIDC provider",
            "iam:DeleteOpenIDConnectProvider")
        return self.result(Action.DELETE, "Deleted the OIDC provider the wizard made.")


@dataclass(frozen=True, slots=True)
class RoleChanges:
    """What apply does to an existing role besides its trust: grants it takes away, adoption."""

    removals: tuple[Any, ...]
    adopt: bool


def trusted_principals(document: Mapping[str, Any]) -> str:
    """Who a trust policy lets assume the role, in words."""
    found: list[str] = []
    statements = document.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal", {})
        if isinstance(principal, str):
            found.append(principal)
            continue
        for kind, values in principal.items():
            for value in [values] if isinstance(values, str) else values:
                found.append(f"{kind} {value}")
    return ", ".join(dict.fromkeys(found)) or "nobody"


class OidcRoleStep(Step):
    key = "oidc_role"

    def plan(self, ctx: RunContext) -> StepPlan:
        try:
            ids = project_ids(ctx)
            wanted = wanted_trust(ctx, ids)
        except (WizardError, ValueError) as exc:
            return self.planned(Action.BLOCKED, str(exc))
        too_long = trust_policy_size_problem(wanted)
        if too_long is not None:
            # IAM would refuse CreateRole/UpdateAssumeRolePolicy with LimitExceeded after the
            # provider and the policy were written: refused here, before any write.
            return self.planned(Action.BLOCKED, too_long)
        c = ctx.config
        role = read_role(ctx)
        removals: tuple[Any, ...] = ()
        if role is not None:
            from .. import grants

            removals = tuple(grants.removals(ctx, "role", c.role_name))
        adopting = role is not None and not is_managed(role)
        if adopting and not c.adopt:
            assert role is not None  # adopting means it exists
            held = "; ".join(r.held for r in removals) or "nothing beyond the wizard's policy"
            who = trusted_principals(policy_document(role.get("AssumeRolePolicyDocument")))
            return self.planned(
                Action.CONFLICT,
                f"Role {c.role_name} exists and was not made by the wizard; nothing is "
                f"changed. It grants: {held}. Who may assume it now: {who}. Choose another "
                "--role-name, or pass --adopt to take it over (the plan then shows what "
                "adoption removes).")
        limit = session_limit(role)
        try:
            check_session_duration(c.session_duration, limit)
        except ValueError as exc:
            made = (f" (the wizard makes role {c.role_name} with IAM's default maximum of "
                    f"{limit} seconds; raise it in IAM once the role exists if jobs need longer)"
                    if role is None else "")
            return self.planned(Action.BLOCKED,
                                f"--session-duration {c.session_duration}: {exc}{made}")
        names = ids.names()
        scope = ", ".join(f"project {names.get(p, p)}" for p in ids.project_ids) + (
            f" on branch {c.circleci_branch}" if c.circleci_branch else "")
        session = (f" Jobs' sessions last {c.session_duration} seconds (the role allows up to "
                   f"{limit}).")
        if role is None:
            return self.planned(
                Action.CREATE,
                f"Create role {c.role_name} that only {scope} of CircleCI organisation "
                f"{ids.org_id} may assume, with policy {c.policy_name} attached.{session}",
                calls=("iam:CreateRole", "iam:AttachRolePolicy"), facts=(ids, None))
        return self._existing(ctx, ids, wanted, role, removals, adopting, scope, session)

    def _existing(self, ctx: RunContext, ids: ProjectIds, wanted: dict[str, Any],
                  role: RoleTypeDef, removals: tuple[Any, ...], adopting: bool, scope: str,
                  session: str) -> StepPlan:
        """The plan for a role that exists: adopt it, or bring its trust, its grants and its
        policy attachment to what the setup wants (each difference named)."""
        from ..steps.iam_reads import policy_arn

        c = ctx.config
        names = ids.names()
        extra = RoleChanges(removals, adopting)
        lines = tuple(r.sentence for r in removals)
        calls = tuple(dict.fromkeys(r.call for r in removals))
        attach = () if policy_arn(ctx) in role_policies(ctx) else ("iam:AttachRolePolicy",)
        current = policy_document(role.get("AssumeRolePolicyDocument"))
        if adopting:
            return self.planned(
                Action.UPDATE,
                f"Adopt role {c.role_name} (made outside the wizard): tag it as the wizard's, "
                f"make it trust only {scope}, and take away what else it grants. Who may "
                f"assume it now ({trusted_principals(current)}) loses that.{session}",
                calls=("iam:TagRole", "iam:UpdateAssumeRolePolicy", *calls, *attach),
                differences=("not made by the wizard: adopted",
                             *trust_diff(current, wanted).lines(names), *lines),
                facts=(ids, role, extra))
        if not same_policy(current, wanted):
            return self.planned(
                Action.UPDATE,
                f"Role {c.role_name} exists with a different trust policy; updating makes it "
                f"trust only {scope}.",
                calls=("iam:UpdateAssumeRolePolicy", *attach, *calls),
                differences=(*trust_diff(current, wanted).lines(names), *lines),
                facts=(ids, role, extra))
        if removals:
            return self.planned(
                Action.UPDATE,
                f"Role {c.role_name} (made by the wizard) grants more than the wizard's "
                "policy; apply takes the rest away.",
                calls=(*calls, *attach), differences=lines, facts=(ids, role, extra))
        if attach:
            return self.planned(
                Action.REPAIR, f"Role {c.role_name} exists; attach policy {c.policy_name} to it.",
                calls=attach,
                differences=(f"policy {c.policy_name} is not attached",), facts=(ids, role))
        return self.planned(
            Action.EXISTS,
            f"Role {c.role_name} exists, trusts only {scope}, and has {c.policy_name} "
            f"attached.{session}",
            facts=(ids, role))

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        if not plan.facts:
            return {}
        role = plan.facts[1]
        return {"role_arn": role["Arn"] if role else role_arn(ctx),
                "max_session_duration": session_limit(role)}

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        iam, c = ctx.client("iam"), ctx.config
        ids, role, *rest = plan.facts
        changes: RoleChanges = rest[0] if rest else RoleChanges((), False)
        trust = json.dumps(wanted_trust(ctx, ids))
        work.need("oidc_provider")
        work.checkpoint()
        if role is None:
            try:
                role = iam.create_role(
                    RoleName=c.role_name,
                    Path=IAM_PATH,
                    AssumeRolePolicyDocument=trust,
                    Description=(f"CircleCI {', '.join(c.circleci_projects)} (OIDC), made "
                                 "by circleci-s3-wizard")[:1000],
                    MaxSessionDuration=ROLE_MAX_SESSION,
                    Tags=managed_tags(),
                )["Role"]
            except Exception as exc:
                if not already_exists(exc):
                    raise explain(exc, f"creating role {c.role_name}", "iam:CreateRole") from exc
                ctx.reads.forget(("role", c.role_name))
                role = adopt_own("Role", c.role_name, read_role(ctx), exc)
                trusts = policy_document(role.get("AssumeRolePolicyDocument"))
                if not same_policy(trusts, json.loads(trust)):
                    iam.update_assume_role_policy(RoleName=c.role_name, PolicyDocument=trust)
            work.did(f"Created role {c.role_name}.")
        elif plan.action is Action.UPDATE:
            if changes.adopt:
                with aws_call(f"adopting role {c.role_name}", "iam:TagRole"):
                    iam.tag_role(RoleName=c.role_name, Tags=managed_tags())
                work.did(f"Adopted role {c.role_name} (tagged as the wizard's).")
            trusts = policy_document(role.get("AssumeRolePolicyDocument"))
            if not same_policy(trusts, json.loads(trust)):
                work.checkpoint()
                with aws_call(f"updating the trust policy of {c.role_name}",
                              "iam:UpdateAssumeRolePolicy"):
                    iam.update_assume_role_policy(RoleName=c.role_name, PolicyDocument=trust)
                work.did(f"Updated the trust policy of role {c.role_name}.")
            for removal in changes.removals:
                work.checkpoint()
                removal.run(ctx)
                work.did(removal.done)
            if changes.removals:
                from ..grants import forget_holdings

                forget_holdings(ctx)
        ctx.reads.forget(("role", c.role_name))
        work.need("policy")
        from ..steps.iam_reads import policy_arn

        arn = policy_arn(ctx)
        if arn not in role_policies(ctx):
            work.checkpoint()
            with aws_call(f"attaching {c.policy_name} to role {c.role_name}",
                          "iam:AttachRolePolicy"):
                iam.attach_role_policy(RoleName=c.role_name, PolicyArn=arn)
            ctx.reads.forget(("role_policies", c.role_name))
            work.did(f"Attached policy {c.policy_name} to it.")
        return self.result(plan.action, " ".join(work.done), role_arn=role["Arn"],
                           max_session_duration=session_limit(role))

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        name = ctx.config.role_name
        role = read_role(ctx)
        if role is None:
            return self.planned(Action.ABSENT, f"Role {name} does not exist.")
        if not is_managed(role):
            return self.planned(Action.KEEP, f"Role {name} was not made by the wizard; it is "
                                "kept.")
        return self.planned(Action.DELETE, f"Detach its policies and delete role {name}.",
                            calls=("iam:DetachRolePolicy", "iam:DeleteRole"))

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        iam, name = ctx.client("iam"), ctx.config.role_name
        ctx.reads.forget(("role_policies", name))
        for arn in role_policies(ctx):
            delete(partial(iam.detach_role_policy, RoleName=name, PolicyArn=arn),
                   f"detaching a policy from role {name}", "iam:DetachRolePolicy")
        with aws_call(f"listing inline policies of role {name}", "iam:ListRolePolicies"):
            inline = iam.list_role_policies(RoleName=name)["PolicyNames"]
        for policy in inline:
            delete(partial(iam.delete_role_policy, RoleName=name, PolicyName=policy),
                   f"deleting an inline policy of role {name}", "iam:DeleteRolePolicy")
        delete(lambda: iam.delete_role(RoleName=name), f"deleting role {name}", "iam:DeleteRole")
        ctx.reads.forget(("role", name), ("role_policies", name))
        return self.result(Action.DELETE, f"Deleted role {name}.")
