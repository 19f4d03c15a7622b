"""The one list of the wizard's steps: key, title, modes, why, the calls each makes, what it needs.

Everything that shows or runs steps is derived from :data:`STEPS`: the engine's plan and its write
graph, the CLI's plan and JSON, the TUI's pages, its step list and command palette, the Done page.
A new step is one module in ``wizard/steps/`` plus one entry here. :data:`PAGES` adds the pages
that are not steps (Welcome, Verify, Done) so the TUI's page order is written here too.

Pure data: step classes are imported only when a step is used, so ``--help`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import TYPE_CHECKING

from .config import AuthMode, SetupConfig

if TYPE_CHECKING:
    from .steps.base import Step

BOTH = frozenset(AuthMode)
KEYS = frozenset({AuthMode.KEYS})
OIDC = frozenset({AuthMode.OIDC})


@dataclass(frozen=True, slots=True)
class StepInfo:
    """One tutorial step as the views and the engine know it."""

    key: str
    title: str
    #: The sign-in modes this step is part of.
    modes: frozenset[AuthMode]
    #: Two or three plain sentences: what the step does and why (least privilege in practice).
    why: str
    #: Every AWS or CircleCI call the step may make (reads and writes).
    calls: tuple[str, ...]
    #: Steps whose result this one needs first (its writes wait for theirs; a page says so).
    after: tuple[str, ...]
    #: ``module:Class`` of the step's implementation, relative to this package.
    impl: str

    def applies(self, config: SetupConfig) -> bool:
        return config.auth in self.modes

    def step(self) -> Step:
        """The step's implementation (one per run of the program, made with its title)."""
        return _step(self.impl, self.title)


@cache
def _step(impl: str, title: str) -> Step:
    module, name = impl.split(":")
    made: Step = getattr(import_module(module, __package__), name)(title)
    return made


STEPS: tuple[StepInfo, ...] = (
    StepInfo(
        "bucket", "S3 bucket", BOTH,
        "Builds need somewhere to land. A bucket the wizard creates has Block Public Access "
        "fully on and carries the wizard's tag, so nothing in it can be made public by accident "
        "and later runs can check it stays that way. The bucket itself is never deleted by the "
        "wizard, even by destroy.",
        ("s3:HeadBucket", "s3:GetPublicAccessBlock", "s3:GetBucketTagging", "s3:CreateBucket",
         "s3:PutPublicAccessBlock", "s3:PutBucketTagging"),
        (), ".steps.bucket_step:BucketStep"),
    StepInfo(
        "folder", "Builds folder", BOTH,
        "S3 has no real folders: the console shows a zero-byte object named after the prefix. "
        "Making it lets people find the prefix in the console; the permissions are about the "
        "prefix itself, so everything under it is covered whether or not the marker exists.",
        ("s3:HeadObject", "s3:PutObject"),
        ("bucket",), ".steps.folder_step:FolderStep"),
    StepInfo(
        "group", "IAM group", KEYS,
        "Permissions belong on a group, not on a person or a single user: the policy is attached "
        "once, and whoever joins the group gets exactly that and nothing more. Replacing the "
        "CircleCI user later never touches the permissions.",
        ("iam:GetGroup", "iam:ListGroupPolicies", "iam:GetGroupPolicy", "iam:CreateGroup",
         "iam:UpdateGroup", "iam:DetachGroupPolicy", "iam:DeleteGroupPolicy"),
        (), ".steps.group_step:GroupStep"),
    StepInfo(
        "policy", "Policy", BOTH,
        "This is the heart of least privilege: the policy lets CircleCI list, read and write "
        "only under one prefix of one bucket. No wildcard action, no wildcard resource, nothing "
        "on the bucket itself, so a leaked credential cannot reach anything else.",
        ("iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions", "iam:ListPolicyTags",
         "iam:ListEntitiesForPolicy",
         "iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion",
         "iam:TagPolicy"),
        (), ".steps.policy_step:PolicyStep"),
    StepInfo(
        "attach", "Attach policy", KEYS,
        "A policy does nothing until it is attached. Attaching it to the group, rather than to "
        "the user, keeps the permission in one place that is easy to audit and to revoke.",
        ("iam:ListAttachedGroupPolicies", "iam:AttachGroupPolicy"),
        ("group", "policy"), ".steps.attach_step:AttachStep"),
    StepInfo(
        "user", "IAM user", KEYS,
        "CircleCI gets its own identity, so its access can be audited and revoked without "
        "touching anyone else. It is programmatic only: no console password, and no permission "
        "of its own beyond the group's.",
        ("iam:GetUser", "iam:GetLoginProfile", "iam:ListGroupsForUser",
         "iam:ListAttachedUserPolicies", "iam:ListUserPolicies", "iam:GetUserPolicy",
         "iam:CreateUser", "iam:TagUser", "iam:AddUserToGroup", "iam:DetachUserPolicy",
         "iam:DeleteUserPolicy", "iam:RemoveUserFromGroup"),
        ("group",), ".steps.user_step:UserStep"),
    StepInfo(
        "access_key", "Access key", KEYS,
        "CircleCI authenticates with an access key id and a secret. The secret is shown by AWS "
        "only once; the wizard puts it straight into your OS keyring instead of a downloaded CSV, "
        "so it never sits in a file on disk. A tag on the user records where each key's secret "
        "went; a key held elsewhere, or not made here, is never touched.",
        ("iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:TagUser", "iam:UntagUser",
         "iam:CreateAccessKey", "iam:DeleteAccessKey"),
        ("user",), ".steps.access_key_step:AccessKeyStep"),
    StepInfo(
        "oidc_provider", "OIDC provider", OIDC,
        "AWS accepts CircleCI's short-lived OIDC tokens only from an identity provider it "
        "trusts. One provider per CircleCI organisation, with the organisation id as audience, "
        "replaces every long-lived access key: there is no secret left to leak or rotate.",
        ("iam:GetOpenIDConnectProvider", "iam:ListOpenIDConnectProviderTags",
         "iam:CreateOpenIDConnectProvider", "iam:AddClientIDToOpenIDConnectProvider"),
        (), ".circleci.oidc_steps:OidcProviderStep"),
    StepInfo(
        "oidc_role", "OIDC role", OIDC,
        "Instead of a user with a stored key, CircleCI assumes this role with a token that lives "
        "for one job. Its trust policy accepts only your organisation's tokens from the chosen "
        "projects (and branch, if you chose one), and it gets the same least-privilege policy.",
        ("iam:GetRole", "iam:ListRoleTags", "iam:ListAttachedRolePolicies",
         "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:CreateRole", "iam:TagRole",
         "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
         "iam:DeleteRolePolicy"),
        ("policy", "oidc_provider"), ".circleci.oidc_steps:OidcRoleStep"),
    StepInfo(
        "circleci", "CircleCI", BOTH,
        "CircleCI's old 'AWS Permissions' page is gone: credentials now live in the project's "
        "environment variables or in a context. The wizard sets them through CircleCI's API and "
        "reads them back, so nothing is pasted by hand (with OIDC there is not even a secret). "
        "A context is first restricted to the setup's projects (and, if asked, its branch), "
        "since any project of the organisation could read an unrestricted one.",
        ("GET /project/{slug}", "GET /project/{slug}/envvar", "POST /project/{slug}/envvar",
         "GET /context", "POST /context", "GET /context/{id}/environment-variable",
         "PUT /context/{id}/environment-variable/{name}", "GET /context/{id}/restrictions",
         "POST /context/{id}/restrictions"),
        ("access_key", "oidc_role"), ".circleci.delivery_step:CircleCIDeliveryStep"),
    StepInfo(
        "retire_keys", "Retire static keys", OIDC,
        "The aws-cli orb uses AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY whenever it finds "
        "them, so a project moved from keys to OIDC keeps using its old key until they are gone. "
        "This step removes the wizard's own key from CircleCI, then deactivates and deletes it in "
        "IAM and drops it from your keyring; a key someone else made is only reported. The IAM "
        "user and group stay (destroy --auth keys removes them).",
        ("GET /project/{slug}/envvar", "DELETE /project/{slug}/envvar/{name}",
         "GET /context/{id}/environment-variable",
         "DELETE /context/{id}/environment-variable/{name}", "iam:ListAccessKeys",
         "iam:UpdateAccessKey", "iam:DeleteAccessKey"),
        ("circleci",), ".circleci.retire_keys_step:RetireKeysStep"),
)


@dataclass(frozen=True, slots=True)
class PageInfo:
    """A page of the TUI: a step's page, or one of the pages around the steps."""

    key: str
    title: str
    #: The step this page runs, or None for Welcome, Verify and Done.
    step: StepInfo | None = None

    def applies(self, config: SetupConfig) -> bool:
        return self.step is None or self.step.applies(config)


PAGES: tuple[PageInfo, ...] = (
    PageInfo("welcome", "Welcome"),
    *(PageInfo(s.key, s.title, s) for s in STEPS),
    PageInfo("verify", "Verify"),
    PageInfo("done", "Done"),
)

_BY_KEY = {s.key: s for s in STEPS}


def info(key: str) -> StepInfo:
    """The registry entry of step ``key``."""
    return _BY_KEY[key]


def steps_for(config: SetupConfig) -> tuple[StepInfo, ...]:
    """The steps of this setup, in order."""
    return tuple(s for s in STEPS if s.applies(config))


def pages_for(config: SetupConfig) -> tuple[PageInfo, ...]:
    return tuple(p for p in PAGES if p.applies(config))


def missing_before(key: str, done: set[str], config: SetupConfig) -> list[StepInfo]:
    """The steps ``key`` needs (directly or not) that are not in ``done``, in tutorial order.

    A page jumped to from the palette says "do these first" with this.
    """
    wanted: set[str] = set()
    todo = list(info(key).after)
    while todo:
        other = todo.pop()
        if other in wanted or other not in _BY_KEY:
            continue
        wanted.add(other)
        todo += info(other).after
    return [s for s in STEPS if s.key in wanted and s.key not in done and s.applies(config)]
