"""Small helpers shared by the AWS steps: error translation and 'did the wizard make this?'."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from wizard.config import IAM_PATH, MANAGED_BY_TAG
from wizard.errors import error_code, explain

T = TypeVar("T")
NOT_FOUND = {"NoSuchEntity", "NoSuchBucket", "NoSuchKey", "404", "NotFound"}


@contextmanager
def aws_call(doing: str, action: str | None = None) -> Iterator[None]:
    """Run boto3 calls, turning any failure into a :class:`~wizard.errors.WizardError`."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        raise explain(exc, doing, action) from exc


def fetch_or_none(call: Callable[[], T], doing: str, action: str) -> T | None:
    """``call()``, or None when AWS says the thing does not exist; other errors as sentences."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise explain(exc, doing, action) from exc


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND


def managed_tags() -> list[dict[str, str]]:
    """The tag every taggable thing the wizard creates carries."""
    key, value = MANAGED_BY_TAG
    return [{"Key": key, "Value": value}]


def is_managed(resource: dict[str, Any]) -> bool:
    """True when an IAM entity was made by the wizard: under its path or carrying its tag."""
    if resource.get("Path") == IAM_PATH:
        return True
    key, value = MANAGED_BY_TAG
    return any(t.get("Key") == key and t.get("Value") == value for t in resource.get("Tags", []))
