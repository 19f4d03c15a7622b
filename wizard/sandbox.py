"""The sandbox: moto's server embedded in the process, so anyone can try the wizard safely.

``--sandbox`` starts moto's real HTTP server on 127.0.0.1 on a free port and points the engine at
it with fake operator credentials. Nothing reaches AWS; state lives as long as the process.
moto is imported only here, only when the sandbox is asked for.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

SANDBOX_BANNER = (
    "SANDBOX: everything runs against a local imitation of AWS (moto) on {endpoint}. "
    "Nothing touches a real AWS account; all of it vanishes when the wizard exits."
)
#: moto's fixed fake account.
SANDBOX_ACCOUNT = "123456789012"
_FAKE = "sandbox-not-a-real-key"


@dataclass
class Sandbox:
    """A running moto server; ``session()`` gives boto3 sessions bound to it."""

    region: str = "us-east-1"
    endpoint: str = ""
    _server: Any = field(default=None, repr=False)

    def start(self) -> Sandbox:
        from moto.server import ThreadedMotoServer

        # moto's Flask app logs a traceback at ERROR for calls it does not implement (verify asks
        # for the policy simulator); in a terminal that would draw over the wizard's screen.
        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def banner(self) -> str:
        return SANDBOX_BANNER.format(endpoint=self.endpoint)

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (and any child process) at the sandbox only."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": _FAKE,
            "AWS_SECRET_ACCESS_KEY": _FAKE,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def activate(self) -> None:
        """Point this process at the sandbox, hiding any real profile so nothing leaks out."""
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(self.environment())

    def session(self) -> Any:
        """A boto3 session with the fake credentials and the sandbox endpoint."""
        import boto3

        return boto3.Session(
            aws_access_key_id=_FAKE, aws_secret_access_key=_FAKE, region_name=self.region
        )
