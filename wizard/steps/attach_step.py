"""Step 5: attach the policy to the group, so every member gets exactly that and no more."""

from __future__ import annotations

from ..aws import aws_call, delete, is_managed
from ..context import RunContext
from ..graph import Work, at_once
from ..model import Action, StepPlan, StepResult
from . import iam_reads
from .base import Step


class AttachStep(Step):
    key = "attach"

    def plan(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        # Both questions at once: the policy's ARN needs the account, the list does not.
        arn, attached = at_once(lambda: iam_reads.policy_arn(ctx),
                                lambda: iam_reads.group_policies(ctx, c.group))
        if arn in attached:
            return self.planned(Action.EXISTS, f"Policy {c.policy_name} is attached to {c.group}.")
        return self.planned(Action.CREATE, f"Attach policy {c.policy_name} to group {c.group}.",
                            calls=("iam:AttachGroupPolicy",))

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        c = ctx.config
        work.need("group", "policy")
        arn = iam_reads.policy_arn(ctx)
        work.checkpoint()
        with aws_call(f"attaching {c.policy_name} to {c.group}", "iam:AttachGroupPolicy"):
            ctx.client("iam").attach_group_policy(GroupName=c.group, PolicyArn=arn)
        ctx.reads.forget(("group_policies", c.group))
        return self.result(Action.CREATE, f"Attached policy {c.policy_name} to group {c.group}.")

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        if iam_reads.policy_arn(ctx) not in iam_reads.group_policies(ctx, c.group):
            return self.planned(Action.ABSENT, f"Policy {c.policy_name} is not attached to "
                                f"{c.group}.")
        if is_managed(iam_reads.group(ctx, c.group)) or is_managed(
                iam_reads.policy(ctx, c.policy_name)):
            return self.planned(Action.DELETE, f"Detach policy {c.policy_name} from {c.group}.",
                                calls=("iam:DetachGroupPolicy",))
        return self.planned(Action.KEEP, f"Neither {c.group} nor {c.policy_name} was made by the "
                            "wizard; the attachment is kept.")

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        c = ctx.config
        arn = iam_reads.policy_arn(ctx)
        delete(lambda: ctx.client("iam").detach_group_policy(GroupName=c.group, PolicyArn=arn),
               f"detaching {c.policy_name} from {c.group}", "iam:DetachGroupPolicy")
        ctx.reads.forget(("group_policies", c.group))
        return self.result(Action.DELETE, f"Detached policy {c.policy_name} from {c.group}.")
