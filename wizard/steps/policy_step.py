"""Step 4: the customer-managed policy, scoped to the bucket's prefix and nothing else.

An existing policy of that name is compared by document, not by existence: a different document
(the tutorial's pasted ``*`` on ``*`` above all) is an UPDATE the operator confirms, applied as a
new default version. Creating a version is not repeatable, so it is never retried blindly: after
a lost answer the default version is read again and compared. Throttling (AWS did not act) is
retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..aws import (
    already_exists,
    aws_call,
    delete,
    is_managed,
    managed_tags,
    once_unless_throttled,
    outcome_unknown,
)
from ..config import IAM_PATH
from ..context import RunContext
from ..errors import WizardError, explain
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from ..policy import build_policy, policy_json, same_policy, summarise
from . import iam_reads
from .base import Step
from .group_step import adopt_own

MAX_POLICY_VERSIONS = 5


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    policy: dict[str, Any] | None
    document: dict[str, Any] | None = None
    versions: int = 0


def wanted_document(ctx: RunContext) -> dict[str, Any]:
    c = ctx.config
    return build_policy(c.bucket, c.prefix, c.access, ctx.partition)


def document_json(ctx: RunContext) -> str:
    """The policy as it will be created, for the plan and the Policy page."""
    return policy_json(wanted_document(ctx))


def summary(ctx: RunContext) -> list[str]:
    """The policy in words."""
    c = ctx.config
    return summarise(c.bucket, c.prefix, c.access)


def _default_document(ctx: RunContext, policy: dict[str, Any]) -> dict[str, Any]:
    def ask() -> dict[str, Any]:
        with aws_call(f"reading policy {policy['PolicyName']}", "iam:GetPolicyVersion"):
            version = ctx.client("iam").get_policy_version(
                PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        return version["Document"]  # botocore hands it back decoded

    return ctx.reads.once(("policy_document", policy["Arn"], policy["DefaultVersionId"]), ask)


def _versions(ctx: RunContext, arn: str) -> list[dict[str, Any]]:
    with aws_call("listing the policy's versions", "iam:ListPolicyVersions"):
        return ctx.client("iam").list_policy_versions(PolicyArn=arn)["Versions"]


class PolicyStep(Step):
    key = "policy"

    def plan(self, ctx: RunContext) -> StepPlan:
        name = ctx.config.policy_name
        policy = iam_reads.policy(ctx, name)
        if policy is None:
            return self.planned(Action.CREATE, f"Create customer-managed policy {name}.",
                                calls=("iam:CreatePolicy",), facts=PolicyFacts(None))
        current = _default_document(ctx, policy)
        facts = PolicyFacts(policy, current, 0)
        if same_policy(current, wanted_document(ctx)):
            return self.planned(Action.EXISTS, f"Policy {name} exists with the same document.",
                                facts=facts)
        from ..policy_lint import lint_policy_document

        risks = [p.rule for p in lint_policy_document(current) if p.severity == "error"]
        difference = "the policy document differs from the least-privilege one"
        if risks:  # e.g. the tutorial's pasted "Action": "*", "Resource": "*"
            difference += "; the current one " + "; ".join(risks)
        danger = (" Its current document is dangerous: " + "; ".join(risks) + ".") if risks \
            else ""
        return self.planned(
            Action.UPDATE,
            f"Policy {name} exists with a different document; updating it adds a new default "
            f"version (IAM keeps five; the oldest goes if needed).{danger}",
            calls=("iam:CreatePolicyVersion",), differences=(difference,), facts=facts)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        iam, name = ctx.client("iam"), ctx.config.policy_name
        document = document_json(ctx)
        facts: PolicyFacts = plan.facts
        work.checkpoint()
        if plan.action is Action.CREATE:
            try:
                policy = iam.create_policy(
                    PolicyName=name, Path=IAM_PATH, PolicyDocument=document,
                    Description=f"S3 access to s3://{ctx.config.bucket}/{ctx.config.prefix} "
                    "only (circleci-s3-wizard)", Tags=managed_tags())["Policy"]
            except Exception as exc:
                if not already_exists(exc):
                    raise explain(exc, f"creating policy {name}", "iam:CreatePolicy") from exc
                ctx.reads.forget(("policy", name))
                policy = adopt_own(ctx, "Policy", name, iam_reads.policy(ctx, name), exc)
                if not same_policy(_default_document(ctx, policy), wanted_document(ctx)):
                    raise WizardError(f"Policy {name} was created with another document a moment "
                                      "ago; run the wizard again to see the difference.") from exc
            ctx.reads.put(("policy", name), policy)
            return self.result(Action.CREATE, f"Created policy {name}.", policy_arn=policy["Arn"])
        policy = facts.policy or {}
        arn = policy["Arn"]
        versions = _versions(ctx, arn)
        if len(versions) >= MAX_POLICY_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]),
                         key=lambda v: v["CreateDate"])
            work.checkpoint()
            delete(lambda: iam.delete_policy_version(PolicyArn=arn, VersionId=oldest["VersionId"]),
                   f"deleting the oldest version of {name}", "iam:DeletePolicyVersion")
            work.did(f"Deleted its oldest version {oldest['VersionId']}.")
        work.checkpoint()
        once = ctx.client("iam", attempts=1)
        try:
            version = once_unless_throttled(lambda: once.create_policy_version(
                PolicyArn=arn, PolicyDocument=document,
                SetAsDefault=True))["PolicyVersion"]["VersionId"]
        except Exception as exc:
            if not outcome_unknown(exc):
                raise explain(exc, f"updating policy {name}", "iam:CreatePolicyVersion") from exc
            # The answer was lost: did the new version become the default?
            ctx.reads.forget(("policy", name))
            again = iam_reads.policy(ctx, name)
            done = again is not None and same_policy(_default_document(ctx, again),
                                                     wanted_document(ctx))
            if not done:
                raise explain(exc, f"updating policy {name}", "iam:CreatePolicyVersion") from exc
            version = again["DefaultVersionId"]  # type: ignore[index]
        ctx.reads.forget(("policy", name))
        work.did(f"Updated policy {name} (new default version {version}).")
        return self.result(Action.UPDATE, " ".join(work.done), policy_arn=arn)

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        facts: PolicyFacts | None = plan.facts
        return {"policy_arn": facts.policy["Arn"]} if facts and facts.policy else {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        name = ctx.config.policy_name
        policy = iam_reads.policy(ctx, name)
        if policy is None:
            return self.planned(Action.ABSENT, f"Policy {name} does not exist.")
        if not is_managed(policy):
            return self.planned(Action.KEEP, f"Policy {name} was not made by the wizard; it is "
                                "kept.")
        return self.planned(Action.DELETE, f"Delete policy {name} and all its versions.",
                            calls=("iam:DeletePolicyVersion", "iam:DeletePolicy"), facts=policy)

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        iam, name = ctx.client("iam"), ctx.config.policy_name
        arn = plan.facts["Arn"]
        with aws_call(f"checking what uses policy {name}", "iam:ListEntitiesForPolicy"):
            used = iam.list_entities_for_policy(PolicyArn=arn)
        holders = ([u["UserName"] for u in used.get("PolicyUsers", [])]
                   + [g["GroupName"] for g in used.get("PolicyGroups", [])]
                   + [r["RoleName"] for r in used.get("PolicyRoles", [])])
        if holders:
            return self.result(Action.KEEP, f"Policy {name} is still attached to "
                               f"{', '.join(holders)}; it is kept.")
        for version in _versions(ctx, arn):
            if not version["IsDefaultVersion"]:
                delete(lambda v=version: iam.delete_policy_version(PolicyArn=arn,
                                                                    VersionId=v["VersionId"]),
                       f"deleting a version of {name}", "iam:DeletePolicyVersion")
        delete(lambda: iam.delete_policy(PolicyArn=arn), f"deleting policy {name}",
               "iam:DeletePolicy")
        ctx.reads.forget(("policy", name))
        return self.result(Action.DELETE, f"Deleted policy {name} and all its versions.")
