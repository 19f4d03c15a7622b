"""The sandbox: moto's server on 127.0.0.1, so anyone can try the wizard with no AWS account.

Two lifetimes, said plainly wherever it matters:

* ``circleci-s3-wizard sandbox`` serves the local AWS in the foreground until interrupted and
  prints the variables to export. While it runs, every ``--sandbox`` command (``apply``,
  ``verify``, ``destroy``, the TUI, ``credential-process``) finds it through a note in the state
  folder and works on the same imitation of AWS: :data:`SHARED`.
* Without it, ``--sandbox`` starts a private server that lasts for that one command (or one TUI
  session) and vanishes with it: :data:`PER_PROCESS`.

Keys made in the sandbox are fake. They live under their own keyring service
(:data:`SANDBOX_SERVICE`), so they can never replace a real key of the same user name. moto is
imported only here, only when a sandbox is started.

The sandbox enforces IAM, so that ``verify``'s live probes prove refusals rather than hope for
them: on start it makes the operator an identity of its own (the IAM user :data:`OPERATOR`,
allowed everything, whose access key is the sandbox's fixed fake one, so every ``--sandbox``
process and the exported variables keep working), then turns on moto's enforcement. From then on a
request signed with any other key (the CI user's) is judged on the Action and Resource of that
identity's policies; moto evaluates no conditions (``s3:prefix``) and no permission boundaries,
which ``verify`` says where it matters.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: The keyring service for sandbox keys (never the real one's).
SANDBOX_SERVICE = "circleci-s3-wizard-sandbox"
#: A sandbox that lives as long as this process.
PER_PROCESS = "per-process"
#: A sandbox served by a running ``circleci-s3-wizard sandbox``.
SHARED = "shared"
#: What the sandbox signs its own calls with (moto accepts any key).
FAKE_KEY = "sandbox-not-a-real-key"
#: The sandbox's operator: an IAM user it makes, allowed everything, signing with :data:`FAKE_KEY`.
OPERATOR = "sandbox-operator"
OPERATOR_PATH = "/sandbox/"
_ADMIN = {"Version": "2012-10-17",
          "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

BANNER = {
    PER_PROCESS: "SANDBOX: everything runs against a local imitation of AWS (moto) on "
    "{endpoint}. Nothing touches a real AWS account; all of it vanishes when this {what} exits.",
    SHARED: "SANDBOX: everything runs against the local imitation of AWS (moto) served by "
    "`circleci-s3-wizard sandbox` on {endpoint}. Nothing touches a real AWS account; it lasts "
    "until that command is stopped.",
}


#: How to get the sandbox's parts, said wherever they are missing (README "Try it").
INSTALL_HINT = ("from a clone: `uv run --no-dev --extra sandbox circleci-s3-wizard --sandbox`; "
                "installed: `pip install 'circleci-s3-wizard[sandbox]'`")


def missing_parts() -> list[str]:
    """The sandbox extra's modules this environment lacks (moto's server, Flask); no import."""
    from importlib.util import find_spec

    return [name for name in ("moto", "flask", "flask_cors") if find_spec(name) is None]


def require_parts() -> None:
    """Refuse ``--sandbox`` before anything starts when the ``sandbox`` extra is not installed
    and no running ``circleci-s3-wizard sandbox`` could stand in for it."""
    missing = missing_parts()
    if missing and find_shared() is None:
        from .errors import BadInput

        raise BadInput(f"--sandbox: the local AWS is an extra this install lacks "
                       f"({', '.join(missing)} not found); {INSTALL_HINT}")


def _note_path() -> Path:
    from .state import state_dir

    return state_dir() / "sandbox.json"


@dataclass
class Sandbox:
    """A running moto server; ``session()`` gives boto3 sessions bound to it."""

    region: str = "us-east-1"
    endpoint: str = ""
    lifetime: str = PER_PROCESS
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
        self._enforce_iam()
        return self

    def _enforce_iam(self) -> None:
        """Make the operator, give it the fixed fake key, then turn moto's IAM checks on.

        The operator is made in moto's backend (this process holds it) rather than over HTTP:
        moto's API cannot choose a key, and no client here may read the caller's AWS profile.
        """
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.iam.models import iam_backends
        from moto.utilities.utils import get_partition

        _let_anyone_ask_who_they_are()
        backend = iam_backends[DEFAULT_ACCOUNT_ID][get_partition(self.region)]
        # moto keeps one state per process: a second sandbox in it finds the operator made
        if OPERATOR not in backend.users:
            backend.create_user(self.region, OPERATOR, path=OPERATOR_PATH)
        backend.put_user_policy(OPERATOR, "sandbox-administrator", json.dumps(_ADMIN))
        if FAKE_KEY not in backend.access_keys:
            key = backend.create_access_key(OPERATOR)
            # the key keeps its user and record, under the id and secret every sandbox client
            # already signs with
            backend.access_keys.pop(key.access_key_id)
            key.access_key_id = key.secret_access_key = FAKE_KEY
            backend.access_keys[FAKE_KEY] = key
        self._auth_after("0")

    def _auth_after(self, count: str) -> None:
        """moto's switch: IAM is checked after ``count`` more requests (``inf``: never).

        It is one setting for every moto server in the process, so stopping turns it back off.
        """
        import urllib.request

        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth",
                                         data=count.encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310 - loopback

    def stop(self) -> None:
        if self._server is not None:
            try:
                self._auth_after("inf")
            except OSError:
                logging.getLogger(__name__).debug("sandbox auth switch not reset")
            self._server.stop()
            self._server = None

    def forget_keys(self, secrets: Any) -> list[str]:
        """Delete the keyring entries of the keys made in this sandbox, while it still answers.

        Only the sandbox's own keyring service is touched (a store for any other service is left
        alone), and only for users that hold an access key here, so a sandbox that made no key
        never opens the keyring. A keyring that cannot be reached now keeps its entries: they
        are fake keys, and the next sandbox that makes the same user replaces them.
        """
        if self._server is None or getattr(secrets, "service", None) != SANDBOX_SERVICE:
            return []
        import boto3

        iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=self.region,
                           aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY)
        forgotten: list[str] = []
        try:
            users = [u["UserName"] for page in iam.get_paginator("list_users").paginate()
                     for u in page["Users"] if u["UserName"] != OPERATOR]
            for user in users:
                if iam.list_access_keys(UserName=user)["AccessKeyMetadata"] \
                        and secrets.delete_access_key(user):
                    forgotten.append(user)
        except Exception:  # noqa: BLE001 - quitting must not fail on a fake key's entry
            logging.getLogger(__name__).debug("sandbox keyring entries kept", exc_info=False)
        return forgotten

    def __enter__(self) -> Sandbox:
        return self if self.endpoint and self._server is None else self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def banner(self, what: str = "command") -> str:
        return BANNER[self.lifetime].format(endpoint=self.endpoint, what=what)

    def environment(self) -> dict[str, str]:
        """The variables that point boto3 (and any child process) at the sandbox only."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": FAKE_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_KEY,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def activate(self) -> None:
        """Point this process at the sandbox, hiding any real profile so nothing leaks out."""
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN",
                     "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_STS"):
            os.environ.pop(name, None)
        os.environ.update(self.environment())

    def session(self) -> Any:
        """A boto3 session with the fake credentials and the sandbox endpoint."""
        import boto3

        return boto3.Session(aws_access_key_id=FAKE_KEY, aws_secret_access_key=FAKE_KEY,
                             region_name=self.region)

    # -- the shared sandbox --------------------------------------------------------------------

    def publish(self) -> Path:
        """Leave a note so ``--sandbox`` commands find this server (``circleci-s3-wizard
        sandbox``)."""
        path = _note_path()
        path.write_text(json.dumps({"endpoint": self.endpoint, "pid": os.getpid(),
                                    "region": self.region}), encoding="utf-8")
        return path

    def withdraw(self) -> None:
        path = _note_path()
        try:
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass


def _let_anyone_ask_who_they_are() -> None:
    """sts:GetCallerIdentity needs no permission in AWS ("no permissions are required to perform
    this operation"); moto's enforcement judges it like any other call, which would refuse a new
    key's first call (rotate proves a key with it). Its signature is still checked."""
    from moto.core.exceptions import AccessDeniedError
    from moto.sts.responses import TokenResponse

    judge = TokenResponse._authenticate_and_authorize_normal_action
    if getattr(judge, "_sandbox", False):
        return

    def judged_like_aws(self: Any, resource: str = "*") -> None:
        try:
            judge(self, resource)
        except AccessDeniedError:
            if self._get_action() != "GetCallerIdentity":
                raise

    judged_like_aws._sandbox = True  # type: ignore[attr-defined]
    TokenResponse._authenticate_and_authorize_normal_action = judged_like_aws  # type: ignore[method-assign]


def find_shared() -> Sandbox | None:
    """The sandbox a running ``circleci-s3-wizard sandbox`` serves, if one answers."""
    import urllib.request

    try:
        note = json.loads(_note_path().read_text(encoding="utf-8"))
        endpoint, pid = str(note["endpoint"]), int(note["pid"])
        os.kill(pid, 0)  # raises if that process is gone
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2):  # noqa: S310 - loopback
            pass
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return Sandbox(region=str(note.get("region") or "us-east-1"), endpoint=endpoint,
                   lifetime=SHARED)


def open_sandbox(region: str | None) -> Sandbox:
    """The shared sandbox if one runs, else a new one for this process (started)."""
    shared = find_shared()
    if shared is not None:
        return shared
    return Sandbox(region=region or "us-east-1").start()
