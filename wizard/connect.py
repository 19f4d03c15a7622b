"""Making a run's connections: AWS (real or the sandbox), the keyring, and CircleCI.

The CLI and the TUI both open their :class:`~wizard.context.RunContext` here, so the sandbox's
keyring namespace, the CircleCI token's sources (``CIRCLE_TOKEN``, then the keyring) and the
sandbox's lifetime are decided once.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

from .config import SetupConfig
from .context import RunContext, make_session


@dataclass
class Opened:
    """A run's context, the sandbox it runs in (if any), and why CircleCI is not connected."""

    ctx: RunContext
    sandbox: Any = None  # wizard.sandbox.Sandbox
    circleci_note: str | None = None


def secret_store(sandbox: bool) -> Any:
    """The keyring store: sandbox keys under their own service, never the real one's."""
    from .sandbox import SANDBOX_SERVICE
    from .secret_store import SERVICE, SecretStore

    return SecretStore(service=SANDBOX_SERVICE if sandbox else SERVICE)


def circleci_client(secrets: Any) -> tuple[Any, str | None]:
    """A CircleCI client from ``CIRCLE_TOKEN``/``CIRCLE_HOST`` or the keyring's token, or why
    there is none (a locked keyring is a reason, not a failure: the manual path still works)."""
    from .circleci.client import CircleCIClient
    from .errors import BadInput

    try:
        return CircleCIClient.from_environment(secrets), None
    except BadInput:  # an insecure CIRCLE_HOST is the operator's to fix, not a by-hand path
        raise
    except Exception as exc:  # noqa: BLE001 - shown beside the by-hand instructions
        return None, str(exc)


def open_run(config: SetupConfig, *, sandbox: bool, stack: ExitStack,
             session: Any = None, secrets: Any = None, with_circleci: bool = True) -> Opened:
    """Open everything a run needs. A sandbox started here stops when ``stack`` closes."""
    box = None
    lifetime = None
    if sandbox:
        from .sandbox import PER_PROCESS, open_sandbox

        box = open_sandbox(config.region)
        stack.callback(box.stop)
        box.activate()
        lifetime = box.lifetime
        session = session or box.session()
    elif session is None:
        session = make_session(config.profile, config.region)
    secrets = secrets if secrets is not None else secret_store(sandbox)
    if box is not None and box.lifetime == PER_PROCESS:
        # The keys made in a sandbox go with it: their keyring entries are deleted before it
        # stops (the stack closes last-in first).
        stack.callback(box.forget_keys, secrets)
    circleci, note = (None, None)
    if with_circleci and (config.circleci_projects or config.oidc):
        circleci, note = circleci_client(secrets)
        if circleci is not None:
            stack.callback(circleci.close)
    ctx = RunContext(config, session, secrets=secrets, circleci=circleci, sandbox=lifetime)
    return Opened(ctx, box, note)


def sign_in_circleci(token: str, secrets: Any, host: str | None = None) -> tuple[Any, str]:
    """Check a pasted CircleCI token with CircleCI (``GET /me``) and keep it in the keyring.

    Returns the client and the token user's login. A token CircleCI refuses is never kept;
    no message holds the token.
    """
    import os

    from .circleci.client import DEFAULT_HOST, HOST_ENV, CircleCIClient, keyring_token_name
    from .errors import WizardError, explain

    host = host or os.environ.get(HOST_ENV) or DEFAULT_HOST
    try:
        client = CircleCIClient(token, host)
        login = client.whoami()
        if secrets is None:
            raise WizardError("No keyring is configured to keep the token.")
        secrets.store_token(keyring_token_name(host), token)
    except Exception as exc:  # noqa: BLE001 - the message never holds the token
        error = explain(exc, "checking the CircleCI token")
        raise WizardError(str(error).replace(token, "***")) from None
    return client, login
