"""The IAM trust policy that lets chosen CircleCI projects, and nothing else, assume the role.

CircleCI issues each job an OIDC token from ``https://oidc.circleci.com/org/<organization_id>``
(CircleCI server: ``https://<server host>/org/<organization_id>``) whose ``aud`` is the
organisation id and whose ``sub`` is ``org/<org>/project/<project>/user/<user>``. The token the
circleci/aws-cli orb sends (``$CIRCLE_OIDC_TOKEN_V2``) appends
``/vcs-origin/<repository>/vcs-ref/<git ref>`` to that ``sub``. Further claims ride along:
``oidc.circleci.com/project-id``, ``vcs-origin``, ``vcs-ref``, ``context-ids``, ``org-id``,
``ssh-rerun`` and others (CircleCI's "Using OpenID Connect tokens in jobs").

Which claims a trust policy can test: AWS STS turns the standard claims ``aud``, ``sub``,
``amr``, ``azp``/``oaud`` and ``email`` into condition keys ``<issuer host>:<claim>`` (the issuer
without scheme). Since January 2026 STS also validates one CircleCI-specific claim and exposes it
as ``oidc.circleci.com/org/<org-id>:oidc.circleci.com/project-id`` (Service Authorization
Reference, STS condition keys; CircleCI calls it the recommended option). That key exists only for
the cloud issuer ``oidc.circleci.com``; for a CircleCI server issuer STS knows no provider-specific
claim, so there the project is pinned through ``sub`` alone.

``vcs-ref``, ``vcs-origin``, ``context-ids``, ``org-id`` and ``ssh-rerun`` are NOT condition keys.
A condition on ``<host>:oidc.circleci.com/vcs-ref`` never finds its key, so it never holds and
locks every job out (or, under a negated operator, always holds and restricts nothing).
:func:`restriction_advice` says, for such a claim, what the user must enforce instead (a branch pin
through ``sub``, context restrictions, the forked-pull-request setting); :func:`condition_key`
refuses to build such a key.

What :func:`project_trust_policy` writes, in one statement for the organisation's provider:

* ``StringEquals`` ``aud`` = the organisation id, and (cloud issuer) the project-id key = one of
  the projects' ids;
* ``StringLike`` ``sub`` = ``org/<org>/project/<id>/user/*`` for each project, or with a branch
  pin ``.../user/*/vcs-origin/*/vcs-ref/refs/heads/<branch>``. The V2 ``sub`` carries the ref,
  which is how a branch can be required at all. A ``StringNotLike`` guard refuses any ``sub`` with
  ``/vcs-ref/`` twice, so a branch named ``x/vcs-ref/refs/heads/main`` cannot pass for ``main``.

IAM reads a list of values under one key as OR, and the keys and operators of a statement as AND.
So with several projects on one role, a token passes when its project-id claim names one of them
and its ``sub`` names one of them; a token whose ``sub`` names a listed project while its
project-id claim names an unlisted one is refused. (A token pairing two *listed* projects could
pass, but it would only get what either project already gets: the same role.)

:func:`evaluate_trust` evaluates exactly the operators this module emits, with IAM's rules and
STS's set of condition keys, so the tests can prove who gets in. moto does not evaluate
web-identity trust conditions (its ``AssumeRoleWithWebIdentity`` accepts any token), so it cannot
prove a refusal; this can. :func:`trust_diff` turns two trust policies into the lines a
confirmation dialog shows. :func:`check_session_duration` and :func:`check_role_session_name`
check the aws-cli orb's ``session_duration`` and ``role_session_name`` before STS refuses them at
run time.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

CLOUD_ISSUER_HOST = "oidc.circleci.com"
ASSUME_ACTION = "sts:AssumeRoleWithWebIdentity"
STATEMENT_SID = "CircleCIProjectOIDC"
#: The CircleCI claim STS validates and exposes as a condition key (cloud issuer only).
PROJECT_ID_CLAIM = "oidc.circleci.com/project-id"
#: Claims STS turns into condition keys for any OIDC provider.
STANDARD_CLAIM_KEYS = frozenset({"aud", "sub", "amr", "azp", "oaud", "email"})
_SUB_GUARD = "*/vcs-ref/*/vcs-ref/*"
_REF_PREFIX = "refs/heads/"
_SUB_PATTERN = re.compile(
    r"^org/(?P<org>[^/*?]+)/project/(?P<project>[^/*?]+)/user/\*"
    r"(?:/vcs-origin/\*/vcs-ref/refs/heads/(?P<branch>.+))?$"
)

#: CircleCI claims that are NOT condition keys, and what to enforce instead of a trust condition.
UNENFORCEABLE_CLAIMS: Mapping[str, str] = {
    "oidc.circleci.com/vcs-ref": (
        "Pin the branch with --circleci-branch instead: the trust then checks the ref through the "
        "V2 sub, which carries it. For the context, --restrict-context-branch adds the "
        'expression restriction pipeline.git.branch == "main"; in config.yml, a branch filter '
        "on the job."
    ),
    "oidc.circleci.com/vcs-origin": (
        "The trust already requires the project, which fixes the repository; forked pull "
        "requests build in that same project, so keep Project Settings > Advanced > 'Pass "
        "secrets to builds from forked pull requests' off, and forks get no OIDC token at all."
    ),
    "oidc.circleci.com/context-ids": (
        "Restrict the context instead: a project restriction lets only this project's jobs use "
        "it (the wizard adds one for each --circleci-project), and an expression restriction "
        "can add a branch (--restrict-context-branch; only organisation admins can add either)."
    ),
    "oidc.circleci.com/org-id": (
        "Nothing more is needed: the organisation is already pinned by the identity provider "
        "(one per organisation, oidc.circleci.com/org/<org-id>) and by aud, which the trust "
        "requires."
    ),
    "oidc.circleci.com/ssh-rerun": (
        "Keep SSH reruns away from the credentials with the context expression restriction "
        "'not job.ssh.enabled' (expression restrictions fail closed: a job they cannot "
        "evaluate does not get the context)."
    ),
}


def issuer_host_for(circleci_host: str | None) -> str:
    """Where CircleCI's OIDC issuer lives for an API host (``CIRCLE_HOST``).

    CircleCI cloud (however ``CIRCLE_HOST`` spells it) issues from ``oidc.circleci.com``; a
    CircleCI server install issues from its own host name.
    """
    from .hosts import canonical, is_cloud

    if is_cloud(circleci_host):  # https://CircleCI.com:443/, www., app.: all cloud
        return CLOUD_ISSUER_HOST
    host = canonical(circleci_host)
    parts = urlsplit(host)
    netloc = (parts.hostname or host).lower()
    if parts.port and parts.port != 443:
        netloc = f"{netloc}:{parts.port}"
    return netloc


def provider_host(org_id: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str:
    """The issuer without scheme: the IAM provider's name and the prefix of its condition keys."""
    return f"{issuer_host}/org/{org_id}"


def issuer_url(org_id: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str:
    """``https://oidc.circleci.com/org/<org_id>``: the URL the IAM OIDC provider is made for."""
    return f"https://{provider_host(org_id, issuer_host)}"


# -- which claims are condition keys -------------------------------------------------------------


def project_id_key_supported(issuer_host: str = CLOUD_ISSUER_HOST) -> bool:
    """True when STS exposes the project-id claim as a key: CircleCI cloud's issuer only."""
    return issuer_host == CLOUD_ISSUER_HOST


def claim_condition_keys(issuer_host: str = CLOUD_ISSUER_HOST) -> frozenset[str]:
    """The claims STS turns into ``<issuer host>:<claim>`` condition keys for this issuer."""
    if project_id_key_supported(issuer_host):
        return STANDARD_CLAIM_KEYS | {PROJECT_ID_CLAIM}
    return STANDARD_CLAIM_KEYS


def _claim_name(claim: str) -> str:
    """``vcs-ref`` and ``oidc.circleci.com/vcs-ref`` both name CircleCI's claim."""
    name = claim.strip()
    if name in STANDARD_CLAIM_KEYS or "/" in name:
        return name
    return f"oidc.circleci.com/{name}"


def restriction_advice(claim: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str | None:
    """None when a trust condition on ``claim`` works; otherwise what the user must enforce.

    Callers use this when someone asks to restrict the role by a claim: a claim STS does not
    expose would become a condition that never matches, so the answer is a sentence, not a
    condition.
    """
    name = _claim_name(claim)
    if name in claim_condition_keys(issuer_host):
        return None
    if name == PROJECT_ID_CLAIM:
        return (
            f"AWS STS validates {PROJECT_ID_CLAIM} only for tokens from {CLOUD_ISSUER_HOST} "
            f"(CircleCI cloud); for the issuer {issuer_host} the trust pins the project through "
            "sub instead, which it does already."
        )
    advice = UNENFORCEABLE_CLAIMS.get(name, (
        "AWS STS turns only aud, sub, amr, azp, oaud, email and (for CircleCI cloud) "
        f"{PROJECT_ID_CLAIM} into condition keys; enforce this in CircleCI instead, e.g. with "
        "context restrictions."
    ))
    return (
        f"{name} is not an AWS STS condition key: a trust condition on it would never match and "
        f"would lock every job out. {advice}"
    )


class UnenforceableClaim(ValueError):
    """A restriction was asked for a claim STS does not expose; ``str()`` says what to do."""

    def __init__(self, claim: str, advice: str):
        super().__init__(advice)
        self.claim = claim
        self.advice = advice


def condition_key(org_id: str, claim: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str:
    """``<issuer host>:<claim>``, or :class:`UnenforceableClaim` when STS has no such key."""
    advice = restriction_advice(claim, issuer_host)
    if advice is not None:
        raise UnenforceableClaim(_claim_name(claim), advice)
    return f"{provider_host(org_id, issuer_host)}:{_claim_name(claim)}"


# -- building the document -----------------------------------------------------------------------


def subject_pattern(org_id: str, project_id: str, branch: str | None = None) -> str:
    """The ``sub`` the role accepts: any user of this project, optionally on one branch only."""
    base = f"org/{org_id}/project/{project_id}/user/*"
    if branch is None:
        return base
    return f"{base}/vcs-origin/*/vcs-ref/{_REF_PREFIX}{branch}"


def check_branch(branch: str) -> str:
    """The branch name, refused if it holds characters IAM would read as wildcards or variables."""
    name = branch.strip()
    if name.startswith(_REF_PREFIX):
        name = name[len(_REF_PREFIX) :]
    if not name or any(ch in name for ch in "*?$") or "/vcs-ref/" in f"/{name}/":
        raise ValueError(
            f"Branch {branch!r} cannot be used in a trust policy: give a plain branch name "
            "such as main, without *, ? or $."
        )
    return name


def check_circleci_id(value: str, what: str) -> str:
    """A CircleCI organisation or project id (a UUID), or a sentence saying where to find it."""
    text = str(value).strip()
    try:
        uuid.UUID(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a CircleCI {what} id: it is a UUID, shown under "
            + ("Organization Settings > Overview." if what == "organisation"
               else "Project Settings > Overview.")
        ) from None
    return text.lower()


def _one_or_many(values: list[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else values


def _document(provider_arn: str, condition: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": STATEMENT_SID,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": ASSUME_ACTION,
                "Condition": condition,
            }
        ],
    }


def project_trust_policy(
    provider_arn: str,
    org_id: str,
    project_ids: str | Iterable[str],
    branch: str | None = None,
    issuer_host: str = CLOUD_ISSUER_HOST,
) -> dict[str, Any]:
    """Allow ``sts:AssumeRoleWithWebIdentity`` only for the organisation's tokens (``aud``) from
    one of ``project_ids`` (the project-id key, and ``sub``), and only from ``branch`` if given.

    The ids are sorted and de-duplicated, so the same set of projects always gives the same
    document; one project is written as a plain string, several as a list.
    """
    org = check_circleci_id(org_id, "organisation")
    raw = [project_ids] if isinstance(project_ids, str) else list(project_ids)
    ids = sorted({check_circleci_id(p, "project") for p in raw})
    if not ids:
        raise ValueError("A trust policy needs at least one CircleCI project.")
    pinned = check_branch(branch) if branch else None
    host = provider_host(org, issuer_host)
    equals: dict[str, Any] = {f"{host}:aud": org}
    if project_id_key_supported(issuer_host):
        equals[f"{host}:{PROJECT_ID_CLAIM}"] = _one_or_many(ids)
    condition: dict[str, dict[str, Any]] = {
        "StringEquals": equals,
        "StringLike": {f"{host}:sub": _one_or_many([subject_pattern(org, p, pinned)
                                                    for p in ids])},
    }
    if pinned is not None:
        condition["StringNotLike"] = {f"{host}:sub": _SUB_GUARD}
    return _document(provider_arn, condition)




#: IAM's default quota for a role trust policy, in characters without whitespace (adjustable
#: in Service Quotas, "Role trust policy length").
DEFAULT_TRUST_POLICY_LIMIT = 2048


def trust_policy_length(policy: Mapping[str, Any]) -> int:
    """The length IAM counts against the quota: the document without whitespace."""
    return len(json.dumps(policy, separators=(",", ":")))


def trust_policy_size_problem(
    policy: Mapping[str, Any], limit: int = DEFAULT_TRUST_POLICY_LIMIT
) -> str | None:
    """None when the policy fits ``limit``; otherwise the sentence to show."""
    length = trust_policy_length(policy)
    if length <= limit:
        return None
    return (
        f"The trust policy is {length} characters, more than the {limit} IAM allows for a role "
        "trust policy: ask for a higher 'Role trust policy length' in Service Quotas, or put "
        "fewer projects on this role."
    )


# -- evaluation ------------------------------------------------------------------------------


def string_like(pattern: str, value: str) -> bool:
    """IAM's ``StringLike``: ``*`` is any run of characters (``/`` included), ``?`` exactly one;
    everything else, ``[`` included, is literal and case matters (unlike :mod:`fnmatch`)."""
    regex = "".join(
        ".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern
    )
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _issuer_host_of(token_host: str) -> str:
    """``oidc.circleci.com`` from ``oidc.circleci.com/org/<org>``."""
    return token_host.split("/org/", 1)[0]


def _claim_values(key: str, claims: Mapping[str, Any], token_host: str) -> list[str] | None:
    """The request's values for condition key ``<host>:<claim>``; None when STS has no such key
    for this token (another issuer, a claim STS does not expose, or a claim the token lacks)."""
    host, sep, claim = key.rpartition(":")
    if not sep or host != token_host or claim not in claims:
        return None
    if claim not in claim_condition_keys(_issuer_host_of(token_host)):
        return None
    return [str(v) for v in _as_list(claims[claim])]


def _condition_holds(operator: str, wanted: Any, values: list[str] | None) -> bool:
    """One operator on one key. Listed values are OR; a negated operator holds when the key is
    absent, a positive one does not (IAM's rules)."""
    patterns = [str(p) for p in _as_list(wanted)]
    if operator == "StringEquals":
        return values is not None and any(v in patterns for v in values)
    if operator == "StringNotEquals":
        return values is None or not any(v in patterns for v in values)
    if operator == "StringLike":
        return values is not None and any(string_like(p, v) for p in patterns for v in values)
    if operator == "StringNotLike":
        return values is None or not any(string_like(p, v) for p in patterns for v in values)
    raise ValueError(f"evaluate_trust does not know the condition operator {operator}")


def evaluate_trust(policy: Mapping[str, Any], claims: Mapping[str, Any]) -> bool:
    """Would IAM let a token with ``claims`` (``iss``, ``aud``, ``sub``, CircleCI's claims) assume
    the role?

    Covers what :func:`project_trust_policy` and :func:`trust_policy` write: Allow (and Deny)
    statements for the federated provider whose URL is the token's issuer,
    ``sts:AssumeRoleWithWebIdentity``, and ``StringEquals`` / ``StringNotEquals`` /
    ``StringLike`` / ``StringNotLike`` conditions. Within a key the listed values are OR; every
    key of every operator of a statement must hold (AND). Only claims STS exposes count as keys
    (see :func:`claim_condition_keys`): a condition on any other claim finds no key. An unknown
    operator raises rather than guessing. A matching Deny wins, as in IAM.
    """
    token_host = str(claims.get("iss", "")).removeprefix("https://")
    allowed = False
    for statement in _as_list(policy.get("Statement", [])):
        actions = _as_list(statement.get("Action", []))
        if not any(a in (ASSUME_ACTION, "sts:*", "*") for a in actions):
            continue
        federated = _as_list((statement.get("Principal") or {}).get("Federated", []))
        if not any(str(arn).endswith(f":oidc-provider/{token_host}") for arn in federated):
            continue
        conditions = statement.get("Condition", {})
        holds = all(
            _condition_holds(op, wanted, _claim_values(key, claims, token_host))
            for op, block in conditions.items()
            for key, wanted in block.items()
        )
        if not holds:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


# -- reading a trust policy back, and the difference between two ---------------------------------


@dataclass(frozen=True, slots=True)
class TrustSummary:
    """What a trust policy admits, as far as the wizard's own shape goes.

    ``branches`` holds one entry per distinct pin (``None``: any branch). ``unrecognised`` lists,
    in words, whatever the wizard did not write (other statements, other conditions).
    """

    provider_arns: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    project_ids: tuple[str, ...] = ()
    branches: frozenset[str | None] = frozenset()
    project_id_key: bool = False
    unrecognised: tuple[str, ...] = ()


def read_trust(policy: Mapping[str, Any] | None) -> TrustSummary:
    """The projects, branch pin, audience and provider a trust policy names."""
    if not policy:
        return TrustSummary()
    providers: list[str] = []
    audiences: list[str] = []
    projects: set[str] = set()
    branches: set[str | None] = set()
    key_seen = False
    other: list[str] = []
    for statement in _as_list(policy.get("Statement", [])):
        actions = _as_list(statement.get("Action", []))
        if statement.get("Effect") != "Allow" or ASSUME_ACTION not in actions:
            sid = statement.get("Sid") or "no Sid"
            other.append(f"a statement the wizard did not write ({sid})")
            continue
        providers += [str(a) for a in _as_list(
            (statement.get("Principal") or {}).get("Federated", []))]
        for op, block in (statement.get("Condition") or {}).items():
            for key, wanted in block.items():
                claim = key.rpartition(":")[2]
                values = [str(v) for v in _as_list(wanted)]
                if op == "StringEquals" and claim == "aud":
                    audiences += values
                elif op == "StringEquals" and claim == PROJECT_ID_CLAIM:
                    key_seen = True
                    projects.update(values)
                elif op == "StringLike" and claim == "sub":
                    for pattern in values:
                        match = _SUB_PATTERN.match(pattern)
                        if match is None:
                            other.append(f"the sub pattern {pattern}")
                            continue
                        projects.add(match["project"])
                        branches.add(match["branch"])
                elif not (op == "StringNotLike" and claim == "sub" and values == [_SUB_GUARD]):
                    other.append(f"{op} on {key}")
    return TrustSummary(
        provider_arns=tuple(dict.fromkeys(providers)),
        audiences=tuple(dict.fromkeys(audiences)),
        project_ids=tuple(sorted(projects)),
        branches=frozenset(branches),
        project_id_key=key_seen,
        unrecognised=tuple(other),
    )


def _branch_words(branches: frozenset[str | None]) -> str:
    if not branches or branches == {None}:
        return "any branch"
    named = sorted(b for b in branches if b is not None)
    text = ("branch " if len(named) == 1 else "branches ") + ", ".join(named)
    return text + (" (and any branch for some projects)" if None in branches else "")


@dataclass(frozen=True, slots=True)
class TrustDiff:
    """How a new trust policy differs from the current one, for a confirmation dialog."""

    projects_added: tuple[str, ...]
    projects_removed: tuple[str, ...]
    branches_before: frozenset[str | None]
    branches_after: frozenset[str | None]
    other_changes: tuple[str, ...] = ()
    new_role: bool = False

    @property
    def branch_changed(self) -> bool:
        return _branch_words(self.branches_before) != _branch_words(self.branches_after)

    @property
    def changed(self) -> bool:
        return bool(self.new_role or self.projects_added or self.projects_removed
                    or self.branch_changed or self.other_changes)

    def lines(self, project_names: Mapping[str, str] | None = None) -> list[str]:
        """``+``/``-``/``~`` lines; ``project_names`` maps ids to names worth showing."""
        names = project_names or {}

        def project(pid: str) -> str:
            return f"project {names[pid]} ({pid})" if pid in names else f"project {pid}"

        out = [f"+ a new role, trusted on {_branch_words(self.branches_after)}"
               if self.new_role else None]
        out += [f"+ {project(p)} may assume the role" for p in self.projects_added]
        out += [f"- {project(p)} may no longer assume the role" for p in self.projects_removed]
        if self.branch_changed:
            out.append(f"~ {_branch_words(self.branches_before)} -> "
                       f"{_branch_words(self.branches_after)}")
        out += [f"~ {change}" for change in self.other_changes]
        return [line for line in out if line] or ["  no change to the trust policy"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


def trust_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> TrustDiff:
    """What changes when ``before`` (None: no role yet) is replaced by ``after``."""
    old, new = read_trust(before), read_trust(after)
    changes: list[str] = []
    if before is not None:
        if old.audiences != new.audiences:
            changes.append(f"audience {', '.join(old.audiences) or 'none'} -> "
                           f"{', '.join(new.audiences) or 'none'}")
        if old.provider_arns != new.provider_arns:
            changes.append(f"identity provider {', '.join(old.provider_arns) or 'none'} -> "
                           f"{', '.join(new.provider_arns) or 'none'}")
        if new.project_id_key and not old.project_id_key:
            changes.append(f"the token's {PROJECT_ID_CLAIM} claim must now name the project")
        elif old.project_id_key and not new.project_id_key:
            changes.append(f"the {PROJECT_ID_CLAIM} condition is dropped")
        changes += [f"{what} (not written by the wizard) is dropped"
                    for what in old.unrecognised if what not in new.unrecognised]
    return TrustDiff(
        projects_added=tuple(p for p in new.project_ids if p not in old.project_ids),
        projects_removed=tuple(p for p in old.project_ids if p not in new.project_ids),
        branches_before=old.branches if before is not None else new.branches,
        branches_after=new.branches,
        other_changes=tuple(changes),
        new_role=before is None,
    )


# -- the aws-cli orb's session parameters --------------------------------------------------------

#: The circleci/aws-cli orb's ``setup`` defaults (orb 5.x: ``role_session_name: ${CIRCLE_JOB}``,
#: ``session_duration: "3600"``); also IAM's default MaxSessionDuration for a role.
DEFAULT_ROLE_SESSION_NAME = "${CIRCLE_JOB}"
DEFAULT_SESSION_DURATION = 3600
#: STS's DurationSeconds floor, and the range IAM allows for a role's MaxSessionDuration.
MIN_SESSION_DURATION = 900
MAX_SESSION_DURATION_RANGE = (3600, 43200)
_SESSION_NAME_CHARS = re.compile(r"[\w+=,.@-]*", re.ASCII)
_ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def check_session_duration(
    seconds: int | str, max_session_duration: int = DEFAULT_SESSION_DURATION
) -> int:
    """The orb's ``session_duration`` as seconds, or a ValueError sentence naming both numbers.

    STS refuses ``DurationSeconds`` below 900 or above the role's MaxSessionDuration (itself
    3600..43200) with a ValidationError when the job runs; this says so before.
    """
    low, high = MAX_SESSION_DURATION_RANGE
    if not low <= int(max_session_duration) <= high:
        raise ValueError(
            f"A role's MaxSessionDuration is between {low} and {high} seconds, not "
            f"{max_session_duration}."
        )
    text = str(seconds).strip()
    if isinstance(seconds, bool) or not text.isdigit():
        raise ValueError(f"The session duration must be a number of seconds, not {seconds!r}.")
    value = int(text)
    if value < MIN_SESSION_DURATION:
        raise ValueError(
            f"A session of {value} seconds is shorter than the {MIN_SESSION_DURATION} seconds "
            "AWS STS requires at least."
        )
    if value > int(max_session_duration):
        raise ValueError(
            f"A session of {value} seconds is longer than the role's MaxSessionDuration of "
            f"{max_session_duration} seconds: STS would refuse it with a ValidationError. "
            f"Choose at most {max_session_duration} seconds, or raise the role's maximum "
            f"(up to {high})."
        )
    return value


def check_role_session_name(name: str) -> str:
    """The orb's ``role_session_name``: 2..64 of ``A-Z a-z 0-9 _ + = , . @ -``, or ``$VAR``
    references the orb expands in the job (``${CIRCLE_JOB}`` by default).

    The orb quietly replaces other characters with ``-`` and cuts the name to 64; refusing them
    here keeps the name the user sees the name CloudTrail shows.
    """
    text = name.strip()
    literal = _ENV_REFERENCE.sub("", text)
    if not _SESSION_NAME_CHARS.fullmatch(literal):
        raise ValueError(
            f"Role session name {name!r} may hold only letters, digits and _ + = , . @ - "
            "(and $VARIABLES the job expands)."
        )
    if literal == text and not 2 <= len(text) <= 64:
        raise ValueError(
            f"Role session name {name!r} must be 2 to 64 characters long, not {len(text)}."
        )
    return text
