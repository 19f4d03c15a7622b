"""Step 3: the IAM group the CircleCI user joins (permissions go on the group, not the user)."""

from __future__ import annotations

from typing import Any

from wizard.config import IAM_PATH, AuthMode
from wizard.context import RunContext
from wizard.steps.aws_calls import aws_call, fetch_or_none, is_managed
from wizard.steps.base import Action, Step, StepCheck, StepResult


def get_group(ctx: RunContext, name: str) -> dict[str, Any] | None:
    """The group's description, or None if it does not exist."""
    return fetch_or_none(lambda: ctx.client("iam").get_group(GroupName=name)["Group"],
                         f"looking up group {name}", "iam:GetGroup")


class GroupStep(Step):
    key = "group"
    title = "IAM group"
    why = (
        "Permissions belong on a group, not on a person or a single user: the policy is attached "
        "once, and whoever joins the group gets exactly that and nothing more. Replacing the "
        "CircleCI user later never touches the permissions."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:GetGroup", "iam:CreateGroup")

    def check(self, ctx: RunContext) -> StepCheck:
        name = ctx.config.group
        if ctx.config.auth is AuthMode.OIDC:
            return StepCheck(Action.SKIP, "OIDC needs no group: the policy goes on a role.")
        group = get_group(ctx, name)
        if group is None:
            return StepCheck(Action.CREATE, f"Create IAM group {name} (path {IAM_PATH}).",
                             calls=("iam:CreateGroup",))
        return StepCheck(Action.EXISTS, f"IAM group {name} exists; it will be used as is.")

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        name = ctx.config.group
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action is Action.EXISTS:
            group = get_group(ctx, name) or {}
            return StepResult(Action.EXISTS, check.detail, {"group_arn": group.get("Arn")})
        with aws_call(f"creating group {name}", "iam:CreateGroup"):
            group = ctx.client("iam").create_group(GroupName=name, Path=IAM_PATH)["Group"]
        return StepResult(Action.CREATE, f"Created IAM group {name}.", {"group_arn": group["Arn"]})

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        if ctx.config.auth is AuthMode.OIDC:
            # Destroy follows the chosen mode: an OIDC teardown never removes a keys setup.
            return StepCheck(Action.SKIP, "Not part of an OIDC setup; left as it is.")
        group = get_group(ctx, ctx.config.group)
        if group is None:
            return StepCheck(Action.ABSENT, f"IAM group {ctx.config.group} does not exist.")
        if not is_managed(group):
            return StepCheck(Action.KEEP, f"IAM group {ctx.config.group} was not made by the "
                             "wizard; it is kept.")
        return StepCheck(Action.DELETE, f"Delete IAM group {ctx.config.group}.",
                         calls=("iam:DeleteGroup",))

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        iam, name = ctx.client("iam"), ctx.config.group
        with aws_call(f"inspecting group {name}", "iam:GetGroup"):
            members = [u["UserName"] for u in iam.get_group(GroupName=name)["Users"]]
            attached = iam.list_attached_group_policies(GroupName=name)["AttachedPolicies"]
            inline = iam.list_group_policies(GroupName=name)["PolicyNames"]
        if members or attached or inline:
            left = ", ".join(
                [f"member {m}" for m in members]
                + [f"policy {p['PolicyName']}" for p in attached]
                + [f"inline policy {p}" for p in inline]
            )
            return StepResult(Action.KEEP, f"IAM group {name} still has {left}; it is kept.")
        with aws_call(f"deleting group {name}", "iam:DeleteGroup"):
            iam.delete_group(GroupName=name)
        return StepResult(Action.DELETE, f"Deleted IAM group {name}.")
