"""The engine tests' own fixture: RunContexts on the shared moto account and keyring."""

from __future__ import annotations

from tests.fixtures.engine import make_ctx

__all__ = ["make_ctx"]
