"""Step 6: the programmatic IAM user (no console password), made a member of the group."""

from __future__ import annotations

from typing import Any

from wizard.config import IAM_PATH, AuthMode
from wizard.context import RunContext
from wizard.steps.aws_calls import aws_call, fetch_or_none, is_managed, managed_tags
from wizard.steps.base import Action, Step, StepCheck, StepResult
from wizard.steps.group_step import get_group


def get_user(ctx: RunContext, name: str) -> dict[str, Any] | None:
    """The user's description, or None if it does not exist."""
    return fetch_or_none(lambda: ctx.client("iam").get_user(UserName=name)["User"],
                         f"looking up user {name}", "iam:GetUser")


def user_groups(ctx: RunContext, name: str) -> list[str]:
    with aws_call(f"listing groups of {name}", "iam:ListGroupsForUser"):
        return [g["GroupName"] for g in
                ctx.client("iam").list_groups_for_user(UserName=name)["Groups"]]


def has_console_password(ctx: RunContext, name: str) -> bool:
    profile = fetch_or_none(lambda: ctx.client("iam").get_login_profile(UserName=name),
                            f"checking console access of {name}", "iam:GetLoginProfile")
    return profile is not None


class UserStep(Step):
    key = "user"
    title = "CircleCI IAM user"
    why = (
        "CircleCI gets its own identity, so its access can be audited and revoked without "
        "touching anyone else. It is programmatic only: no console password, and no permission "
        "of its own beyond the group's."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:GetUser", "iam:CreateUser", "iam:AddUserToGroup")

    def check(self, ctx: RunContext) -> StepCheck:
        c = ctx.config
        if c.auth is AuthMode.OIDC:
            return StepCheck(Action.SKIP, "OIDC needs no IAM user: CircleCI assumes a role.")
        user = get_user(ctx, c.user)
        if user is None:
            return StepCheck(Action.CREATE, f"Create programmatic IAM user {c.user} in group "
                             f"{c.group}.", calls=("iam:CreateUser", "iam:AddUserToGroup"))
        if has_console_password(ctx, c.user):
            return StepCheck(Action.CONFLICT, f"IAM user {c.user} exists and has a console "
                             "password; a CI identity must be programmatic only. Choose another "
                             "--user or remove its console access.")
        if c.group in user_groups(ctx, c.user):
            return StepCheck(Action.EXISTS, f"IAM user {c.user} exists and is in {c.group}.")
        return StepCheck(Action.CREATE, f"IAM user {c.user} exists; add it to group {c.group}.",
                         calls=("iam:AddUserToGroup",))

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        c = ctx.config
        if check.action is Action.SKIP:
            return StepResult(Action.SKIP, check.detail)
        if check.action is Action.CONFLICT:
            from wizard.errors import ConflictError

            raise ConflictError(check.detail)
        iam = ctx.client("iam")
        user = get_user(ctx, c.user)
        if user is None:
            with aws_call(f"creating user {c.user}", "iam:CreateUser"):
                user = iam.create_user(UserName=c.user, Path=IAM_PATH,
                                       Tags=managed_tags())["User"]
        if check.action is Action.CREATE:
            with aws_call(f"adding {c.user} to {c.group}", "iam:AddUserToGroup"):
                iam.add_user_to_group(UserName=c.user, GroupName=c.group)
        return StepResult(check.action,
                          check.detail.replace("Create", "Created").replace("; add", "; added"),
                          {"user_arn": user["Arn"]})

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        if ctx.config.auth is AuthMode.OIDC:
            # Destroy follows the chosen mode: an OIDC teardown never removes a keys setup.
            return StepCheck(Action.SKIP, "Not part of an OIDC setup; left as it is.")
        c = ctx.config
        user = get_user(ctx, c.user)
        if user is None:
            return StepCheck(Action.ABSENT, f"IAM user {c.user} does not exist.")
        if is_managed(user):
            return StepCheck(Action.DELETE, f"Delete IAM user {c.user} (its access keys and "
                             "group memberships first).",
                             calls=("iam:DeleteAccessKey", "iam:RemoveUserFromGroup",
                                    "iam:DeleteUser"))
        group = get_group(ctx, c.group)
        if group and is_managed(group) and c.group in user_groups(ctx, c.user):
            return StepCheck(Action.DELETE, f"Remove {c.user} (not made by the wizard, kept) "
                             f"from group {c.group}.", calls=("iam:RemoveUserFromGroup",))
        return StepCheck(Action.KEEP, f"IAM user {c.user} was not made by the wizard; it is kept.")

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        c, iam = ctx.config, ctx.client("iam")
        user = get_user(ctx, c.user) or {}
        if not is_managed(user):
            with aws_call(f"removing {c.user} from {c.group}", "iam:RemoveUserFromGroup"):
                iam.remove_user_from_group(UserName=c.user, GroupName=c.group)
            return StepResult(Action.DELETE, f"Removed {c.user} from group {c.group}; the user "
                              "was kept.")
        with aws_call(f"deleting user {c.user}", "iam:DeleteUser"):
            for key in iam.list_access_keys(UserName=c.user)["AccessKeyMetadata"]:
                iam.delete_access_key(UserName=c.user, AccessKeyId=key["AccessKeyId"])
            for group in user_groups(ctx, c.user):
                iam.remove_user_from_group(UserName=c.user, GroupName=group)
            iam.delete_user(UserName=c.user)
        return StepResult(Action.DELETE, f"Deleted IAM user {c.user}.")
