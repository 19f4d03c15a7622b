"""Textual ``Validator`` adapters around the engine's validators, for inline errors on inputs.

The rules live in :mod:`wizard.validation` only; the screens show the same sentences the CLI
prints, next to the input they are about.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.validation import ValidationResult, Validator

from wizard.validation import (
    Problem,
    validate_bucket_name,
    validate_iam_name,
    validate_prefix,
)

ProblemCheck = Callable[[str], list[Problem]]


class EngineValidator(Validator):
    """Fails when the engine's check reports an error (warnings never block)."""

    def __init__(self, check: ProblemCheck, label: str) -> None:
        super().__init__()
        self.check = check
        self.label = label

    def problems(self, value: str) -> list[Problem]:
        return self.check(value)

    def validate(self, value: str) -> ValidationResult:
        errors = [p for p in self.check(value) if p.severity == "error"]
        if not errors:
            return self.success()
        return ValidationResult.merge([self.failure(self.sentence(p)) for p in errors])

    def sentence(self, problem: Problem) -> str:
        """``Bucket name must be 3 to 63 characters long`` (the field as the screen labels it)."""
        return f"{self.label} {problem.rule}"


def bucket_validator() -> EngineValidator:
    return EngineValidator(validate_bucket_name, "Bucket name")


def prefix_validator() -> EngineValidator:
    return EngineValidator(validate_prefix, "Folder (prefix)")


def iam_validator(field: str, kind: str, label: str) -> EngineValidator:
    return EngineValidator(
        lambda value: validate_iam_name(value, field=field, kind=kind),  # type: ignore[arg-type]
        label,
    )
