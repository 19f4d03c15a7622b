"""Step 6: the programmatic IAM user (no console password), made a member of the group.

The user is announced as soon as it exists, so the access key is created while the membership
is still being added: the two do not depend on each other.
"""

from __future__ import annotations

from typing import Any

from ..aws import already_exists, aws_call, delete, is_managed, managed_tags
from ..config import IAM_PATH
from ..context import RunContext
from ..errors import explain
from ..graph import Work, at_once
from ..model import Action, StepPlan, StepResult
from . import iam_reads
from .base import Step
from .group_step import adopt_own


class UserStep(Step):
    key = "user"

    def plan(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        user = iam_reads.user(ctx, c.user)
        if user is None:
            return self.planned(Action.CREATE, f"Create programmatic IAM user {c.user} in group "
                                f"{c.group}.", calls=("iam:CreateUser", "iam:AddUserToGroup"))
        console, groups = at_once(lambda: iam_reads.has_console_password(ctx, c.user),
                                  lambda: iam_reads.user_groups(ctx, c.user))
        if console:
            return self.planned(Action.CONFLICT, f"IAM user {c.user} exists and has a console "
                                "password; a CI identity must be programmatic only. Choose "
                                "another --user or remove its console access.", facts=user)
        if c.group in groups:  # type: ignore[operator]
            return self.planned(Action.EXISTS, f"IAM user {c.user} exists and is in {c.group}.",
                                facts=user)
        action = Action.REPAIR if is_managed(user) else Action.CREATE
        return self.planned(action, f"IAM user {c.user} exists; add it to group {c.group}.",
                            calls=("iam:AddUserToGroup",),
                            differences=(f"not a member of {c.group}",), facts=user)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        c, iam = ctx.config, ctx.client("iam")
        user = plan.facts
        if user is None:
            work.checkpoint()
            try:
                user = iam.create_user(UserName=c.user, Path=IAM_PATH,
                                       Tags=managed_tags())["User"]
            except Exception as exc:
                if not already_exists(exc):
                    raise explain(exc, f"creating user {c.user}", "iam:CreateUser") from exc
                ctx.reads.forget(("user", c.user))
                user = adopt_own(ctx, "IAM user", c.user, iam_reads.user(ctx, c.user), exc)
            ctx.reads.put(("user", c.user), user)
            ctx.reads.put(("access_keys", c.user), [])
            work.did(f"Created IAM user {c.user}.")
            work.ready()  # its access key need not wait for the membership
        work.need("group")
        work.checkpoint()
        with aws_call(f"adding {c.user} to {c.group}", "iam:AddUserToGroup"):
            iam.add_user_to_group(UserName=c.user, GroupName=c.group)
        ctx.reads.forget(("user_groups", c.user))
        work.did(f"Added it to group {c.group}.")
        return self.result(plan.action, " ".join(work.done), user_arn=user["Arn"])

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"user_arn": plan.facts["Arn"]} if plan.facts else {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        user = iam_reads.user(ctx, c.user)
        if user is None:
            return self.planned(Action.ABSENT, f"IAM user {c.user} does not exist.")
        if is_managed(user):
            return self.planned(Action.DELETE, f"Delete IAM user {c.user} (its access keys and "
                                "group memberships first).",
                                calls=("iam:DeleteAccessKey", "iam:RemoveUserFromGroup",
                                       "iam:DeleteUser"), facts=user)
        group = iam_reads.group(ctx, c.group)
        if is_managed(group) and c.group in iam_reads.user_groups(ctx, c.user):
            return self.planned(Action.DELETE, f"Remove {c.user} (not made by the wizard, kept) "
                                f"from group {c.group}.", calls=("iam:RemoveUserFromGroup",),
                                facts=user)
        return self.planned(Action.KEEP, f"IAM user {c.user} was not made by the wizard; it is "
                            "kept.")

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        c, iam = ctx.config, ctx.client("iam")
        if not is_managed(plan.facts):
            delete(lambda: iam.remove_user_from_group(UserName=c.user, GroupName=c.group),
                   f"removing {c.user} from {c.group}", "iam:RemoveUserFromGroup")
            return self.result(Action.DELETE, f"Removed {c.user} from group {c.group}; the user "
                               "was kept.")
        ctx.reads.forget(("access_keys", c.user), ("user_groups", c.user))
        for key in iam_reads.access_keys(ctx, c.user):
            delete(lambda k=key: iam.delete_access_key(UserName=c.user,
                                                       AccessKeyId=k["AccessKeyId"]),
                   f"deleting an access key of {c.user}", "iam:DeleteAccessKey")
        for group in iam_reads.user_groups(ctx, c.user):
            delete(lambda g=group: iam.remove_user_from_group(UserName=c.user, GroupName=g),
                   f"removing {c.user} from {group}", "iam:RemoveUserFromGroup")
        delete(lambda: iam.delete_user(UserName=c.user), f"deleting user {c.user}",
               "iam:DeleteUser")
        ctx.reads.forget(("user", c.user), ("access_keys", c.user), ("user_groups", c.user))
        return self.result(Action.DELETE, f"Deleted IAM user {c.user}.")
