"""Step 3: the IAM group the CircleCI user joins (permissions go on the group, not the user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aws import adopt_own, already_exists, aws_call, delete, is_managed
from ..config import IAM_PATH
from ..context import RunContext
from ..errors import explain
from ..graph import Work, at_once
from ..model import Action, StepPlan, StepResult
from . import iam_reads
from .base import Step

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import GroupTypeDef

    from ..grants import Removal

@dataclass(frozen=True, slots=True)
class GroupFacts:
    group: GroupTypeDef
    #: What apply takes away from the group (grants beyond the wizard's policy).
    removals: tuple[Removal, ...]
    #: True when apply adopts the group (it was not made by the wizard).
    adopt: bool


class GroupStep(Step):
    key = "group"

    def plan(self, ctx: RunContext) -> StepPlan:
        from .. import grants

        c = ctx.config
        name = c.group
        found = iam_reads.group(ctx, name)
        if found is None:
            return self.planned(Action.CREATE, f"Create IAM group {name} (path {IAM_PATH}).",
                                calls=("iam:CreateGroup",))
        managed = is_managed(found)
        held, members = at_once(lambda: grants.beyond_on(ctx, "group", name),
                                lambda: grants.members(ctx, name))
        others = [m for m in members if m != c.user]
        what = grants.describe_all(held)
        who = ", ".join(others) or "none besides the setup's user"
        if not managed and not c.adopt:
            return self.planned(
                Action.CONFLICT,
                f"IAM group {name} exists and was not made by the wizard; nothing is changed. "
                f"Besides the wizard's policy it grants: {what}. Its other members: {who} "
                "(each would gain the bucket's access if the wizard used it). Choose another "
                "--group, or pass --adopt to take it over (the plan then shows what adoption "
                "removes).",
                facts=GroupFacts(found, (), False))
        if not managed and others:
            return self.planned(
                Action.CONFLICT,
                f"IAM group {name} cannot be adopted: users {who} are members, and adopting "
                f"would change their access (it grants: {what}). Choose another --group.",
                facts=GroupFacts(found, (), False))
        removals = tuple(grants.removals(ctx, "group", name))
        lines = tuple(r.sentence for r in removals)
        calls = tuple(dict.fromkeys(r.call for r in removals))
        if not managed:
            return self.planned(
                Action.UPDATE,
                f"Adopt IAM group {name} (made outside the wizard): move it under {IAM_PATH}, "
                "the wizard's mark" + ("; take away what else it grants." if removals else
                                       "; it grants nothing else."),
                calls=("iam:UpdateGroup", *calls),
                differences=("not made by the wizard: adopted", *lines),
                facts=GroupFacts(found, removals, True))
        warnings = (f"Group {name} also has members {who}: they get the bucket's access too.",
                    ) if others else ()
        if removals:
            return self.planned(
                Action.UPDATE,
                f"IAM group {name} (made by the wizard) grants more than the wizard's policy; "
                "apply takes the rest away.", calls=calls, differences=lines,
                warnings=warnings, facts=GroupFacts(found, removals, False))
        return self.planned(Action.EXISTS, f"IAM group {name} exists (made by the wizard) and "
                            "grants nothing beyond the wizard's policy.", warnings=warnings,
                            facts=GroupFacts(found, (), False))

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        if plan.action is Action.UPDATE:
            return self._update(ctx, plan, work)
        name, iam = ctx.config.group, ctx.client("iam")
        work.checkpoint()
        try:
            group = iam.create_group(GroupName=name, Path=IAM_PATH)["Group"]
        except Exception as exc:
            if not already_exists(exc):
                raise explain(exc, f"creating group {name}", "iam:CreateGroup") from exc
            ctx.reads.forget(("group", name))
            group = adopt_own("IAM group", name, iam_reads.group(ctx, name), exc)
        ctx.reads.put(("group", name), group)
        return self.result(Action.CREATE, f"Created IAM group {name}.", group_arn=group["Arn"])

    def _update(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        from ..grants import forget_holdings

        name, facts = ctx.config.group, plan.facts
        if facts.adopt:
            work.checkpoint()
            with aws_call(f"adopting group {name}", "iam:UpdateGroup"):
                ctx.client("iam").update_group(GroupName=name, NewPath=IAM_PATH)
            ctx.reads.forget(("group", name))
            work.did(f"Adopted IAM group {name} (moved under {IAM_PATH}).")
        for removal in facts.removals:
            work.checkpoint()
            removal.run(ctx)
            work.did(removal.done)
        forget_holdings(ctx)
        return self.result(Action.UPDATE, " ".join(work.done), group_arn=facts.group["Arn"])

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"group_arn": plan.facts.group["Arn"]} if plan.facts else {}

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
