"""Step 5: attach the policy to the group, so every member gets exactly that and no more."""

from __future__ import annotations

from wizard.config import AuthMode
from wizard.context import RunContext
from wizard.steps.aws_calls import aws_call, is_managed
from wizard.steps.base import Action, Step, StepCheck, StepResult
from wizard.steps.group_step import get_group
from wizard.steps.policy_step import find_policy, policy_arn


class AttachStep(Step):
    key = "attach"
    title = "Attach policy to group"
    why = (
        "A policy does nothing until it is attached. Attaching it to the group, rather than to "
        "the user, keeps the permission in one place that is easy to audit and to revoke."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:ListAttachedGroupPolicies", "iam:AttachGroupPolicy")

    def _attached(self, ctx: RunContext) -> bool:
        if get_group(ctx, ctx.config.group) is None:
            return False
        arn = policy_arn(ctx)
        with aws_call(f"listing policies of group {ctx.config.group}",
                      "iam:ListAttachedGroupPolicies"):
            pages = ctx.client("iam").get_paginator("list_attached_group_policies")
            for page in pages.paginate(GroupName=ctx.config.group):
                if any(p["PolicyArn"] == arn for p in page["AttachedPolicies"]):
                    return True
        return False

    def check(self, ctx: RunContext) -> StepCheck:
        c = ctx.config
        if c.auth is AuthMode.OIDC:
            return StepCheck(Action.SKIP, "OIDC attaches the policy to the role instead.")
        if self._attached(ctx):
            return StepCheck(Action.EXISTS, f"Policy {c.policy_name} is attached to {c.group}.")
        return StepCheck(Action.CREATE, f"Attach policy {c.policy_name} to group {c.group}.",
                         calls=("iam:AttachGroupPolicy",))

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action in (Action.SKIP, Action.EXISTS):
            return StepResult(check.action, check.detail)
        c = ctx.config
        with aws_call(f"attaching {c.policy_name} to {c.group}", "iam:AttachGroupPolicy"):
            ctx.client("iam").attach_group_policy(GroupName=c.group, PolicyArn=policy_arn(ctx))
        return StepResult(Action.CREATE, f"Attached policy {c.policy_name} to group {c.group}.")

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        if ctx.config.auth is AuthMode.OIDC:
            # Destroy follows the chosen mode: an OIDC teardown never removes a keys setup.
            return StepCheck(Action.SKIP, "Not part of an OIDC setup; left as it is.")
        c = ctx.config
        if not self._attached(ctx):
            return StepCheck(Action.ABSENT, f"Policy {c.policy_name} is not attached to {c.group}.")
        group = get_group(ctx, c.group) or {}
        policy = find_policy(ctx) or {}
        if is_managed(group) or is_managed(policy):
            return StepCheck(Action.DELETE, f"Detach policy {c.policy_name} from {c.group}.",
                             calls=("iam:DetachGroupPolicy",))
        return StepCheck(Action.KEEP, f"Neither {c.group} nor {c.policy_name} was made by the "
                         "wizard; the attachment is kept.")

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        c = ctx.config
        with aws_call(f"detaching {c.policy_name} from {c.group}", "iam:DetachGroupPolicy"):
            ctx.client("iam").detach_group_policy(GroupName=c.group, PolicyArn=policy_arn(ctx))
        return StepResult(Action.DELETE, f"Detached policy {c.policy_name} from {c.group}.")
