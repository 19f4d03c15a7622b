"""The OS keyring as the only place the wizard keeps a secret (an IAM access key, a CircleCI token).

Secrets go to the operating system's own store: the Secret Service (GNOME Keyring, KWallet) on
Linux, the Keychain on macOS, the Credential Locker on Windows. The ``keyring`` library picks one,
but when none is running it quietly picks a plaintext file (``keyrings.alt``) or a backend that
fails on every call. :class:`SecretStore` refuses those out loud instead of falling back, proves
each write by reading it back, and turns every backend error into :class:`KeyringUnavailable`
with a sentence that says how to fix it. No message, repr or log line ever holds a secret.

``keyring`` is imported inside the methods: the CLI imports this module at start-up and
``--help`` must stay fast.
"""

from __future__ import annotations

import json
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

SERVICE = "circleci-s3-wizard"

_ACCESS_KEY_PREFIX = "aws-access-key:"
_TOKEN_PREFIX = "token:"
_PROBE_PREFIX = "probe:"

#: Packages of backends that keep secrets in a file on disk (everything in ``keyrings.alt``,
#: ``keyrings.cryptfile``). The native OS stores live in ``keyring.backends`` itself; its
#: ``fail`` and ``null`` backends keep nothing and are refused too.
_FILE_STORE_MODULES = ("keyrings.alt", "keyrings.cryptfile")

T = TypeVar("T")


def _fix_sentence() -> str:
    """How to get a working OS keyring on this platform, in one or two sentences."""
    if sys.platform == "darwin":
        return (
            "On macOS the login Keychain is used: make sure it exists and is unlocked "
            "(Keychain Access > File > Unlock)."
        )
    if sys.platform == "win32":
        return "On Windows the Credential Locker is used: sign in to a normal desktop session."
    return (
        "Start a Secret Service such as GNOME Keyring (gnome-keyring-daemon) or KWallet and "
        "unlock it. On a server or over SSH: run `dbus-run-session -- bash`, in that shell run "
        "`gnome-keyring-daemon --unlock --components=secrets` (type a keyring password, then "
        "Ctrl-D), then run circleci-s3-wizard again from the same shell."
    )


class KeyringUnavailable(RuntimeError):
    """The OS keyring cannot be used right now; the message says what is wrong and how to fix it."""


class InsecureKeyring(KeyringUnavailable):
    """The selected keyring backend would lose the secret or write it to a plain file."""


class MalformedEntry(ValueError):
    """A keyring entry under the wizard's name is not what the wizard wrote there."""


@dataclass(frozen=True, slots=True)
class AccessKey:
    """An IAM access key pair. The secret half never appears in ``repr``/``str``."""

    access_key_id: str
    secret_access_key: str = field(repr=False)


def _module_of(backend: object) -> str:
    return type(backend).__module__ or ""


def _is_insecure(backend: object) -> str | None:
    """Why ``backend`` must not hold a secret, or ``None`` if it may.

    A chainer writes to its first backend and reads from all of them, so it is refused when it
    chains nothing or when its first (write) backend is unsafe.
    """
    from keyring.backends import chainer, fail, null

    module = _module_of(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        return f"no OS keyring was found (keyring chose {_describe(backend)}, which stores nothing)"
    if module.startswith(_FILE_STORE_MODULES):
        return (
            f"keyring chose {_describe(backend)}, which keeps secrets in a file on disk rather "
            "than in the operating system's keyring"
        )
    if isinstance(backend, chainer.ChainerBackend):
        chained = list(backend.backends)
        if not chained:
            return "no OS keyring was found (keyring's chainer has no backend to use)"
        return _is_insecure(chained[0])
    return None


#: The operating system's own keyring, by platform: ``module:Class`` under keyring.backends.
_NATIVE = {
    "linux": "SecretService:Keyring",
    "darwin": "macOS:Keyring",
    "win32": "Windows:WinVaultKeyring",
}


def choose_backend() -> Any:
    """The backend keyring's configuration names, else the OS keyring, else keyring's choice.

    What the operator configured for keyring (``PYTHON_KEYRING_BACKEND`` or ``keyringrc.cfg``)
    always wins, through keyring's own loaders. Otherwise the operating system's own keyring is
    tried first, directly: keyring's general discovery scans every installed package's entry
    points, which costs a tenth of a second on each run, and the wizard wants the OS keyring
    anyway. Only when that is not available does keyring discover what else is installed.
    """
    import keyring
    import keyring.core

    configured = keyring.core.load_env() or keyring.core.load_config()
    if configured is not None:
        return configured
    native = _NATIVE.get(sys.platform if sys.platform != "linux2" else "linux")
    if native is not None:
        from importlib import import_module

        module, name = native.split(":")
        try:
            candidate = getattr(import_module(f"keyring.backends.{module}"), name)()
            if candidate.priority > 0:  # raises, or is <= 0, when it cannot be used here
                return candidate
        except Exception:  # noqa: BLE001 - not available: let keyring look further
            pass
    return keyring.get_keyring()


def _describe(backend: object) -> str:
    return f"{_module_of(backend)}.{type(backend).__name__}"


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


class SecretStore:
    """Reads and writes the wizard's secrets in one keyring backend, refusing unsafe ones."""

    def __init__(self, backend: Any | None = None, *, service: str = SERVICE) -> None:
        # ``None`` means keyring's own choice, resolved on first use (honours
        # PYTHON_KEYRING_BACKEND and keyring's config file). ``service`` separates namespaces:
        # the sandbox's fake keys live under their own so they never replace a real one.
        self._backend = backend
        self.service = service
        # The engine reads in several threads at once; keyring backends make no promise about
        # that (the Secret Service one opens a D-Bus session per call and may race an unlock),
        # so calls into the backend take turns. Each takes milliseconds.
        self._turn = threading.RLock()

    @property
    def backend(self) -> Any:
        """The keyring backend in use (resolved the first time: see :func:`choose_backend`)."""
        if self._backend is None:
            with self._turn:
                if self._backend is None:
                    self._backend = self._choose()
        return self._backend

    @staticmethod
    def _choose() -> Any:
        try:
            return choose_backend()
        except Exception as exc:  # any failure here means "no keyring"
            raise KeyringUnavailable(
                f"The keyring library could not choose a backend ({type(exc).__name__}: "
                f"{exc}). {_fix_sentence()}"
            ) from None

    def backend_name(self) -> str:
        """``module.Class`` of the backend, e.g. ``keyring.backends.SecretService.Keyring``."""
        return _describe(self.backend)

    def backend_label(self) -> str:
        """The backend as keyring itself names it for people, e.g. ``SecretService Keyring``."""
        return str(getattr(self.backend, "name", "") or self.backend_name())

    def check_secure(self) -> None:
        """Raise :class:`InsecureKeyring` if the backend would lose or file the secret."""
        reason = _is_insecure(self.backend)
        if reason is not None:
            raise InsecureKeyring(
                f"Refusing to store secrets: {reason}. {_fix_sentence()} The wizard never falls "
                "back to a plaintext file."
            )

    def ensure_usable(self) -> None:
        """Prove the keyring is safe and answers: the backend is not refused, and a read of a
        throwaway entry succeeds (it is not expected to exist).

        A locked or absent keyring only fails on first use, so a probe now stops the wizard
        before it creates an access key it then could not keep. A read is enough to find a
        missing Secret Service, a locked keyring (reading asks it to unlock) or a broken bus;
        a keyring that reads but refuses the write is caught when the secret is stored, which
        deletes the new key again (see ``store_or_hand_over``). A write-read-delete probe cost
        three round trips to the keyring daemon on every run, each with its own encrypted
        session, for a failure no one has seen.
        """
        self.check_secure()
        username = f"{_PROBE_PREFIX}{uuid.uuid4().hex}"
        self._call("read a test entry from", lambda b: b.get_password(self.service, username))

    # -- access keys -------------------------------------------------------------------------

    def store_access_key(self, user: str, key: AccessKey) -> None:
        """Keep ``key`` under ``aws-access-key:<user>`` and check it reads back identically."""
        payload = json.dumps(
            {"AccessKeyId": key.access_key_id, "SecretAccessKey": key.secret_access_key}
        )
        self._store(f"{_ACCESS_KEY_PREFIX}{user}", payload, "the access key", key.secret_access_key)

    def load_access_key(self, user: str) -> AccessKey | None:
        """The access key stored for ``user``, or ``None`` if there is none."""
        username = f"{_ACCESS_KEY_PREFIX}{user}"
        raw = self._load(username)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return AccessKey(str(data["AccessKeyId"]), str(data["SecretAccessKey"]))
        except (ValueError, KeyError, TypeError):
            raise MalformedEntry(
                f"The keyring entry '{username}' for service '{self.service}' is not an access key "
                "written by this wizard; delete it with `circleci-s3-wizard destroy` or your "
                "keyring manager and run `circleci-s3-wizard apply` again."
            ) from None

    def delete_access_key(self, user: str) -> bool:
        """Remove the stored access key; ``False`` if there was none."""
        return self._delete(f"{_ACCESS_KEY_PREFIX}{user}")

    # -- API tokens --------------------------------------------------------------------------

    def store_token(self, name: str, token: str) -> None:
        """Keep an API token (e.g. CircleCI's) under ``token:<name>``."""
        self._store(f"{_TOKEN_PREFIX}{name}", token, f"the {name} token")

    def load_token(self, name: str) -> str | None:
        """The stored token, or ``None``."""
        return self._load(f"{_TOKEN_PREFIX}{name}")

    def delete_token(self, name: str) -> bool:
        """Remove the stored token; ``False`` if there was none."""
        return self._delete(f"{_TOKEN_PREFIX}{name}")

    # -- internals ---------------------------------------------------------------------------

    def _store(self, username: str, value: str, what: str, *also_secret: str) -> None:
        """Write ``value``, read it back; ``value`` and ``also_secret`` never reach a message."""
        self.check_secure()
        secrets = (value, *also_secret)
        self._call(f"store {what} in",
                   lambda b: b.set_password(self.service, username, value), *secrets)
        got = self._call(f"read {what} back from", lambda b: b.get_password(self.service, username))
        if got != value:
            raise KeyringUnavailable(
                f"The keyring ({self.backend_name()}) accepted {what} but gave back something "
                f"else when read. {_fix_sentence()}"
            )

    def _load(self, username: str) -> str | None:
        self.check_secure()
        found: str | None = self._call("read from",
                                       lambda b: b.get_password(self.service, username))
        return found

    def _delete(self, username: str) -> bool:
        """Delete an entry; absent entries are not an error (``False``)."""
        self.check_secure()
        from keyring.errors import PasswordDeleteError

        def delete(backend: Any) -> bool:
            try:
                backend.delete_password(self.service, username)
            except PasswordDeleteError:
                return False
            return True

        return self._call("delete an entry from", delete)

    def _call(self, doing: str, op: Callable[[Any], T], *secrets: str) -> T:
        """Run ``op(backend)``; any failure becomes :class:`KeyringUnavailable` with a fix.

        The original exception is not chained (``from None``): backend frames hold the secret
        in their locals, and tracebacks that show locals must not print it.
        """
        with self._turn:
            backend = self.backend
            try:
                return op(backend)
            except Exception as exc:  # every backend failure means the same to us
                error = exc
        raise KeyringUnavailable(self._explain(doing, error, secrets)) from None

    def _explain(self, doing: str, exc: Exception, secrets: tuple[str, ...]) -> str:
        from keyring.errors import KeyringLocked

        kind = type(exc).__name__
        detail = _redact(str(exc), secrets)
        if isinstance(exc, KeyringLocked) or "dismissed" in detail.lower():
            problem = "the keyring is locked and could not be unlocked (no unlock prompt answered)"
        else:
            problem = f"{kind}: {detail}" if detail else kind
        where = self.backend_name()
        return f"Could not {doing} the keyring ({where}): {problem}. {_fix_sentence()}"
