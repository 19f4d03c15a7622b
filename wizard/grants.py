"""What an IAM identity is granted in effect, read from AWS, and what reaches beyond the wizard's.

Least privilege is judged on the identity, not on the document the wizard wrote: a user gets what
every group it is in grants, plus its own attached and inline policies; a role its attached and
inline policies. :func:`effective` reads all of it (each question once per run, through
:class:`~wizard.reads.Reads`, and the questions about names the setup already knows at the same
time as the steps' own reads), and names every grant that is not the wizard's own policy: that is
**drift**. Drift blocks handing out a key, fails ``verify``, and is offered for removal only where
the wizard owns the thing it is attached to (:func:`removals`).

The same readers describe a resource the wizard did *not* make (:func:`held_by`, :func:`members`,
:func:`attached_to`): what it grants and whom else it reaches, for the plan's conflict sentence.
A permission boundary only narrows what an identity may do, so it is named, never counted as
drift.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from .aws import aws_call, is_managed, is_not_found, policy_document
from .context import RunContext

Kind = Literal["user", "group", "role"]

_LIST_ATTACHED = {"user": ("list_attached_user_policies", "UserName",
                           "iam:ListAttachedUserPolicies"),
                  "group": ("list_attached_group_policies", "GroupName",
                            "iam:ListAttachedGroupPolicies"),
                  "role": ("list_attached_role_policies", "RoleName",
                           "iam:ListAttachedRolePolicies")}
_LIST_INLINE = {"user": ("list_user_policies", "UserName", "iam:ListUserPolicies"),
                "group": ("list_group_policies", "GroupName", "iam:ListGroupPolicies"),
                "role": ("list_role_policies", "RoleName", "iam:ListRolePolicies")}
_GET_INLINE = {"user": ("get_user_policy", "UserName", "iam:GetUserPolicy"),
               "group": ("get_group_policy", "GroupName", "iam:GetGroupPolicy"),
               "role": ("get_role_policy", "RoleName", "iam:GetRolePolicy")}
#: How a grant is taken away again: (boto3 method, IAM action) by (holder kind, attached/inline).
_REMOVE = {("user", "attached"): ("detach_user_policy", "iam:DetachUserPolicy"),
           ("user", "inline"): ("delete_user_policy", "iam:DeleteUserPolicy"),
           ("group", "attached"): ("detach_group_policy", "iam:DetachGroupPolicy"),
           ("group", "inline"): ("delete_group_policy", "iam:DeleteGroupPolicy"),
           ("role", "attached"): ("detach_role_policy", "iam:DetachRolePolicy"),
           ("role", "inline"): ("delete_role_policy", "iam:DeleteRolePolicy")}


@dataclass(frozen=True, slots=True)
class Grant:
    """One policy an identity holds: attached (managed) or inline, on a user, group or role."""

    holder_kind: Kind
    holder: str
    inline: bool
    name: str
    arn: str | None = None
    #: The policy's document (the default version of a managed one), when it was read.
    document: dict[str, Any] | None = None

    @property
    def where(self) -> str:
        kind = "inline policy" if self.inline else "policy"
        return f"{kind} {self.name} on {self.holder_kind} {self.holder}"

    @property
    def grants(self) -> str:
        """What the document allows, in a few words (``allows * on *``)."""
        return in_words(self.document)

    def describe(self) -> str:
        return f"{self.where} ({self.grants})"


@dataclass(frozen=True, slots=True)
class Effective:
    """Everything one identity holds, and what of it is beyond the wizard's policy."""

    identity: str  # "user circleci_service" / "role circleci_s3_builds"
    grants: tuple[Grant, ...]
    #: Grants that are not the wizard's own policy: drift.
    beyond: tuple[Grant, ...]
    #: Groups the user is in besides the setup's group (each one is drift, granting or not).
    other_groups: tuple[str, ...] = ()
    boundary: str | None = None

    @property
    def clean(self) -> bool:
        return not self.beyond and not self.other_groups

    def drift_lines(self) -> list[str]:
        lines = [f"{g.describe()} reaches beyond the prefix" for g in self.beyond
                 if g.holder_kind != "group" or g.holder not in self.other_groups]
        for group in self.other_groups:
            held = [g for g in self.beyond if g.holder_kind == "group" and g.holder == group]
            what = "; ".join(g.describe() for g in held) or "no policy today"
            lines.append(f"{self.identity} is also in group {group} ({what})")
        return lines


def in_words(document: dict[str, Any] | None) -> str:
    """A short account of what a policy document allows: ``allows * on *; denies ...``."""
    if not document:
        return "document not read"
    parts: list[str] = []
    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements:
        if not isinstance(st, dict):
            continue
        effect = "allows" if st.get("Effect") == "Allow" else "denies"
        actions = st.get("Action") or st.get("NotAction") or []
        resources = st.get("Resource") or st.get("NotResource") or []
        act = ", ".join([actions] if isinstance(actions, str) else list(actions)[:4]) or "?"
        res = ", ".join([resources] if isinstance(resources, str) else list(resources)[:3])
        neg = "everything but " if "NotAction" in st else ""
        parts.append(f"{effect} {neg}{act} on {res or '?'}")
    from .policy_lint import lint_policy_document

    risks = sorted({p.rule for p in lint_policy_document(document) if p.severity == "error"})
    words = "; ".join(parts[:3]) + ("; ..." if len(parts) > 3 else "")
    return words + (f" - {'; '.join(risks)}" if risks else "")


# --- reads (each once per run) ---------------------------------------------------------------


def _listed(ctx: RunContext, method: str, param: str, name: str, action: str, key: str,
            doing: str) -> list[Any]:
    iam: Any = ctx.client("iam")  # the method is chosen by name, from the tables above
    try:
        pages = iam.get_paginator(method).paginate(**{param: name})
        return [item for page in pages for item in page[key]]
    except Exception as exc:
        if is_not_found(exc):
            return []
        with aws_call(doing, action):
            raise


def attached(ctx: RunContext, kind: Kind, name: str) -> list[str]:
    """ARNs of the managed policies attached to the user, group or role ``name``."""
    if kind == "group":
        from .steps.iam_reads import group_policies

        return group_policies(ctx, name)
    if kind == "role":
        from .steps.iam_reads import role_policies

        if name == ctx.config.role_name:
            return role_policies(ctx)
    method, param, action = _LIST_ATTACHED[kind]
    return ctx.reads.once((f"{kind}_policies", name), lambda: [
        p["PolicyArn"] for p in _listed(ctx, method, param, name, action, "AttachedPolicies",
                                        f"listing policies of {kind} {name}")])


def inline(ctx: RunContext, kind: Kind, name: str) -> list[str]:
    """Names of the inline policies of the user, group or role ``name``."""
    method, param, action = _LIST_INLINE[kind]
    return ctx.reads.once((f"{kind}_inline", name), lambda: _listed(
        ctx, method, param, name, action, "PolicyNames",
        f"listing inline policies of {kind} {name}"))


def inline_document(ctx: RunContext, kind: Kind, holder: str, policy: str) -> dict[str, Any]:
    method, param, action = _GET_INLINE[kind]

    def ask() -> dict[str, Any]:
        with aws_call(f"reading inline policy {policy} of {kind} {holder}", action):
            doc = getattr(ctx.client("iam"), method)(**{param: holder, "PolicyName": policy})
        return policy_document(doc["PolicyDocument"])

    return ctx.reads.once(("inline_document", kind, holder, policy), ask)


def managed_document(ctx: RunContext, arn: str) -> dict[str, Any] | None:
    """The default version's document of managed policy ``arn`` (None if it is gone)."""

    def ask() -> dict[str, Any] | None:
        iam = ctx.client("iam")
        try:
            policy = iam.get_policy(PolicyArn=arn)["Policy"]
            version = iam.get_policy_version(PolicyArn=arn,
                                             VersionId=policy["DefaultVersionId"])
        except Exception as exc:
            if is_not_found(exc):
                return None
            with aws_call(f"reading policy {arn}", "iam:GetPolicyVersion"):
                raise
        return policy_document(version["PolicyVersion"]["Document"])

    return ctx.reads.once(("managed_document", arn), ask)


def members(ctx: RunContext, group: str) -> list[str]:
    """Every user in ``group`` ([] when it does not exist)."""
    return ctx.reads.once(("group_members", group), lambda: [
        u["UserName"] for u in _listed(ctx, "get_group", "GroupName", group, "iam:GetGroup",
                                       "Users", f"listing the members of group {group}")])


def attached_to(ctx: RunContext, arn: str) -> list[str]:
    """Who a managed policy is attached to: ``["group g", "user u", "role r"]``."""

    def ask() -> list[str]:
        try:
            pages = ctx.client("iam").get_paginator("list_entities_for_policy").paginate(
                PolicyArn=arn)
            out: list[str] = []
            for page in pages:
                out += [f"group {g['GroupName']}" for g in page.get("PolicyGroups", [])]
                out += [f"user {u['UserName']}" for u in page.get("PolicyUsers", [])]
                out += [f"role {r['RoleName']}" for r in page.get("PolicyRoles", [])]
            return out
        except Exception as exc:
            if is_not_found(exc):
                return []
            with aws_call("listing what the policy is attached to",
                          "iam:ListEntitiesForPolicy"):
                raise

    return ctx.reads.once(("policy_entities", arn), ask)


def held_by(ctx: RunContext, kind: Kind, name: str, *, documents: bool = True) -> list[Grant]:
    """Every policy attached to or inline in one user, group or role, with its document."""
    from .graph import at_once, each_at_once

    arns, names = at_once(lambda: attached(ctx, kind, name), lambda: inline(ctx, kind, name))
    if not documents:
        return ([Grant(kind, name, False, a.rsplit("/", 1)[-1], a) for a in arns]
                + [Grant(kind, name, True, n) for n in names])
    reads: list[Callable[[], dict[str, Any] | None]] = [
        *(partial(managed_document, ctx, a) for a in arns),
        *(partial(inline_document, ctx, kind, name, n) for n in names)]
    docs = each_at_once(reads)
    grants = [Grant(kind, name, False, a.rsplit("/", 1)[-1], a, d)
              for a, d in zip(arns, docs, strict=False)]
    grants += [Grant(kind, name, True, n, None, d)
               for n, d in zip(names, docs[len(arns):], strict=True)]
    return grants


def describe_all(grants: list[Grant]) -> str:
    return "; ".join(g.describe() for g in grants) or "nothing"


# --- the identity ----------------------------------------------------------------------------


def _is_ours(ctx: RunContext, grant: Grant) -> bool:
    """The wizard's own policy (made by it, or adopted), attached where the setup attaches it."""
    from .steps.iam_reads import policy, policy_arn

    if grant.inline or grant.arn != policy_arn(ctx):
        return False
    found = policy(ctx, ctx.config.policy_name)
    return found is not None and (is_managed(found) or ctx.config.adopt)


def effective(ctx: RunContext) -> Effective | None:
    """The setup's identity (the user, or the role with OIDC) and everything it holds, or None
    when it does not exist. Asked once per run."""
    return ctx.reads.once(("effective", ctx.config.auth.value, ctx.config.identity_name),
                          lambda: _effective(ctx))


def warm(ctx: RunContext) -> None:
    """Ask, at once, every question about names the setup already knows, so the plan's first
    round carries them (the identity's own policies, the group's)."""
    from .graph import at_once, each_at_once

    c = ctx.config
    if c.oidc:
        at_once(lambda: attached(ctx, "role", c.role_name), lambda: inline(ctx, "role",
                                                                          c.role_name))
        return
    from .steps import iam_reads

    each_at_once([lambda: iam_reads.user_groups(ctx, c.user),
                  lambda: attached(ctx, "user", c.user), lambda: inline(ctx, "user", c.user),
                  lambda: attached(ctx, "group", c.group), lambda: inline(ctx, "group", c.group)])


def _effective(ctx: RunContext) -> Effective | None:
    from .graph import at_once, each_at_once
    from .steps import iam_reads

    c = ctx.config
    if c.oidc:
        from .steps.iam_reads import read_role

        role, _ = at_once(lambda: read_role(ctx), lambda: warm(ctx))
        if role is None:
            return None
        grants = _with_documents(ctx, held_by(ctx, "role", c.role_name, documents=False))
        boundary = (role.get("PermissionsBoundary") or {}).get(
            "PermissionsBoundaryArn")
        return Effective(f"role {c.role_name}", tuple(grants),
                         tuple(g for g in grants if not _is_ours(ctx, g)), (), boundary)
    user, _ = at_once(lambda: iam_reads.user(ctx, c.user), lambda: warm(ctx))
    if user is None:
        return None
    groups = iam_reads.user_groups(ctx, c.user)
    holders: list[tuple[Kind, str]] = [("user", c.user), *(("group", g) for g in groups)]
    listed = each_at_once(partial(held_by, ctx, h[0], h[1], documents=False) for h in holders)
    grants = _with_documents(ctx, [g for found in listed for g in found])
    boundary = (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    return Effective(f"user {c.user}", tuple(grants),
                     tuple(g for g in grants if not _is_ours(ctx, g)),
                     tuple(g for g in groups if g != c.group), boundary)


def _with_documents(ctx: RunContext, grants: list[Grant]) -> list[Grant]:
    """The documents of the grants that are not ours (ours is judged by the policy step)."""
    from .graph import each_at_once

    def read(g: Grant) -> Grant:
        if _is_ours(ctx, g):
            return g
        doc = (inline_document(ctx, g.holder_kind, g.holder, g.name) if g.inline
               else managed_document(ctx, g.arn or ""))
        return Grant(g.holder_kind, g.holder, g.inline, g.name, g.arn, doc)

    return each_at_once(partial(read, g) for g in grants)


# --- taking drift away -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Removal:
    """One write that takes a grant away from a thing the wizard owns."""

    sentence: str  # "detach policy AdminAccess from group circleci_devops (allows * on *)"
    call: str  # the IAM action
    method: str
    params: tuple[tuple[str, str], ...]
    #: What is taken away, in words: "policy AdminAccess on group g (allows * on *)".
    held: str = ""

    @property
    def done(self) -> str:
        """The sentence for the result: ``Detached policy ... .``"""
        verb, rest = self.sentence.split(" ", 1)
        past = {"detach": "Detached", "delete": "Deleted", "remove": "Removed"}[verb]
        return f"{past} {rest}."

    def run(self, ctx: RunContext) -> None:
        from .aws import delete

        iam = ctx.client("iam")
        delete(lambda: getattr(iam, self.method)(**dict(self.params)), self.sentence, self.call)


def removal_of(grant: Grant) -> Removal:
    method, action = _REMOVE[(grant.holder_kind, "inline" if grant.inline else "attached")]
    param = {"user": "UserName", "group": "GroupName", "role": "RoleName"}[grant.holder_kind]
    if grant.inline:
        return Removal(f"delete {grant.where} ({grant.grants})", action, method,
                       ((param, grant.holder), ("PolicyName", grant.name)), grant.describe())
    return Removal(f"detach policy {grant.name} from {grant.holder_kind} {grant.holder} "
                   f"({grant.grants})", action, method,
                   ((param, grant.holder), ("PolicyArn", grant.arn or "")), grant.describe())


def leave_group(user: str, group: str, why: str) -> Removal:
    return Removal(f"remove {user} from group {group} ({why})", "iam:RemoveUserFromGroup",
                   "remove_user_from_group", (("UserName", user), ("GroupName", group)),
                   f"membership of group {group} ({why})")


def beyond_on(ctx: RunContext, kind: Kind, name: str) -> list[Grant]:
    """The grants of one user, group or role that are not the wizard's policy, with documents."""
    return [g for g in _with_documents(ctx, held_by(ctx, kind, name, documents=False))
            if not _is_ours(ctx, g)]


def removals(ctx: RunContext, kind: Kind, name: str) -> list[Removal]:
    """What apply takes away from ``kind name``, a thing the wizard owns (or adopts), so that
    the identity holds only the wizard's policy. A policy on another group is never detached
    from that group: the user leaves the group instead."""
    from .graph import each_at_once

    out = [removal_of(g) for g in beyond_on(ctx, kind, name)]
    if kind == "user":
        from .steps import iam_reads

        others = [g for g in iam_reads.user_groups(ctx, name) if g != ctx.config.group]
        held = each_at_once(partial(beyond_on, ctx, "group", g) for g in others)
        for group, grants in zip(others, held, strict=True):
            out.append(leave_group(name, group, describe_all(grants)
                                   if grants else "it grants nothing today"))
    return out


def forget_holdings(ctx: RunContext) -> None:
    """Drop every answer about what the setup's identity holds (after a write changed it)."""
    ctx.reads.forget("effective", "user_policies", "user_inline", "group_policies",
                     "group_inline", "role_policies", "role_inline", "user_groups",
                     "group_members", "policy_entities")


def identity_is_least_privilege(ctx: RunContext) -> bool | None:
    """True when the identity was read and holds nothing but the wizard's policy; False when
    it holds more; None when there is no identity yet (nothing was checked)."""
    found = effective(ctx)
    return None if found is None else found.clean


def checked_clean(ctx: RunContext) -> bool | None:
    """What :func:`identity_is_least_privilege` found, if this run already asked (no request:
    for a view that renders the policy in words)."""
    key = ("effective", ctx.config.auth.value, ctx.config.identity_name)
    if not ctx.reads.known(key):
        return None
    return identity_is_least_privilege(ctx)
