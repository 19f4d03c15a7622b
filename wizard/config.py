"""The operator's answers: one frozen dataclass that every step, screen and command reads.

Defaults are the tutorial's names, so a newcomer who accepts every default ends up with exactly
the setup the blog post describes, minus its mistakes. A :class:`SetupConfig` is only ever made
by :func:`wizard.answers.build_config`, which validates and normalises every answer (the prefix's
trailing slash above all), so no view can hand the engine an answer the engine would not accept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

DEFAULT_PREFIX = "builds/"
DEFAULT_GROUP = "circleci_devops"
DEFAULT_POLICY_NAME = "s3_full_access_devops_builds"
DEFAULT_USER = "circleci_service"
DEFAULT_ROLE = "circleci_s3_builds"
DEFAULT_REGION = "us-east-1"
#: Seconds an OIDC job's session lasts: the aws-cli orb's default, and the MaxSessionDuration of
#: the role the wizard makes.
DEFAULT_SESSION_DURATION = 3600

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
    """Everything the operator chose, validated and normalised by :mod:`wizard.answers`."""

    bucket: str = ""
    create_bucket: bool = False
    prefix: str = DEFAULT_PREFIX
    group: str = DEFAULT_GROUP
    policy_name: str = DEFAULT_POLICY_NAME
    user: str = DEFAULT_USER
    access: AccessLevel = AccessLevel.READ_WRITE
    auth: AuthMode = AuthMode.KEYS
    #: Every CircleCI project the setup is for (OIDC trusts each; keys go to the first).
    circleci_projects: tuple[str, ...] = ()
    circleci_context: str | None = None
    circleci_branch: str | None = None
    #: Also restrict the context to ``circleci_branch`` (an expression restriction).
    restrict_context_branch: bool = False
    role_name: str = DEFAULT_ROLE
    #: OIDC: the session length the config.yml asks for (at most the role's MaxSessionDuration).
    session_duration: int = DEFAULT_SESSION_DURATION
    region: str | None = None
    profile: str | None = None
    #: Take over same-named IAM resources the wizard did not make (an explicit, planned choice:
    #: the plan first shows what else each one grants and what adoption takes away).
    adopt: bool = False

    @property
    def circleci_project(self) -> str | None:
        """The project the variables are set on (the first one given), or None."""
        return self.circleci_projects[0] if self.circleci_projects else None

    @property
    def keys(self) -> bool:
        return self.auth is AuthMode.KEYS

    @property
    def oidc(self) -> bool:
        return self.auth is AuthMode.OIDC

    @property
    def identity_name(self) -> str:
        """What the CircleCI identity is called: the IAM user (keys) or the role (OIDC)."""
        return self.role_name if self.oidc else self.user

    def with_changes(self, **changes: object) -> SetupConfig:
        """A copy with some answers changed. Only for values that are already normalised:
        answers as typed go through :func:`wizard.answers.build_config`."""
        return replace(self, **changes)  # type: ignore[arg-type]
