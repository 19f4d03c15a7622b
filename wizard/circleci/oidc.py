"""The IAM trust policy that lets one CircleCI project, and nothing else, assume the role.

CircleCI issues each job an OIDC token from ``https://oidc.circleci.com/org/<organization_id>``
(CircleCI server: ``https://<server host>/org/<organization_id>``) whose ``aud`` is the
organisation id and whose ``sub`` is ``org/<org>/project/<project>/user/<user>``. The token the
circleci/aws-cli orb sends (``$CIRCLE_OIDC_TOKEN_V2``) appends
``/vcs-origin/<repository>/vcs-ref/<git ref>`` to that ``sub``.

Why the branch is restricted through ``sub`` and not through the ``oidc.circleci.com/vcs-ref``
claim: AWS STS only turns a fixed set of claims (``aud``, ``sub``, ``amr``, ``azp``/``oaud``,
``email``) into condition keys for a generic OIDC provider. A condition on
``<host>:oidc.circleci.com/vcs-ref`` would never find its key, so it would lock everyone out.
The V2 ``sub`` carries the ref, so ``StringLike`` on ``sub`` does the job; a ``StringNotLike``
guard refuses any ``sub`` with ``/vcs-ref/`` twice, so a branch named
``x/vcs-ref/refs/heads/main`` cannot pass for ``main``.

:func:`evaluate_trust` evaluates exactly the operators this module emits, with IAM's rules, so the
tests can prove who gets in. moto does not evaluate web-identity trust conditions (its
``AssumeRoleWithWebIdentity`` accepts any token), so it cannot prove a refusal; this can.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

CLOUD_ISSUER_HOST = "oidc.circleci.com"
ASSUME_ACTION = "sts:AssumeRoleWithWebIdentity"
_SUB_GUARD = "*/vcs-ref/*/vcs-ref/*"


def issuer_host_for(circleci_host: str | None) -> str:
    """Where CircleCI's OIDC issuer lives for an API host (``CIRCLE_HOST``).

    CircleCI cloud issues from ``oidc.circleci.com``; a CircleCI server install issues from its
    own host name.
    """
    netloc = urlsplit(circleci_host or "").netloc or (circleci_host or "")
    if not netloc or netloc in {"circleci.com", "app.circleci.com"}:
        return CLOUD_ISSUER_HOST
    return netloc


def provider_host(org_id: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str:
    """The issuer without scheme: the IAM provider's name and the prefix of its condition keys."""
    return f"{issuer_host}/org/{org_id}"


def issuer_url(org_id: str, issuer_host: str = CLOUD_ISSUER_HOST) -> str:
    """``https://oidc.circleci.com/org/<org_id>``: the URL the IAM OIDC provider is made for."""
    return f"https://{provider_host(org_id, issuer_host)}"


def subject_pattern(org_id: str, project_id: str, branch: str | None = None) -> str:
    """The ``sub`` the role accepts: any user of this project, optionally on one branch only."""
    base = f"org/{org_id}/project/{project_id}/user/*"
    if branch is None:
        return base
    return f"{base}/vcs-origin/*/vcs-ref/refs/heads/{branch}"


def check_branch(branch: str) -> str:
    """The branch name, refused if it holds characters IAM would read as wildcards or variables."""
    name = branch.strip()
    if name.startswith("refs/heads/"):
        name = name[len("refs/heads/") :]
    if not name or any(ch in name for ch in "*?$") or "/vcs-ref/" in f"/{name}/":
        raise ValueError(
            f"Branch {branch!r} cannot be used in a trust policy: give a plain branch name "
            "such as main, without *, ? or $."
        )
    return name


def trust_policy(
    provider_arn: str,
    org_id: str,
    project_id: str,
    branch: str | None = None,
    issuer_host: str = CLOUD_ISSUER_HOST,
) -> dict[str, Any]:
    """Allow ``sts:AssumeRoleWithWebIdentity`` only for this organisation's tokens (``aud``) from
    this project (``sub``), and only from ``branch`` when one is given."""
    host = provider_host(org_id, issuer_host)
    condition: dict[str, dict[str, str]] = {
        "StringEquals": {f"{host}:aud": org_id},
        "StringLike": {f"{host}:sub": subject_pattern(org_id, project_id, None)},
    }
    if branch is not None:
        condition["StringLike"][f"{host}:sub"] = subject_pattern(
            org_id, project_id, check_branch(branch)
        )
        condition["StringNotLike"] = {f"{host}:sub": _SUB_GUARD}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CircleCIProjectOIDC",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": ASSUME_ACTION,
                "Condition": condition,
            }
        ],
    }


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


def _claim_values(key: str, claims: dict[str, Any], token_host: str) -> list[str] | None:
    """The token's values for condition key ``<host>:<claim>``; None when the key is absent."""
    host, sep, claim = key.rpartition(":")
    if not sep or host != token_host or claim not in claims:
        return None
    return [str(v) for v in _as_list(claims[claim])]


def _condition_holds(operator: str, key: str, wanted: Any, values: list[str] | None) -> bool:
    patterns = [str(p) for p in _as_list(wanted)]
    if operator == "StringEquals":
        return values is not None and any(v in patterns for v in values)
    if operator == "StringLike":
        return values is not None and any(string_like(p, v) for p in patterns for v in values)
    if operator == "StringNotLike":
        # IAM: a negated operator is true when the key is absent.
        return values is None or not any(string_like(p, v) for p in patterns for v in values)
    raise ValueError(f"evaluate_trust does not know the condition operator {operator}")


def evaluate_trust(policy: dict[str, Any], claims: dict[str, Any]) -> bool:
    """Would IAM let a token with ``claims`` (``iss``, ``aud``, ``sub``) assume the role?

    Covers the statements :func:`trust_policy` writes: an Allow for the federated provider whose
    URL is the token's issuer, ``sts:AssumeRoleWithWebIdentity``, and ``StringEquals`` /
    ``StringLike`` / ``StringNotLike`` conditions, all of which must hold. An unknown operator
    raises rather than guessing. Deny statements that match win, as in IAM.
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
            _condition_holds(op, key, wanted, _claim_values(key, claims, token_host))
            for op, block in conditions.items()
            for key, wanted in block.items()
        )
        if not holds:
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed
