"""Where the wizard keeps its own small state on this machine: locks and the running sandbox.

Never a secret: secrets live in the OS keyring only. The folder is the platform's per-user state
folder (``$XDG_STATE_HOME/circleci-s3-wizard`` on Linux, via platformdirs), created on first use
readable by its owner only.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

APP = "circleci-s3-wizard"


def state_dir() -> Path:
    """The wizard's state folder, created (mode 700) if needed."""
    from platformdirs import user_state_path

    path = user_state_path(APP, appauthor=False)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _identity_file() -> Path:
    return state_dir() / "identities.json"


def _credential_key(endpoint: str, access_key_id: str) -> str:
    import hashlib

    return hashlib.sha256(f"{endpoint}|{access_key_id}".encode()).hexdigest()[:24]


def known_identity(endpoint: str, access_key_id: str) -> dict[str, str] | None:
    """Who these credentials were last time (account, ARN, user id), or None.

    An access key id belongs to one IAM identity of one account for as long as it exists, so
    this is not a guess: ``sts:GetCallerIdentity`` would give the same answer. Temporary
    credentials (SSO, assumed roles) get a new key id each session, so they are asked afresh.
    Only a hash of the endpoint and key id is kept: no key material, and an account id or ARN is
    an identifier, not a secret.
    """
    import json

    try:
        known = json.loads(_identity_file().read_text(encoding="utf-8"))
        found = known[_credential_key(endpoint, access_key_id)]
        return {k: str(found[k]) for k in ("account", "arn", "user_id")}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_identity(endpoint: str, access_key_id: str, identity: dict[str, str]) -> None:
    """Keep the identity for :func:`known_identity`; never fails the run."""
    import json
    import os

    path = _identity_file()
    try:
        try:
            known = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            known = {}
        key = _credential_key(endpoint, access_key_id)
        if known.get(key) == identity:
            return
        known.pop(key, None)
        known[key] = identity
        if len(known) > 50:  # a small file: the oldest entries go
            known = dict(list(known.items())[-50:])
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(known), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def _handoff_file() -> Path:
    return state_dir() / "handed-over.json"


def handed_over(scope: str, user: str) -> set[str]:
    """Ids of the access keys of ``user`` whose secret was handed to the operator (the keyring
    could not keep it). ``scope`` is the keyring service, so the sandbox has its own list.

    Only key ids are kept, never a secret: enough to know the key is not an orphan (someone
    holds its secret: the operator) and that ``rotate`` should retire it.
    """
    import json

    try:
        return set(json.loads(_handoff_file().read_text(encoding="utf-8")).get(
            f"{scope}:{user}", []))
    except (OSError, ValueError, AttributeError):
        return set()


def _save_handoffs(change: Any) -> None:
    import json
    import os

    path = _handoff_file()
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    change(known)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(known), encoding="utf-8")
    os.replace(tmp, path)


def remember_handoff(scope: str, user: str, key_id: str) -> None:
    def add(known: dict[str, list[str]]) -> None:
        known[f"{scope}:{user}"] = sorted(set(known.get(f"{scope}:{user}", [])) | {key_id})

    _save_handoffs(add)


def forget_handoff(scope: str, user: str, key_id: str) -> None:
    def drop(known: dict[str, list[str]]) -> None:
        left = set(known.get(f"{scope}:{user}", [])) - {key_id}
        if left:
            known[f"{scope}:{user}"] = sorted(left)
        else:
            known.pop(f"{scope}:{user}", None)

    with contextlib.suppress(OSError):
        _save_handoffs(drop)



def install_id() -> str:
    """This machine's (this state folder's) name in the key records on the IAM user.

    A random id made on first use and kept in the state folder: it tells "this keyring holds the
    key" from "another machine's keyring does" (:mod:`wizard.key_records`). Never a secret, and
    it says nothing about the machine. The file is created exclusively, so two first runs agree.
    """
    import os
    import secrets

    path = state_dir() / "install-id"
    if (known := _installs.get(path)) is not None:
        return known
    for _ in range(2):
        try:
            found = path.read_text(encoding="utf-8").strip()
            if found.isalnum() and 6 <= len(found) <= 32:
                _installs[path] = found
                return found
        except OSError:
            pass
        made = secrets.token_hex(6)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another run made it first (or it was damaged): read it again
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(made)
        _installs[path] = made
        return made
    path.unlink(missing_ok=True)  # damaged: the next run makes a new one
    raise RuntimeError(f"The wizard's install id in {path} is unreadable; run again.")


#: install ids by state folder (tests and the sandbox switch folders within one process).
_installs: dict[Path, str] = {}
