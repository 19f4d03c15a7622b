"""The run context: the operator's answers plus the live connections every step needs.

Built once per run and passed to each step, so steps hold no global state and tests can hand in
moto-backed sessions, a throwaway keyring or a CircleCI stand-in. boto3 is imported lazily here,
never at module import, so commands that do not talk to AWS (``policy``, ``--help``) start fast.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from wizard.config import SetupConfig

if TYPE_CHECKING:
    import boto3

    from wizard.circleci.client import CircleCIClient
    from wizard.secret_store import SecretStore


@dataclass(frozen=True, slots=True)
class Identity:
    """Who the operator is in AWS (from ``sts:GetCallerIdentity``)."""

    account: str
    arn: str
    user_id: str

    @property
    def partition(self) -> str:
        """``aws``, ``aws-cn`` or ``aws-us-gov``: policies must name the caller's partition."""
        return self.arn.split(":", 2)[1]


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session honouring AWS_PROFILE/--profile, AWS_REGION/--region, SSO and endpoints.

    boto3's own session handling reads the config files, SSO caches and ``AWS_ENDPOINT_URL``; we
    only pass what the operator typed explicitly.
    """
    import boto3

    return boto3.Session(profile_name=profile or None, region_name=region or None)


@dataclass
class RunContext:
    """What a step runs against. Clients are created on first use and cached."""

    config: SetupConfig
    session: Any  # boto3.Session; Any so this module needs no boto3 import
    secrets: SecretStore | None = None
    circleci: CircleCIClient | None = None
    #: Facts a step learns that later steps need (e.g. the policy ARN found by the policy step).
    cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def with_config(self, config: SetupConfig) -> RunContext:
        """A context for changed answers that keeps the session, clients and identity.

        The facts cache is dropped (it depends on the answers); clients are kept only while the
        region is the same, since a client is bound to its region.
        """
        other = RunContext(config, self.session, secrets=self.secrets, circleci=self.circleci)
        if other.region == self.region:
            other._clients = self._clients
        if "identity" in self.__dict__:
            other.__dict__["identity"] = self.__dict__["identity"]
        return other

    def client(self, service: str) -> Any:
        """A cached boto3 client for ``service`` in the run's region."""
        if service not in self._clients:
            from botocore.config import Config

            cfg = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10)
            self._clients[service] = self.session.client(
                service, region_name=self.region, config=cfg
            )
        return self._clients[service]

    @property
    def region(self) -> str:
        """The region for new buckets and the CircleCI ``AWS_REGION`` variable."""
        return self.config.region or self.session.region_name or "us-east-1"

    @cached_property
    def identity(self) -> Identity:
        """The caller, asked once per run."""
        answer = self.client("sts").get_caller_identity()
        return Identity(account=answer["Account"], arn=answer["Arn"], user_id=answer["UserId"])

    @property
    def partition(self) -> str:
        return self.identity.partition

    def iam_arn(self, kind: str, name: str, path: str = "/") -> str:
        """``arn:<partition>:iam::<account>:<kind><path><name>``."""
        return f"arn:{self.partition}:iam::{self.identity.account}:{kind}{path}{name}"
