"""The secret store against a real GNOME Keyring, and its refusal of every unsafe backend."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null
from keyring.errors import PasswordSetError

from circleci_s3_wizard.wizard.secret_store import (
    SERVICE,
    AccessKey,
    InsecureKeyring,
    KeyringUnavailable,
    MalformedEntry,
    SecretStore,
)

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
KEY = AccessKey("AKIA_DOC_EXAMPLE_KEY", SECRET)


def _items(service, username: str) -> list[str]:
    """The raw secrets the keyring holds for one of the wizard's usernames."""
    import secretstorage

    with service.connection() as conn:
        found = secretstorage.Collection(conn).search_items(
            {"service": SERVICE, "username": username}
        )
        return [item.get_secret().decode() for item in found]


def test_access_key_round_trip_in_gnome_keyring(secret_store, secret_service):
    secret_store.store_access_key("circleci_service", KEY)

    raw = _items(secret_service, "aws-access-key:circleci_service")
    assert [json.loads(r) for r in raw] == [
        {"AccessKeyId": KEY.access_key_id, "SecretAccessKey": SECRET}
    ]
    assert secret_store.load_access_key("circleci_service") == KEY
    assert secret_store.load_access_key("someone_else") is None

    assert secret_store.delete_access_key("circleci_service") is True
    assert _items(secret_service, "aws-access-key:circleci_service") == []
    assert secret_store.load_access_key("circleci_service") is None
    assert secret_store.delete_access_key("circleci_service") is False


def test_storing_again_replaces_the_key(secret_store, secret_service):
    secret_store.store_access_key("u", KEY)
    newer = AccessKey("AKIANEWERKEY0000000", "another-secret")
    secret_store.store_access_key("u", newer)
    assert secret_store.load_access_key("u") == newer
    assert len(_items(secret_service, "aws-access-key:u")) == 1


def test_token_round_trip(secret_store, secret_service):
    secret_store.store_token("circleci", "CCIPAT_token_value")
    assert _items(secret_service, "token:circleci") == ["CCIPAT_token_value"]
    assert secret_store.load_token("circleci") == "CCIPAT_token_value"
    assert secret_store.delete_token("circleci") is True
    assert secret_store.load_token("circleci") is None
    assert secret_store.delete_token("circleci") is False


def test_ensure_usable_passes_and_leaves_nothing_behind(secret_store, secret_service):
    assert secret_store.backend_name() == "keyring.backends.SecretService.Keyring"
    secret_store.ensure_usable()
    assert secret_service.delete_items(SERVICE) == 0


def test_malformed_entry_is_reported_without_its_value(secret_store):
    secret_store.backend.set_password(SERVICE, "aws-access-key:u", "not-json-" + SECRET)
    with pytest.raises(MalformedEntry) as caught:
        secret_store.load_access_key("u")
    assert "aws-access-key:u" in str(caught.value)
    assert SECRET not in str(caught.value)


def _plaintext_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    from keyrings.alt.file import PlaintextKeyring

    return PlaintextKeyring()


class _ChainOf(chainer.ChainerBackend):
    """A chainer with a fixed list instead of whatever is installed."""

    chain: list = []
    viable = False  # keyring registers every subclass: keep it from ever being chosen

    @property
    def backends(self):  # type: ignore[override]
        return self.chain


def _chain(*backends) -> chainer.ChainerBackend:
    keyring = _ChainOf()
    keyring.chain = list(backends)
    return keyring


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda tmp, mp: fail.Keyring(), "no OS keyring"),
        (lambda tmp, mp: null.Keyring(), "no OS keyring"),
        (_plaintext_keyring, "file on disk"),
        (lambda tmp, mp: _chain(), "no OS keyring"),
        (lambda tmp, mp: _chain(_plaintext_keyring(tmp, mp), null.Keyring()), "file on disk"),
        (lambda tmp, mp: _chain(_plaintext_keyring(tmp, mp), SecretService.Keyring()), "file"),
    ],
    ids=["fail", "null", "plaintext", "empty-chain", "insecure-chain", "plaintext-first-chain"],
)
def test_unsafe_backends_are_refused_before_anything_is_written(make, words, tmp_path, monkeypatch):
    store = SecretStore(make(tmp_path, monkeypatch))
    for attempt in (
        store.ensure_usable,
        lambda: store.store_access_key("u", KEY),
        lambda: store.store_token("circleci", SECRET),
        lambda: store.load_access_key("u"),
    ):
        with pytest.raises(InsecureKeyring) as caught:
            attempt()
        message = str(caught.value)
        assert words in message
        assert "gnome-keyring-daemon" in message and "never falls back" in message
        assert SECRET not in message
    assert not any(p.is_file() for p in tmp_path.rglob("*")), "an unsafe backend wrote a file"


def test_encrypted_file_keyring_is_refused_too():
    from keyrings.alt.file import EncryptedKeyring

    # Building one needs pycryptodome; the refusal only looks at the class, so skip __init__.
    encrypted = object.__new__(EncryptedKeyring)
    with pytest.raises(InsecureKeyring, match="file on disk"):
        SecretStore(encrypted).ensure_usable()


def test_chain_led_by_secret_service_is_accepted(secret_service, monkeypatch, tmp_path):
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    store = SecretStore(_chain(SecretService.Keyring(), PlaintextKeyring()))
    store.ensure_usable()
    try:
        store.store_token("chained", "value-1")
        assert _items(secret_service, "token:chained") == ["value-1"]
    finally:
        secret_service.delete_items(SERVICE)
    assert not list(tmp_path.rglob("*.cfg"))


def test_locked_or_missing_keyring_says_how_to_fix_it(unusable_secret_service):
    store = SecretStore(SecretService.Keyring())
    with pytest.raises(KeyringUnavailable) as caught:
        store.ensure_usable()
    assert not isinstance(caught.value, InsecureKeyring)
    message = str(caught.value)
    assert "locked" in message
    assert "gnome-keyring-daemon" in message and "dbus-run-session" in message

    with pytest.raises(KeyringUnavailable) as caught:
        store.store_access_key("u", KEY)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_no_session_bus_gives_keyring_unavailable(monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    store = SecretStore(SecretService.Keyring())
    with pytest.raises(KeyringUnavailable) as caught:
        store.ensure_usable()
    assert "dbus-run-session" in str(caught.value)
    with pytest.raises(KeyringUnavailable) as caught:
        store.store_token("circleci", SECRET)
    assert SECRET not in str(caught.value)


class _Leaky(KeyringBackend):
    """A backend whose errors quote the password, as a careless plugin might."""

    priority = 1  # type: ignore[assignment]
    viable = False  # keyring registers every subclass: keep it from ever being chosen

    def get_password(self, service, username):
        return None

    def set_password(self, service, username, password):
        secret = json.loads(password)["SecretAccessKey"] if password.startswith("{") else ""
        raise PasswordSetError(f"cannot store {password!r} for {username} ({secret})")

    def delete_password(self, service, username):
        raise PasswordSetError("nope")


class _Forgetful(KeyringBackend):
    """A backend that accepts writes and returns something else."""

    priority = 1  # type: ignore[assignment]
    viable = False  # keyring registers every subclass: keep it from ever being chosen

    def get_password(self, service, username):
        return "something else"

    def set_password(self, service, username, password):
        return None

    def delete_password(self, service, username):
        return None


def test_backend_error_text_is_redacted():
    with pytest.raises(KeyringUnavailable) as caught:
        SecretStore(_Leaky()).store_access_key("u", KEY)
    message = str(caught.value)
    assert "PasswordSetError" in message and "***" in message
    assert SECRET not in message


def test_write_that_does_not_read_back_is_an_error():
    # The probe only reads (a forgetful keyring passes it); the store itself reads the secret
    # back, and the engine deletes the new key when it does not (test_engine_keys).
    SecretStore(_Forgetful()).ensure_usable()
    with pytest.raises(KeyringUnavailable, match="gave back something else"):
        SecretStore(_Forgetful()).store_access_key("u", KEY)


def test_access_key_repr_hides_the_secret():
    assert SECRET not in repr(KEY)
    assert SECRET not in str(KEY)
    assert KEY.access_key_id in repr(KEY)


def test_the_os_keyring_is_chosen_without_scanning_every_package(secret_service, monkeypatch,
                                                                 tmp_path):
    from circleci_s3_wizard.wizard.secret_store import choose_backend

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no keyringrc.cfg
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    import keyring.backend

    scanned = []
    monkeypatch.setattr(keyring.backend, "get_all_keyring",
                        lambda: scanned.append(1) or [])
    assert isinstance(choose_backend(), SecretService.Keyring)
    assert scanned == []  # the entry-point scan was never needed


def test_what_the_operator_configured_for_keyring_wins(secret_service, monkeypatch, tmp_path):
    from circleci_s3_wizard.wizard.secret_store import choose_backend

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    chosen = choose_backend()
    assert type(chosen).__name__ == "PlaintextKeyring"  # honoured, then refused:
    with pytest.raises(InsecureKeyring):
        SecretStore(chosen).ensure_usable()


def test_without_an_os_keyring_keyrings_own_discovery_decides(monkeypatch, tmp_path):
    from circleci_s3_wizard.wizard.secret_store import choose_backend

    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    chosen = choose_backend()
    assert not isinstance(chosen, SecretService.Keyring)
    with pytest.raises(KeyringUnavailable):  # keyrings.alt's file: refused out loud
        SecretStore(chosen).ensure_usable()
