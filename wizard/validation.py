"""Checks on the operator's answers, run before any AWS call.

AWS reports a bad name late (after other resources already exist) and rarely says which rule it
broke. Every check here returns :class:`Problem` values that name the field and the rule in a plain
sentence, so the TUI can show them next to the input and the CLI can map the field to its
``--option``. Warnings (a bucket name with dots) are shown but never block a run.

Pure Python on purpose: no boto3 import, so the CLI can reject a typo before paying for boto3.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from .config import DEFAULT_SESSION_DURATION, AccessLevel, AuthMode, SetupConfig

Severity = Literal["error", "warning"]
IamKind = Literal["user", "group", "policy", "role"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: which SetupConfig field, and a sentence saying what to change."""

    field: str
    rule: str
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.field}: {self.rule}"


def _quoted(chars: Iterable[str]) -> str:
    """``'A', '_'`` for a message: each distinct character once, in the order first seen."""
    return ", ".join(repr(c) for c in dict.fromkeys(chars))


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


# --- S3 bucket names ---------------------------------------------------------------------------

BUCKET_MIN_LENGTH = 3
BUCKET_MAX_LENGTH = 63
_BUCKET_CHARS = frozenset(string.ascii_lowercase + string.digits + ".-")
#: Reserved by AWS for its own features (IDN punycode, S3 internals, documentation examples).
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
#: Reserved by AWS for access point aliases, Object Lambda, Multi-Region Access Points,
#: directory buckets and table buckets.
RESERVED_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_IP_ADDRESS_FORM = re.compile(r"\d+\.\d+\.\d+\.\d+")


def validate_bucket_name(name: str) -> list[Problem]:
    """S3's naming rules for general-purpose buckets, plus a warning for dots.

    Dots are legal but make ``https://<bucket>.s3.amazonaws.com`` fail the TLS certificate check
    (the wildcard certificate covers one label only), which breaks virtual-hosted-style HTTPS and
    rules out Transfer Acceleration; the tutorial's FQDN-style name has exactly this problem.
    """
    field = "bucket"
    if not name:
        return [Problem(field, "is required: give the name of the S3 bucket to use or create")]
    problems: list[Problem] = []
    if not BUCKET_MIN_LENGTH <= len(name) <= BUCKET_MAX_LENGTH:
        problems.append(
            Problem(
                field,
                f"must be {BUCKET_MIN_LENGTH} to {BUCKET_MAX_LENGTH} characters long "
                f"(got {len(name)})",
            )
        )
    upper = [c for c in name if c in string.ascii_uppercase]
    if upper:
        problems.append(
            Problem(field, f"must be all lowercase; it contains the uppercase {_quoted(upper)}")
        )
    other = [c for c in name if c not in _BUCKET_CHARS and c not in string.ascii_uppercase]
    if other:
        problems.append(
            Problem(
                field,
                "may contain only lowercase letters, digits, dots (.) and hyphens (-); "
                f"it contains {_quoted(other)}",
            )
        )
    ends = [
        f"{where} with {char!r}"
        for where, char in (("starts", name[0]), ("ends", name[-1]))
        if not _is_ascii_alnum(char)
    ]
    if ends:
        problems.append(
            Problem(field, f"must start and end with a letter or digit; it {' and '.join(ends)}")
        )
    if ".." in name:
        problems.append(Problem(field, "must not contain two dots in a row ('..')"))
    if ".-" in name or "-." in name:
        problems.append(Problem(field, "must not have a dot next to a hyphen ('.-' or '-.')"))
    if _IP_ADDRESS_FORM.fullmatch(name):
        problems.append(Problem(field, "must not be formatted as an IP address (like 192.168.5.4)"))
    for prefix in RESERVED_BUCKET_PREFIXES:
        if name.startswith(prefix):
            problems.append(
                Problem(field, f"must not start with {prefix!r}, a prefix AWS reserves")
            )
    for suffix in RESERVED_BUCKET_SUFFIXES:
        if name.endswith(suffix):
            problems.append(Problem(field, f"must not end with {suffix!r}, a suffix AWS reserves"))
    if not problems and "." in name:
        problems.append(
            Problem(
                field,
                "contains dots, so HTTPS to https://<bucket>.s3.amazonaws.com fails the TLS "
                "certificate check and S3 Transfer Acceleration cannot be used; a name with "
                f"hyphens instead (e.g. {name.replace('.', '-')!r}) avoids this",
                severity="warning",
            )
        )
    return problems


# --- IAM names ---------------------------------------------------------------------------------

#: Maximum lengths from the IAM API reference (CreateUser, CreateGroup, CreatePolicy, CreateRole).
IAM_NAME_MAX_LENGTH: dict[str, int] = {"user": 64, "group": 128, "policy": 128, "role": 64}
_IAM_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "+=,.@_-")


def validate_iam_name(name: str, *, field: str, kind: IamKind) -> list[Problem]:
    """IAM's pattern ``[\\w+=,.@-]+`` (ASCII ``\\w``) and its length limit for ``kind``."""
    what = f"an IAM {kind} name"
    limit = IAM_NAME_MAX_LENGTH[kind]
    if not name:
        return [Problem(field, f"is required: give {what} (1 to {limit} characters)")]
    problems: list[Problem] = []
    if len(name) > limit:
        problems.append(
            Problem(field, f"must be 1 to {limit} characters long for {what} (got {len(name)})")
        )
    bad = [c for c in name if c not in _IAM_NAME_CHARS]
    if bad:
        problems.append(
            Problem(
                field,
                "may contain only letters, digits and the characters + = , . @ _ - "
                f"({what}); it contains {_quoted(bad)}",
            )
        )
    return problems


# --- The S3 prefix -----------------------------------------------------------------------------

#: S3 keys are at most 1024 bytes; leave room for the file names CircleCI puts under the prefix.
PREFIX_MAX_BYTES = 1000
_PREFIX_WILDCARDS = {
    "*": "IAM reads it as a wildcard in the policy's resource ARN",
    "?": "IAM reads it as a single-character wildcard in the policy's resource ARN",
    "$": "IAM reads '${...}' as a policy variable in the policy's resource ARN",
}


def normalise_prefix(prefix: str) -> str:
    """``builds`` -> ``builds/``: surrounding whitespace removed, one trailing slash ensured.

    The slash matters: the policy grants ``bucket/<prefix>*``, and without it ``builds*`` would
    also match ``builds-secret/``.
    """
    value = prefix.strip()
    return value if value.endswith("/") else f"{value}/"


def validate_prefix(prefix: str) -> list[Problem]:
    """Rules for the folder CircleCI may use, checked on the value as typed (before normalising)."""
    field = "prefix"
    value = prefix.strip()
    if value in ("", "/"):
        return [
            Problem(
                field,
                "must name a folder such as 'builds/'; an empty prefix or '/' would give "
                "CircleCI the whole bucket",
            )
        ]
    problems: list[Problem] = []
    if value.startswith("/"):
        problems.append(
            Problem(
                field,
                "must not start with '/': S3 keys have no leading slash, so "
                f"{value!r} would be a folder with an empty name (use {value.lstrip('/')!r})",
            )
        )
    for char, why in _PREFIX_WILDCARDS.items():
        if char in value:
            problems.append(Problem(field, f"must not contain {char!r}: {why}"))
    if ".." in value.split("/"):
        problems.append(
            Problem(
                field,
                "must not contain a '..' folder: S3 keeps it literally, and tools that resolve "
                "it would write outside the prefix",
            )
        )
    unprintable = [c for c in value if not c.isprintable()]
    if unprintable:
        problems.append(
            Problem(
                field,
                f"must contain only printable characters; it contains {_quoted(unprintable)}",
            )
        )
    size = len(normalise_prefix(value).encode("utf-8", "surrogatepass"))
    if size > PREFIX_MAX_BYTES:
        problems.append(
            Problem(
                field,
                f"must be at most {PREFIX_MAX_BYTES} bytes long (got {size}): S3 keys are "
                "limited to 1024 bytes and the files need room after the prefix",
            )
        )
    if "\\" in value:
        problems.append(
            Problem(
                field,
                "contains '\\', which S3 keeps as part of the name; S3 folders are "
                "separated by '/'",
                severity="warning",
            )
        )
    if "//" in value:
        problems.append(
            Problem(
                field,
                "contains '//', a folder with an empty name; S3 keeps it literally, so "
                "'a//b' and 'a/b' are different places",
                severity="warning",
            )
        )
    return problems


# --- CircleCI project slugs --------------------------------------------------------------------

#: The VCS part of a slug: GitHub OAuth and Bitbucket projects use their VCS name (short or
#: long); GitHub App, GitLab and standalone projects use ``circleci/<org-id>/<project-id>``.
SLUG_VCS_TYPES = ("gh", "github", "bb", "bitbucket", "circleci")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_SLUG_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_SLUG_EXAMPLE = "'gh/your-org/your-repo' or 'circleci/<organization-id>/<project-id>'"


def validate_circleci_slug(slug: str) -> list[Problem]:
    """The project slug as CircleCI's API v2 takes it in ``/project/{project-slug}``."""
    field = "circleci_projects"
    if not slug:
        return [Problem(field, f"must not be empty; give the project slug, e.g. {_SLUG_EXAMPLE}")]
    if "://" in slug:
        return [
            Problem(
                field,
                f"looks like a web address; give the project slug instead, e.g. {_SLUG_EXAMPLE}",
            )
        ]
    parts = slug.split("/")
    if len(parts) != 3:
        return [
            Problem(
                field,
                "must have three parts separated by '/', like "
                f"{_SLUG_EXAMPLE} (got {len(parts)} part{'s' if len(parts) != 1 else ''})",
            )
        ]
    vcs, org, project = parts
    if vcs not in SLUG_VCS_TYPES:
        return [
            Problem(
                field,
                "must start with gh/, github/, bb/, bitbucket/ or circleci/ "
                f"(got {vcs + '/'!r}); GitLab and GitHub App projects use "
                "'circleci/<organization-id>/<project-id>'",
            )
        ]
    problems: list[Problem] = []
    if vcs == "circleci":
        for value, what, where in (
            (org, "organization id", "Organization Settings > Overview"),
            (project, "project id", "Project Settings > Overview"),
        ):
            if not _UUID.fullmatch(value):
                problems.append(
                    Problem(
                        field,
                        f"the {what} {value!r} must be a UUID like "
                        f"'123e4567-e89b-12d3-a456-426614174000' (CircleCI shows it under "
                        f"{where})",
                    )
                )
        return problems
    for value, what in ((org, "organization"), (project, "repository")):
        if not value:
            problems.append(Problem(field, f"the {what} part of the slug is empty"))
        elif value in (".", "..") or not _SLUG_NAME.fullmatch(value):
            bad = [c for c in value if not _SLUG_NAME.fullmatch(c)] or [value]
            problems.append(
                Problem(
                    field,
                    f"the {what} {value!r} may contain only letters, digits, '-', '_' and '.'; "
                    f"it contains {_quoted(bad)}",
                )
            )
    return problems


# --- Branch names (OIDC trust condition) -------------------------------------------------------

#: Characters ``git check-ref-format`` forbids anywhere in a ref name.
_REF_FORBIDDEN = frozenset(" ~^:?*[\\\x7f") | frozenset(chr(i) for i in range(0x20))


def validate_branch(branch: str) -> list[Problem]:
    """Git's ref-name rules (``git check-ref-format --branch``) for the OIDC branch condition.

    A name git could never create would make a trust policy that no job ever satisfies; a ``*``
    would silently turn the condition into a wildcard.
    """
    field = "circleci_branch"
    if not branch:
        return [Problem(field, "must not be empty; give a branch name such as 'main'")]
    problems: list[Problem] = []
    forbidden = [c for c in branch if c in _REF_FORBIDDEN]
    if forbidden:
        problems.append(
            Problem(
                field,
                "must be a valid git branch name, which cannot contain spaces, control "
                f"characters or any of ~ ^ : ? * [ \\; it contains {_quoted(forbidden)}",
            )
        )
    if ".." in branch:
        problems.append(Problem(field, "must not contain '..' (git forbids it in branch names)"))
    if "@{" in branch:
        problems.append(Problem(field, "must not contain '@{' (git forbids it in branch names)"))
    if branch == "@":
        problems.append(Problem(field, "must not be '@' alone (git forbids it as a branch name)"))
    if branch == "HEAD":
        problems.append(Problem(field, "must not be 'HEAD' (git forbids it as a branch name)"))
    if branch.startswith("-"):
        problems.append(Problem(field, "must not start with '-' (git forbids it)"))
    if branch.startswith("/") or branch.endswith("/") or "//" in branch:
        problems.append(
            Problem(field, "must not start or end with '/' or contain '//' (git forbids it)")
        )
    if branch.endswith("."):
        problems.append(Problem(field, "must not end with '.' (git forbids it)"))
    for part in branch.split("/"):
        if part.startswith("."):
            problems.append(
                Problem(field, f"no part between slashes may start with '.' (found {part!r})")
            )
        if part.endswith(".lock"):
            problems.append(
                Problem(field, f"no part between slashes may end with '.lock' (found {part!r})")
            )
    if not problems and branch.startswith("refs/"):
        problems.append(
            Problem(
                field,
                "starts with 'refs/': give the branch name only, e.g. 'main' rather than "
                "'refs/heads/main'",
                severity="warning",
            )
        )
    return problems


# --- Regions -----------------------------------------------------------------------------------

#: Region codes of every AWS partition: aws, aws-cn, aws-us-gov, the ISO partitions and the
#: European Sovereign Cloud (``eusc-de-east-1``).
_REGION = re.compile(r"(?:[a-z]{2}(?:-gov|-iso[a-z]?)?|eusc-[a-z]{2})-[a-z]+-\d+")
_ZONE = re.compile(rf"({_REGION.pattern})[a-z]")


def validate_region(region: str) -> list[Problem]:
    """An AWS region code such as ``us-east-1``, with hints for the usual slips."""
    field = "region"
    if _REGION.fullmatch(region):
        return []
    example = "like 'us-east-1' or 'eu-west-2'"
    if not region:
        return [Problem(field, f"must not be empty; give a region code {example}")]
    zone = _ZONE.fullmatch(region)
    if zone:
        return [
            Problem(
                field,
                f"{region!r} is an availability zone; give its region {zone.group(1)!r} instead",
            )
        ]
    if _REGION.fullmatch(region.strip().lower()):
        return [
            Problem(
                field,
                f"must be written in lowercase without spaces, e.g. {region.strip().lower()!r}",
            )
        ]
    return [Problem(field, f"must be an AWS region code {example} (got {region!r})")]


# --- Free-text names without AWS rules ---------------------------------------------------------


def _validate_plain_name(value: str, *, field: str, what: str) -> list[Problem]:
    """A name matched exactly elsewhere (a CircleCI context, an AWS profile): no hidden spaces."""
    if not value.strip():
        return [Problem(field, f"must not be blank; give the {what} or leave it unset")]
    problems: list[Problem] = []
    if value != value.strip():
        problems.append(
            Problem(
                field,
                f"has spaces at the start or end, so it would not match the {what} "
                f"{value.strip()!r}",
            )
        )
    unprintable = [c for c in value.strip() if not c.isprintable()]
    if unprintable:
        problems.append(
            Problem(
                field,
                f"must contain only printable characters; it contains {_quoted(unprintable)}",
            )
        )
    return problems


# --- The whole setup ---------------------------------------------------------------------------


def validate_config(config: SetupConfig) -> list[Problem]:
    """Every problem (errors and warnings) in the operator's answers, in form order."""
    problems: list[Problem] = []
    if config.bucket:
        problems += validate_bucket_name(config.bucket)
    else:
        problems.append(
            Problem("bucket", "is required: give the name of the S3 bucket to use or create")
        )
    problems += validate_prefix(config.prefix)
    problems += validate_iam_name(config.group, field="group", kind="group")
    problems += validate_iam_name(config.policy_name, field="policy_name", kind="policy")
    problems += validate_iam_name(config.user, field="user", kind="user")
    problems += validate_iam_name(config.role_name, field="role_name", kind="role")
    problems += _validate_choice(config.access, AccessLevel, field="access")
    problems += _validate_choice(config.auth, AuthMode, field="auth")
    for slug in config.circleci_projects:
        problems += validate_circleci_slug(slug)
    if not config.circleci_projects and config.auth == AuthMode.OIDC:
        problems.append(
            Problem(
                "circleci_projects",
                "is required with OIDC: the role's trust policy must name the CircleCI "
                f"project, e.g. {_SLUG_EXAMPLE}",
            )
        )
    if (config.auth == AuthMode.KEYS and not config.circleci_context
            and len(config.circleci_projects) > 1):
        # The key's variables go on one project; the records would name projects that never
        # got it, and a second project would be left without its key.
        problems.append(
            Problem(
                "circleci_projects",
                "is given more than once, which --auth keys does not take: the key's variables "
                "go on one project. Give --circleci-context to share them with several (the "
                "context is restricted to those projects), or use --auth oidc",
            )
        )
    if config.circleci_context is not None:
        problems += _validate_plain_name(
            config.circleci_context, field="circleci_context", what="CircleCI context"
        )
    restricts = config.restrict_context_branch and bool(config.circleci_context)
    if config.circleci_branch:
        problems += validate_branch(config.circleci_branch)
        if config.auth != AuthMode.OIDC and not restricts:
            problems.append(
                Problem(
                    "circleci_branch",
                    "is only used with OIDC (in the role's trust policy) or, with "
                    "--restrict-context-branch, in the context's restriction; with access keys "
                    "alone every branch can use the key",
                    severity="warning",
                )
            )
    if config.restrict_context_branch and not (config.circleci_context
                                               and config.circleci_branch):
        problems.append(
            Problem(
                "restrict_context_branch",
                "needs --circleci-context (the context to restrict) and --circleci-branch (the "
                "branch whose pipelines may use it)",
            )
        )
    problems += validate_session_duration(config.session_duration, config.auth)
    if config.region:
        problems += validate_region(config.region)
    if config.profile is not None:
        problems += _validate_plain_name(config.profile, field="profile", what="AWS profile")
    return problems


#: STS's floor for a session, and the most any role's MaxSessionDuration allows.
_SESSION_RANGE = (900, 43200)


def validate_session_duration(seconds: int, auth: AuthMode | str = AuthMode.OIDC
                              ) -> list[Problem]:
    """The aws-cli orb's ``session_duration`` as far as it can be judged without the role: what
    STS accepts at all. The role's own MaxSessionDuration is checked in the plan."""
    field = "session_duration"
    low, high = _SESSION_RANGE
    if not low <= seconds <= high:
        return [Problem(field, f"must be between {low} seconds (STS's minimum) and {high} "
                               f"seconds (the most any role allows), not {seconds}")]
    if auth != AuthMode.OIDC and seconds != DEFAULT_SESSION_DURATION:
        return [Problem(field, "is only used with OIDC (the job's role session); access keys "
                               "do not expire", severity="warning")]
    return []


def _validate_choice(
    value: object, choices: type[AccessLevel | AuthMode], *, field: str
) -> list[Problem]:
    """Enum answers may arrive as plain strings from the CLI; anything else is a typo."""
    allowed = [str(c) for c in choices]
    if value in allowed:
        return []
    return [Problem(field, f"must be one of {', '.join(allowed)} (got {value!r})")]
