"""Step 3: the IAM group the CircleCI user joins (permissions go on the group, not the user)."""

from __future__ import annotations

from typing import Any

from ..aws import already_exists, aws_call, delete, is_managed
from ..config import IAM_PATH
from ..context import RunContext
from ..errors import ConflictError, explain
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from . import iam_reads
from .base import Step


def adopt_own(ctx: RunContext, kind: str, name: str, found: dict[str, Any] | None,
              exc: BaseException) -> dict[str, Any]:
    """After "already exists" on a create the plan did not expect: ours, or a conflict.

    The wizard's own create whose answer was lost (and which botocore then retried) leaves the
    thing under the wizard's path: that is recognised and the run goes on. Anything else was made
    by someone else in the meantime, and is not touched.
    """
    if found is not None and is_managed(found):
        return found
    raise ConflictError(f"{kind} {name} appeared while the wizard was creating it, and it was "
                        "not made by the wizard.",
                        hint="Choose another name, or look at who made it.") from exc


class GroupStep(Step):
    key = "group"

    def plan(self, ctx: RunContext) -> StepPlan:
        name = ctx.config.group
        found = iam_reads.group(ctx, name)
        if found is None:
            return self.planned(Action.CREATE, f"Create IAM group {name} (path {IAM_PATH}).",
                                calls=("iam:CreateGroup",))
        mine = "made by the wizard" if is_managed(found) else "not made by the wizard"
        return self.planned(Action.EXISTS, f"IAM group {name} exists ({mine}); it is used as is.",
                            facts=found)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        name, iam = ctx.config.group, ctx.client("iam")
        work.checkpoint()
        try:
            group = iam.create_group(GroupName=name, Path=IAM_PATH)["Group"]
        except Exception as exc:
            if not already_exists(exc):
                raise explain(exc, f"creating group {name}", "iam:CreateGroup") from exc
            ctx.reads.forget(("group", name))
            group = adopt_own(ctx, "IAM group", name, iam_reads.group(ctx, name), exc)
        ctx.reads.put(("group", name), group)
        return self.result(Action.CREATE, f"Created IAM group {name}.", group_arn=group["Arn"])

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"group_arn": plan.facts["Arn"]} if plan.facts else {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        name = ctx.config.group
        found = iam_reads.group(ctx, name)
        if found is None:
            return self.planned(Action.ABSENT, f"IAM group {name} does not exist.")
        if not is_managed(found):
            return self.planned(Action.KEEP, f"IAM group {name} was not made by the wizard; it "
                                "is kept.")
        return self.planned(Action.DELETE, f"Delete IAM group {name}.", calls=("iam:DeleteGroup",))

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
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
            return self.result(Action.KEEP, f"IAM group {name} still has {left}; it is kept.")
        delete(lambda: iam.delete_group(GroupName=name), f"deleting group {name}",
               "iam:DeleteGroup")
        return self.result(Action.DELETE, f"Deleted IAM group {name}.")
