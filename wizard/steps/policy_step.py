"""Step 4: the customer-managed policy, scoped to the bucket's prefix and nothing else."""

from __future__ import annotations

import json
from typing import Any

from wizard.config import IAM_PATH
from wizard.context import RunContext
from wizard.errors import ConflictError
from wizard.policy import build_policy, policy_json, same_policy, summarise
from wizard.steps.aws_calls import aws_call, fetch_or_none, is_managed, managed_tags
from wizard.steps.base import Action, Step, StepCheck, StepResult

MAX_POLICY_VERSIONS = 5


def wanted_document(ctx: RunContext) -> dict[str, Any]:
    c = ctx.config
    return build_policy(c.bucket, c.prefix, c.access, ctx.partition)


def find_policy(ctx: RunContext) -> dict[str, Any] | None:
    """The existing policy of that name (under the wizard's path or the root path), or None.

    Policy names are unique in an account whatever their path, so two direct look-ups cover
    what the wizard and the tutorial's console steps would have made, without listing every
    policy in a large account.
    """
    if "policy" in ctx.cache:
        return ctx.cache["policy"]
    iam = ctx.client("iam")
    for path in (IAM_PATH, "/"):
        arn = ctx.iam_arn("policy", ctx.config.policy_name, path)
        policy = fetch_or_none(lambda arn=arn: iam.get_policy(PolicyArn=arn)["Policy"],
                               f"looking up policy {ctx.config.policy_name}", "iam:GetPolicy")
        if policy is not None:
            ctx.cache["policy"] = policy
            return policy
    return None


def policy_arn(ctx: RunContext) -> str:
    """The ARN later steps attach: the existing policy's, or the one the wizard will create."""
    found = find_policy(ctx)
    return found["Arn"] if found else ctx.iam_arn("policy", ctx.config.policy_name, IAM_PATH)


def current_document(ctx: RunContext, policy: dict[str, Any]) -> dict[str, Any]:
    with aws_call(f"reading policy {policy['PolicyName']}", "iam:GetPolicyVersion"):
        version = ctx.client("iam").get_policy_version(
            PolicyArn=policy["Arn"], VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
    document = version["Document"]
    if isinstance(document, str):
        from urllib.parse import unquote

        document = json.loads(unquote(document))
    return document


class PolicyStep(Step):
    key = "policy"
    title = "Least-privilege policy"
    why = (
        "This is the heart of least privilege: the policy lets CircleCI list, read and write "
        "only under one prefix of one bucket. No wildcard action, no wildcard resource, nothing "
        "on the bucket itself, so a leaked credential cannot reach anything else."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("iam:GetPolicy", "iam:CreatePolicy")

    def document_json(self, ctx: RunContext) -> str:
        return policy_json(wanted_document(ctx))

    def summary(self, ctx: RunContext) -> list[str]:
        c = ctx.config
        return summarise(c.bucket, c.prefix, c.access)

    def check(self, ctx: RunContext) -> StepCheck:
        name = ctx.config.policy_name
        policy = find_policy(ctx)
        if policy is None:
            return StepCheck(Action.CREATE, f"Create customer-managed policy {name}.",
                             calls=("iam:CreatePolicy",))
        current = current_document(ctx, policy)
        if same_policy(current, wanted_document(ctx)):
            return StepCheck(Action.EXISTS, f"Policy {name} exists with the same document.")
        from wizard.policy_lint import lint_policy_document

        risks = [p.rule for p in lint_policy_document(current) if p.severity == "error"]
        difference = "the policy document differs from the least-privilege one"
        if risks:  # e.g. the tutorial's pasted "Action": "*", "Resource": "*"
            difference += "; the current one " + "; ".join(risks)
        versions = self._versions(ctx, policy)
        extra = " (the oldest version will be deleted: IAM keeps five)" if len(versions) >= \
            MAX_POLICY_VERSIONS else ""
        danger = (" Its current document is dangerous: " + "; ".join(risks) + ".") if risks \
            else ""
        return StepCheck(
            Action.UPDATE,
            f"Policy {name} exists with a different document; updating it adds a new default "
            f"version{extra}.{danger}",
            calls=("iam:CreatePolicyVersion",),
            difference=difference,
        )

    def _versions(self, ctx: RunContext, policy: dict[str, Any]) -> list[dict[str, Any]]:
        with aws_call(f"listing versions of {policy['PolicyName']}", "iam:ListPolicyVersions"):
            return ctx.client("iam").list_policy_versions(PolicyArn=policy["Arn"])["Versions"]

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        iam, name = ctx.client("iam"), ctx.config.policy_name
        document = policy_json(wanted_document(ctx))
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, {"policy_arn": policy_arn(ctx)})
        if check.action is Action.CREATE:
            with aws_call(f"creating policy {name}", "iam:CreatePolicy"):
                policy = iam.create_policy(
                    PolicyName=name, Path=IAM_PATH, PolicyDocument=document,
                    Description=f"S3 access to s3://{ctx.config.bucket}/{ctx.config.prefix} "
                    "only (circleci-s3-wizard)",
                    Tags=managed_tags(),
                )["Policy"]
            ctx.cache["policy"] = policy
            return StepResult(Action.CREATE, f"Created policy {name}.",
                              {"policy_arn": policy["Arn"]})
        if not allow_update:
            raise ConflictError(
                f"Policy {name} exists with a different document.",
                hint="Re-run with --yes (or confirm on screen) to add a new version, or choose "
                "another --policy-name.",
            )
        policy = find_policy(ctx) or {}
        versions = self._versions(ctx, policy)
        if len(versions) >= MAX_POLICY_VERSIONS:
            oldest = min((v for v in versions if not v["IsDefaultVersion"]),
                         key=lambda v: v["CreateDate"])
            with aws_call(f"deleting the oldest version of {name}", "iam:DeletePolicyVersion"):
                iam.delete_policy_version(PolicyArn=policy["Arn"], VersionId=oldest["VersionId"])
        with aws_call(f"updating policy {name}", "iam:CreatePolicyVersion"):
            version = iam.create_policy_version(
                PolicyArn=policy["Arn"], PolicyDocument=document, SetAsDefault=True
            )["PolicyVersion"]
        ctx.cache.pop("policy", None)
        return StepResult(Action.UPDATE,
                          f"Updated policy {name} (new default version {version['VersionId']}).",
                          {"policy_arn": policy["Arn"]})

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        name = ctx.config.policy_name
        policy = find_policy(ctx)
        if policy is None:
            return StepCheck(Action.ABSENT, f"Policy {name} does not exist.")
        tags = self._tags(ctx, policy)
        if not is_managed({**policy, "Tags": tags}):
            return StepCheck(Action.KEEP, f"Policy {name} was not made by the wizard; it is kept.")
        return StepCheck(Action.DELETE, f"Delete policy {name} and all its versions.",
                         calls=("iam:DeletePolicyVersion", "iam:DeletePolicy"))

    def _tags(self, ctx: RunContext, policy: dict[str, Any]) -> list[dict[str, str]]:
        if "Tags" in policy:
            return policy["Tags"]
        with aws_call(f"reading tags of {policy['PolicyName']}", "iam:ListPolicyTags"):
            return ctx.client("iam").list_policy_tags(PolicyArn=policy["Arn"])["Tags"]

    def undo(self, ctx: RunContext) -> StepResult:
        check = self.plan_destroy(ctx)
        if check.action is not Action.DELETE:
            return StepResult(check.action, check.detail)
        iam, name = ctx.client("iam"), ctx.config.policy_name
        policy = find_policy(ctx) or {}
        arn = policy["Arn"]
        with aws_call(f"checking what uses policy {name}", "iam:ListEntitiesForPolicy"):
            used = iam.list_entities_for_policy(PolicyArn=arn)
        users = [u["UserName"] for u in used.get("PolicyUsers", [])]
        groups = [g["GroupName"] for g in used.get("PolicyGroups", [])]
        roles = [r["RoleName"] for r in used.get("PolicyRoles", [])]
        if users or groups or roles:
            holders = ", ".join(users + groups + roles)
            return StepResult(Action.KEEP, f"Policy {name} is still attached to {holders}; "
                              "it is kept.")
        with aws_call(f"deleting policy {name}", "iam:DeletePolicy"):
            for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
                if not version["IsDefaultVersion"]:
                    iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
            iam.delete_policy(PolicyArn=arn)
        ctx.cache.pop("policy", None)
        return StepResult(Action.DELETE, f"Deleted policy {name} and all its versions.")
