"""The TUI tests' own fixtures: a private state folder, and one boto3 session they share."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory,
                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The wizard's state folder (run locks, the shared sandbox's note) for this test only,
    so a developer's running ``circleci-s3-wizard sandbox`` or a lock left by a real run is never
    seen, and the tests' locks never leak out."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


_SHARED_SESSION: Any = None


@pytest.fixture
def tui_aws(aws_endpoint: str) -> Any:
    """A boto3 session on the clean moto account, shared by the TUI tests: botocore loads each
    service's model once per session, which is most of a fresh app's connecting time. Tests that
    register fault hooks use their own session (``aws_session``) instead."""
    global _SHARED_SESSION
    if _SHARED_SESSION is None:
        import boto3

        _SHARED_SESSION = boto3.Session(region_name="us-east-1")
    return _SHARED_SESSION
