"""The operator's answers: one frozen dataclass that every step, screen and command reads.

Defaults are the tutorial's names, so a newcomer who accepts every default ends up with exactly
the setup the blog post describes, minus its mistakes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

DEFAULT_PREFIX = "builds/"
DEFAULT_GROUP = "circleci_devops"
DEFAULT_POLICY_NAME = "s3_full_access_devops_builds"
DEFAULT_USER = "circleci_service"
DEFAULT_ROLE = "circleci_s3_builds"

#: The IAM path the wizard puts everything it creates under. IAM groups cannot be tagged, so the
#: path (together with the ``managed-by`` tag where IAM supports tags) is how ``destroy`` tells
#: what the wizard made from what the operator already had.
IAM_PATH = "/circleci-s3-wizard/"
MANAGED_BY_TAG = ("managed-by", "circleci-s3-wizard")


class AccessLevel(StrEnum):
    """How much the CircleCI identity may do under the prefix."""

    READ_WRITE = "read-write"
    UPLOAD_ONLY = "upload-only"
    READ_ONLY = "read-only"


class AuthMode(StrEnum):
    """How CircleCI gets AWS credentials: a stored access key, or OIDC with no stored secret."""

    KEYS = "keys"
    OIDC = "oidc"


@dataclass(frozen=True, slots=True)
class SetupConfig:
    """Everything the operator chose; validated by :mod:`wizard.validation` before any AWS call."""

    bucket: str = ""
    create_bucket: bool = False
    prefix: str = DEFAULT_PREFIX
    group: str = DEFAULT_GROUP
    policy_name: str = DEFAULT_POLICY_NAME
    user: str = DEFAULT_USER
    access: AccessLevel = AccessLevel.READ_WRITE
    auth: AuthMode = AuthMode.KEYS
    circleci_project: str | None = None
    circleci_context: str | None = None
    circleci_branch: str | None = None
    role_name: str = DEFAULT_ROLE
    region: str | None = None
    profile: str | None = None

    def with_changes(self, **changes: object) -> SetupConfig:
        """A copy with some answers changed (screens keep what was typed this way)."""
        return replace(self, **changes)  # type: ignore[arg-type]
