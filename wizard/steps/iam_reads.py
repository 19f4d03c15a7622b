"""The IAM questions several steps ask (does the group exist? the user? which keys?), asked once.

Each is a :meth:`~wizard.reads.Reads.once` read keyed by what it asks about, so the group step,
the attach step and the user step share one ``GetGroup``, and the plan makes all of them at the
same time. Every function returns None (or an empty list) for "does not exist".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..aws import aws_call, is_not_found, lookup
from ..config import IAM_PATH
from ..context import RunContext

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import (
        AccessKeyMetadataTypeDef,
        GroupTypeDef,
        PolicyTypeDef,
        RoleTypeDef,
        UserTypeDef,
    )


def group(ctx: RunContext, name: str) -> GroupTypeDef | None:
    return ctx.reads.once(("group", name), lambda: lookup(
        lambda: ctx.client("iam").get_group(GroupName=name, MaxItems=1)["Group"],
        f"looking up group {name}", "iam:GetGroup"))


def user(ctx: RunContext, name: str) -> UserTypeDef | None:
    return ctx.reads.once(("user", name), lambda: lookup(
        lambda: ctx.client("iam").get_user(UserName=name)["User"],
        f"looking up user {name}", "iam:GetUser"))


def user_groups(ctx: RunContext, name: str) -> list[str]:
    """The groups ``name`` is in ([] when the user does not exist)."""

    def ask() -> list[str]:
        groups = lookup(lambda: [g["GroupName"] for page in ctx.client("iam").get_paginator(
            "list_groups_for_user").paginate(UserName=name) for g in page["Groups"]],
            f"listing groups of {name}", "iam:ListGroupsForUser")
        return groups or []

    return ctx.reads.once(("user_groups", name), ask)


def has_console_password(ctx: RunContext, name: str) -> bool:
    return ctx.reads.once(("login_profile", name), lambda: lookup(
        lambda: ctx.client("iam").get_login_profile(UserName=name),
        f"checking console access of {name}", "iam:GetLoginProfile") is not None)


def access_keys(ctx: RunContext, name: str) -> list[AccessKeyMetadataTypeDef]:
    """The user's access keys (id, status, create date); [] when the user does not exist."""
    return ctx.reads.once(("access_keys", name), lambda: lookup(
        lambda: ctx.client("iam").list_access_keys(UserName=name)["AccessKeyMetadata"],
        f"listing access keys of {name}", "iam:ListAccessKeys") or [])


def group_policies(ctx: RunContext, name: str) -> list[str]:
    """ARNs of the managed policies attached to group ``name`` ([] when it does not exist)."""

    def ask() -> list[str]:
        try:
            pages = ctx.client("iam").get_paginator("list_attached_group_policies")
            return [p["PolicyArn"] for page in pages.paginate(GroupName=name)
                    for p in page["AttachedPolicies"]]
        except Exception as exc:
            if is_not_found(exc):
                return []
            with aws_call(f"listing policies of group {name}", "iam:ListAttachedGroupPolicies"):
                raise

    return ctx.reads.once(("group_policies", name), ask)


def policy(ctx: RunContext, name: str) -> PolicyTypeDef | None:
    """The customer-managed policy called ``name`` (under the wizard's path or the root), or None.

    Policy names are unique in an account whatever their path, so two direct look-ups, made at
    once, cover what the wizard and the tutorial's console steps would have made, without
    listing every policy in a large account.
    """

    def ask() -> PolicyTypeDef | None:
        from ..graph import at_once

        iam = ctx.client("iam")

        def get(path: str) -> PolicyTypeDef | None:
            arn = ctx.iam_arn("policy", name, path)
            return lookup(lambda: iam.get_policy(PolicyArn=arn)["Policy"],
                          f"looking up policy {name}", "iam:GetPolicy")

        return next((p for p in at_once(lambda: get(IAM_PATH), lambda: get("/")) if p), None)

    return ctx.reads.once(("policy", name), ask)


def policy_arn(ctx: RunContext) -> str:
    """The ARN later steps attach: the existing policy's, or the one the wizard will create."""
    found = policy(ctx, ctx.config.policy_name)
    return str(found["Arn"]) if found else ctx.managed_arn("policy", ctx.config.policy_name)


def read_role(ctx: RunContext) -> RoleTypeDef | None:
    """The role with its tags, or None (asked once per run)."""
    name = ctx.config.role_name

    def ask() -> RoleTypeDef | None:
        iam = ctx.client("iam")
        role = lookup(lambda: iam.get_role(RoleName=name)["Role"], f"looking up role {name}",
                      "iam:GetRole")
        if role is not None and "Tags" not in role:
            with aws_call(f"reading the tags of role {name}", "iam:ListRoleTags"):
                role["Tags"] = iam.list_role_tags(RoleName=name)["Tags"]
        return role

    return ctx.reads.once(("role", name), ask)


def role_policies(ctx: RunContext) -> list[str]:
    name = ctx.config.role_name

    def ask() -> list[str]:
        try:
            pages = ctx.client("iam").get_paginator("list_attached_role_policies")
            return [p["PolicyArn"] for page in pages.paginate(RoleName=name)
                    for p in page["AttachedPolicies"]]
        except Exception as exc:
            if is_not_found(exc):
                return []
            with aws_call(f"listing policies of role {name}", "iam:ListAttachedRolePolicies"):
                raise

    return ctx.reads.once(("role_policies", name), ask)
