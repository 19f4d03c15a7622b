"""Step 4: the customer-managed policy, scoped to the bucket's prefix and nothing else.

An existing policy of that name is compared by document, not by existence: a different document
(the tutorial's pasted ``*`` on ``*`` above all) is an UPDATE the operator confirms, applied as a
new default version. Creating a version is not repeatable, so it is never retried blindly: after
a lost answer the default version is read again and compared. Throttling (AWS did not act) is
retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ..aws import (
    adopt_own,
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
from ..graph import Work, at_once
from ..model import Action, StepPlan, StepResult
from ..policy import build_policy, policy_json, same_policy, summarise
from . import iam_reads

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import PolicyTypeDef, PolicyVersionTypeDef
from .base import Step

MAX_POLICY_VERSIONS = 5


@dataclass(frozen=True, slots=True)
class PolicyFacts:
    policy: PolicyTypeDef | None
    document: dict[str, Any] | None = None
    versions: int = 0
    #: True when apply adopts the policy (it was not made by the wizard).
    adopt: bool = False


def s3_targets(document: dict[str, Any]) -> set[str]:
    """The S3 object locations a policy allows (``s3://bucket/prefix``): what a retarget moves."""
    out: set[str] = set()
    statements = document.get("Statement", [])
    for st in [statements] if isinstance(statements, dict) else statements:
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        resources = st.get("Resource", [])
        for r in [resources] if isinstance(resources, str) else resources:
            head, _, rest = str(r).partition(":::")
            if head.endswith(":s3") and "/" in rest:
                out.add("s3://" + rest.rstrip("*"))
    return out


def _buckets(targets: set[str]) -> set[str]:
    return {t[len("s3://"):].split("/", 1)[0] for t in targets}


def suggested_names(ctx: RunContext) -> str:
    """Options that give a setup for another bucket names of its own."""
    import re

    c = ctx.config
    tag = re.sub(r"[^\w+=,.@-]", "_", f"{c.bucket}_{c.prefix.strip('/')}".strip("_"))
    names = [f"--policy-name {c.policy_name}_{tag}"[:128 + 14]]
    if c.oidc:
        names.append(f"--role-name {('circleci_' + tag)[:64]}")
    else:
        names += [f"--group {('circleci_' + tag)[:128]}", f"--user {('circleci_' + tag)[:64]}"]
    return " ".join(names)


def wanted_document(ctx: RunContext) -> dict[str, Any]:
    c = ctx.config
    return build_policy(c.bucket, c.prefix, c.access, ctx.partition)


def document_json(ctx: RunContext) -> str:
    """The policy as it will be created, for the plan and the Policy page."""
    return policy_json(wanted_document(ctx))


def summary(ctx: RunContext) -> list[str]:
    """The policy in words."""
    from ..grants import checked_clean

    c = ctx.config
    return summarise(c.bucket, c.prefix, c.access, checked_clean(ctx))


def _default_document(ctx: RunContext, policy: Mapping[str, Any]) -> dict[str, Any]:
    def ask() -> dict[str, Any]:
        with aws_call(f"reading policy {policy['PolicyName']}", "iam:GetPolicyVersion"):
            version = ctx.client("iam").get_policy_version(
                PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"])["PolicyVersion"]
        document: str | Mapping[str, Any] = version.get("Document", {})
        if isinstance(document, str):  # botocore decodes it; IAM itself sends it URL-encoded
            return dict(json.loads(unquote(document)))
        return dict(document)

    return ctx.reads.once(("policy_document", policy["Arn"], policy["DefaultVersionId"]), ask)


def _versions(ctx: RunContext, arn: str) -> list[PolicyVersionTypeDef]:
    with aws_call("listing the policy's versions", "iam:ListPolicyVersions"):
        return ctx.client("iam").list_policy_versions(PolicyArn=arn)["Versions"]


class PolicyStep(Step):
    key = "policy"

    def plan(self, ctx: RunContext) -> StepPlan:
        from .. import grants

        c = ctx.config
        name = c.policy_name
        policy = iam_reads.policy(ctx, name)
        if policy is None:
            return self.planned(Action.CREATE, f"Create customer-managed policy {name}.",
                                calls=("iam:CreatePolicy",), facts=PolicyFacts(None))
        current, users = at_once(lambda: _default_document(ctx, policy),
                                 lambda: grants.attached_to(ctx, policy["Arn"]))
        ours = {f"role {c.role_name}"} if c.oidc else {f"group {c.group}"}
        others = [u for u in users if u not in ours]
        who = ", ".join(others) or "nothing else"
        managed = is_managed(policy)
        same = same_policy(current, wanted_document(ctx))
        facts = PolicyFacts(policy, current, 0, adopt=not managed)
        if not managed:
            where = f"path {policy.get('Path', '/')}"
            grants_now = grants.in_words(current)
            if not c.adopt:
                return self.planned(
                    Action.CONFLICT,
                    f"Policy {name} exists ({where}) and was not made by the wizard; nothing is "
                    f"changed. It grants: {grants_now}. It is attached to: {who}; rewriting it "
                    "would change their access. Choose another --policy-name, or pass --adopt "
                    "to take it over.", facts=facts)
            if others:
                return self.planned(
                    Action.CONFLICT,
                    f"Policy {name} cannot be adopted: it is attached to {who}, and adopting "
                    f"rewrites it, taking their access ({grants_now}) away. Choose another "
                    "--policy-name.", facts=facts)
            return self.planned(
                Action.UPDATE,
                f"Adopt policy {name} (made outside the wizard, {where}): tag it as the wizard's"
                + ("." if same else "; its document is replaced by the least-privilege one."),
                calls=("iam:TagPolicy",) + (() if same else ("iam:CreatePolicyVersion",)),
                differences=("not made by the wizard: adopted",) + (() if same else (
                    f"it now grants {grants_now}; that is taken away",)), facts=facts)
        if same:
            return self.planned(Action.EXISTS, f"Policy {name} exists with the same document.",
                                facts=facts)
        before, after = s3_targets(current), s3_targets(wanted_document(ctx))
        # Another bucket under the same names is a second setup, not a change of this one: it
        # would silently take the first bucket's access away. A new prefix in the same bucket is
        # an update the operator confirms, and it says what loses access.
        if before and _buckets(before) != _buckets(after):
            return self.planned(
                Action.CONFLICT,
                f"Policy {name} is the wizard's policy for {', '.join(sorted(before))}. Pointing "
                f"it at s3://{c.bucket}/{c.prefix} would take that access away from "
                f"{', '.join(users) or 'whatever attaches it'}. A second setup needs names of "
                f"its own: {suggested_names(ctx)}; or remove the first setup (destroy) first.",
                facts=facts)
        from ..policy_lint import lint_policy_document

        risks = [p.rule for p in lint_policy_document(current) if p.severity == "error"]
        difference = "the policy document differs from the least-privilege one"
        if risks:  # e.g. the tutorial's pasted "Action": "*", "Resource": "*"
            difference += "; the current one " + "; ".join(risks)
        danger = (" Its current document is dangerous: " + "; ".join(risks) + ".") if risks \
            else ""
        lost = sorted(before - after)
        loses = (f"{', '.join(users) or 'nothing (it is attached nowhere)'} "
                 + (f"lose access to {', '.join(lost)}" if lost else
                    f"lose what it grants now ({grants.in_words(current)})"))
        return self.planned(
            Action.UPDATE,
            f"Policy {name} exists with a different document; updating it adds a new default "
            f"version (IAM keeps five; the oldest goes if needed).{danger}",
            calls=("iam:CreatePolicyVersion",), differences=(difference, loses), facts=facts)

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
                policy = adopt_own("Policy", name, iam_reads.policy(ctx, name), exc)
                if not same_policy(_default_document(ctx, policy), wanted_document(ctx)):
                    raise WizardError(f"Policy {name} was created with another document a moment "
                                      "ago; run the wizard again to see the difference.") from exc
            ctx.reads.put(("policy", name), policy)
            return self.result(Action.CREATE, f"Created policy {name}.", policy_arn=policy["Arn"])
        policy = facts.policy or {}
        arn = policy["Arn"]
        if facts.adopt:
            work.checkpoint()
            with aws_call(f"adopting policy {name}", "iam:TagPolicy"):
                iam.tag_policy(PolicyArn=arn, Tags=managed_tags())
            ctx.reads.forget(("policy", name))
            work.did(f"Adopted policy {name} (tagged as the wizard's).")
            if same_policy(facts.document or {}, wanted_document(ctx)):
                return self.result(Action.UPDATE, " ".join(work.done), policy_arn=arn)
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
                delete(partial(iam.delete_policy_version, PolicyArn=arn,
                               VersionId=version["VersionId"]),
                       f"deleting a version of {name}", "iam:DeletePolicyVersion")
        delete(lambda: iam.delete_policy(PolicyArn=arn), f"deleting policy {name}",
               "iam:DeletePolicy")
        ctx.reads.forget(("policy", name))
        return self.result(Action.DELETE, f"Deleted policy {name} and all its versions.")
