"""The run context: the operator's answers plus the live connections every step needs.

Built once per run and passed to each step, so steps hold no global state and tests can hand in
moto-backed sessions, a throwaway keyring or a CircleCI stand-in. The plan runs every step's
reads at once in threads, so everything here is safe to share between threads: boto3 clients
(thread-safe once made) are made under a lock, and every read goes through :attr:`reads`, which
makes each distinct question to AWS once per run however many steps ask it.

boto3 is imported lazily, never at module import, so commands that do not talk to AWS
(``policy``, ``--help``) start fast.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, overload

from .aws import client_config, iam_arn, share_connections
from .config import DEFAULT_REGION, IAM_PATH, SetupConfig
from .propagation import Propagation
from .reads import Reads

if TYPE_CHECKING:
    import boto3
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sts import STSClient

    from .circleci.client import CircleCIClient
    from .secret_store import SecretStore


#: The AWS services the wizard calls (each client typed by :meth:`RunContext.client`).
Service = Literal["iam", "s3", "sts"]


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


class RunContext:
    """What a step runs against: answers, AWS session and clients, keyring, CircleCI."""

    def __init__(
        self,
        config: SetupConfig,
        session: boto3.Session,
        *,
        secrets: SecretStore | None = None,
        circleci: CircleCIClient | None = None,
        sandbox: str | None = None,
    ) -> None:
        self.config = config
        self.session = session
        self.secrets = secrets
        self.circleci = circleci
        #: None for real AWS; for the wizard's local imitation of AWS, how long it lasts:
        #: :data:`wizard.sandbox.PER_PROCESS` or :data:`wizard.sandbox.SHARED`.
        self.sandbox = sandbox
        #: Every read of this run, asked once (see :class:`wizard.reads.Reads`).
        self.reads = Reads()
        #: What this run made, and the waits for AWS to show it (see :mod:`wizard.propagation`).
        self.propagation = Propagation()
        self._clients: dict[tuple[str, int], Any] = {}  # each as typed by :meth:`client`
        self._lock = threading.Lock()

    def with_config(self, config: SetupConfig) -> RunContext:
        """A context for changed answers that keeps the session, clients and identity.

        Reads about the old answers are dropped (they may not hold for the new ones), except who
        the caller is; clients are kept only while the region is the same.
        """
        other = RunContext(config, self.session, secrets=self.secrets, circleci=self.circleci,
                           sandbox=self.sandbox)
        other.propagation = self.propagation  # what was made is still young
        if other.region == self.region:
            other._clients = self._clients
        self.reads.hand_over(other.reads, "identity")
        return other

    @overload
    def client(self, service: Literal["iam"], *, attempts: int = 5) -> IAMClient: ...

    @overload
    def client(self, service: Literal["s3"], *, attempts: int = 5) -> S3Client: ...

    @overload
    def client(self, service: Literal["sts"], *, attempts: int = 5) -> STSClient: ...

    def client(self, service: Service, *, attempts: int = 5) -> Any:
        """The run's boto3 client for ``service`` in its region (made once, under a lock).

        ``attempts=1`` gives a client that never retries, for creates AWS must not repeat; it
        sends over the same kept-alive connections as the service's other client (a new
        connection to AWS costs two round trips: :func:`~wizard.aws.share_connections`).
        """
        key = (service, attempts)
        client = self._clients.get(key)
        if client is None:
            with self._lock:
                client = self._clients.get(key)
                if client is None:
                    client = self.session.client(service, region_name=self.region,
                                                 config=client_config(attempts=attempts))
                    self.propagation.watch(client)
                    sibling = next((c for (s, _), c in self._clients.items() if s == service),
                                   None)
                    if sibling is not None:
                        share_connections(client, sibling)
                    self._clients[key] = client
        return client

    @property
    def keyring(self) -> SecretStore:
        """The run's secret store, for what needs one (an access key's secret has nowhere else
        to go); a run made without one (``secrets=None``) is refused here, before any write."""
        if self.secrets is None:
            from .errors import WizardError

            raise WizardError("No keyring is configured, so the secret would have nowhere safe "
                              "to go.")
        return self.secrets

    @property
    def region(self) -> str:
        """The region for new buckets and the CircleCI ``AWS_REGION`` variable."""
        return self.config.region or self.session.region_name or DEFAULT_REGION

    @property
    def identity(self) -> Identity:
        """The caller, asked once (and shared with contexts made by :meth:`with_config`).

        Long-term credentials seen before are known without asking: an access key id belongs to
        one identity for as long as it exists (see :func:`wizard.state.known_identity`).
        """

        def ask() -> Identity:
            from .aws import aws_call
            from .state import known_identity, remember_identity

            credential = self._credential()
            known = known_identity(*credential) if credential is not None else None
            if known is not None:
                return Identity(known["account"], known["arn"], known["user_id"])
            sts = self.client("sts")
            with aws_call("asking AWS who you are", "sts:GetCallerIdentity"):
                answer = sts.get_caller_identity()
            identity = Identity(answer["Account"], answer["Arn"], answer["UserId"])
            if credential is not None:
                remember_identity(*credential, {"account": identity.account,
                                                "arn": identity.arn,
                                                "user_id": identity.user_id})
            return identity

        return self.reads.once("identity", ask)

    def _credential(self) -> tuple[str, str] | None:
        """(endpoint, access key id) the run signs with: what a known identity is keyed by."""

        def find() -> tuple[str, str] | None:
            import os

            try:
                credentials = self.session.get_credentials()
                key_id = credentials.access_key if credentials is not None else None
            except Exception:  # noqa: BLE001 - unknown: the real call will explain
                return None
            if not key_id:
                return None
            endpoint = (os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get(
                "AWS_ENDPOINT_URL") or f"aws:{self.region}")
            return endpoint, str(key_id)

        return self.reads.once("credential", find)

    @property
    def identity_known(self) -> bool:
        """True when the caller is known without a request (seen before, see :attr:`identity`)."""
        from .state import known_identity

        credential = self._credential()
        return credential is not None and known_identity(*credential) is not None

    @property
    def partition(self) -> str:
        return self.identity.partition

    def iam_arn(self, kind: str, name: str, path: str = "/") -> str:
        """``arn:<partition>:iam::<account>:<kind><path><name>``."""
        return iam_arn(self.partition, self.identity.account, kind, name, path)

    def managed_arn(self, kind: str, name: str) -> str:
        """The ARN the wizard gives what it creates: under :data:`IAM_PATH`."""
        return self.iam_arn(kind, name, IAM_PATH)
