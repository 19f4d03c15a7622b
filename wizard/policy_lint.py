"""Judge an IAM policy document the operator pasted (or found attached): what is too broad.

Newcomers copy the tutorial's policy, whose mangled last statement grants ``"Action": "*"`` on
``"Resource": "*"``. The plan flags such a document on the existing policy, and ``policy --lint``
judges a file. Every finding is a :class:`wizard.validation.Problem` on the field ``policy``
whose rule names the statement and says what to change.

Which S3 actions are too much is not decided here: :mod:`wizard.s3_risky_actions` is generated
from AWS's IAM action data (access levels and resource types), and a grant is flagged when it
covers any of them, so a broad glob (``s3:Put*``, ``s3:*Acl``) is caught as surely as a name.

:func:`parse_policy_document` turns raw pasted bytes into a document, or says which rule the
bytes break (encoding, JSON syntax, nesting, shape) without ever running out of stack.
Pure Python on purpose: no boto3 import, so the CLI can judge a file before paying for boto3.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from .s3_risky_actions import ACL_READS, BUCKET_WRITES, PERMISSIONS_MANAGEMENT
from .validation import Problem

FIELD = "policy"

#: What each generated category means, in the words a finding uses.
_RISK_KINDS = (
    (PERMISSIONS_MANAGEMENT, "permission changes (ACLs, policies, public access)"),
    (BUCKET_WRITES, "bucket-level writes"),
    (ACL_READS, "reading ACLs"),
)
_S3_ARN = re.compile(r"arn:[^:]*:s3:::([^/]*)(?:/.*)?", re.DOTALL)


# --- Reading a pasted document -----------------------------------------------------------------

#: An IAM policy nests at most 6 deep (document, Statement list, statement, Condition, operator,
#: value list); anything far deeper is not a policy, and must not exhaust the parser's stack.
MAX_NESTING_DEPTH = 20
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = "\ufeff"
_STRUCTURAL = re.compile(r'[\[\]{}"]')
_IN_STRING = re.compile(r'["\\]')
_JSON_TYPES = {dict: "object", list: "array", str: "string", bool: "true/false", int: "number",
               float: "number", type(None): "null"}


class PolicyInputError(ValueError):
    """Pasted bytes that are not a policy document; ``rule`` says which rule they break."""

    def __init__(self, rule: str):
        self.rule = rule
        super().__init__(rule)


def parse_policy_document(raw: bytes) -> dict[str, Any]:
    """The JSON object in ``raw``, or :class:`PolicyInputError` naming the broken rule.

    Checked in order: not empty, UTF-8 (a UTF-8 byte-order mark is allowed), at most
    :data:`MAX_NESTING_DEPTH` levels of arrays and objects (measured before parsing, so a
    100,000-deep ``[[[...`` is refused at once), valid JSON (no ``NaN``), and a JSON object.
    Whether the object is a sensible policy is :func:`lint_policy_document`'s job.
    """
    if not raw.strip():
        raise PolicyInputError("is empty; give the policy document's JSON")
    if raw.startswith(_UTF16_BOMS):
        raise PolicyInputError(
            "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        before = raw[: bad.start].decode("utf-8")
        line, column = _position(before, len(before))
        raise PolicyInputError(
            f"is not UTF-8: byte 0x{raw[bad.start]:02x} at line {line}, column {column} "
            f"(byte offset {bad.start}) cannot be decoded; save the file as UTF-8"
        ) from None
    text = text.removeprefix(_UTF8_BOM)
    _check_depth(text)
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as bad:
        raise PolicyInputError(
            f"is not valid JSON: {bad.msg} at line {bad.lineno}, column {bad.colno}"
        ) from None
    except ValueError as bad:  # NaN/Infinity, or an integer too long for int()
        raise PolicyInputError(f"is not valid JSON: {bad}") from None
    if not isinstance(document, dict):
        kind = _JSON_TYPES.get(type(document), type(document).__name__)
        raise PolicyInputError(
            'must be a JSON object ({"Version": ..., "Statement": [...]}); '
            f"it is a JSON {kind}"
        )
    return document


def _position(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``text[offset]``, as an editor shows them."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _check_depth(text: str) -> None:
    """Refuse more than :data:`MAX_NESTING_DEPTH` open brackets, skipping those inside strings.

    One pass that jumps from bracket to bracket; invalid JSON (unbalanced, unterminated) is
    left for the parser to describe.
    """
    depth, pos = 0, 0
    while (found := _STRUCTURAL.search(text, pos)) is not None:
        char, pos = found.group(), found.end()
        if char == '"':
            while (inner := _IN_STRING.search(text, pos)) is not None and inner.group() == "\\":
                pos = inner.end() + 1
            if inner is None:
                return
            pos = inner.end()
        elif char in "[{":
            depth += 1
            if depth > MAX_NESTING_DEPTH:
                line, column = _position(text, found.start())
                raise PolicyInputError(
                    f"is nested more than {MAX_NESTING_DEPTH} levels deep (at line {line}, "
                    f"column {column}); an IAM policy document needs at most 6"
                )
        else:
            depth -= 1


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# --- Judging a document ------------------------------------------------------------------------


def covered_risky_actions(action: str) -> list[str]:
    """The risky S3 actions that ``action`` names or, as an IAM glob, covers.

    IAM compares action names case-insensitively and knows two wildcards, ``*`` and ``?``;
    fnmatch has the same two (``[`` is escaped, IAM has no character classes).
    """
    pattern = action.lower().replace("[", "[[]")
    return [
        risky
        for group, _ in _RISK_KINDS
        for risky in group
        if fnmatchcase(risky.lower(), pattern)
    ]


def lint_policy_document(doc: dict[str, Any]) -> list[Problem]:
    """What is too broad in a policy document, statement by statement.

    Only ``Allow`` statements are judged: a broad ``Deny`` takes permissions away. The tutorial's
    mangled last statement (``"Action": "*", "Resource": "*"``) gets its own message because it
    is the one newcomers copy.
    """
    if not isinstance(doc, dict) or not isinstance(doc.get("Statement"), list | dict):
        return [Problem(FIELD, 'has no "Statement"; a policy document needs a list of them')]
    problems: list[Problem] = []
    for label, statement in _statements(doc):
        if not isinstance(statement, dict):
            problems.append(Problem(FIELD, f"{label} is not a JSON object"))
            continue
        if statement.get("Effect") != "Allow":
            continue
        problems += _lint_allow(label, statement)
    return problems


def _strings(value: Any) -> list[str]:
    """Action and Resource may be one string or a list of them."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _statements(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw]
    for index, statement in enumerate(items, start=1):
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        yield (f"statement {index} ({sid!r})" if sid else f"statement {index}"), statement


def _lint_allow(label: str, statement: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    if "NotAction" in statement:
        problems.append(
            Problem(
                FIELD,
                f"{label} uses Allow with NotAction, which grants every action except those "
                "listed (including ones AWS adds later); list the allowed actions under "
                '"Action" instead',
            )
        )
    if "NotResource" in statement:
        problems.append(
            Problem(
                FIELD,
                f"{label} uses Allow with NotResource, which grants every resource except "
                'those listed; name the bucket and prefix ARNs under "Resource" instead',
            )
        )
    actions = _strings(statement.get("Action"))
    resources = _strings(statement.get("Resource"))
    if "*" in actions and "*" in resources:
        problems.append(
            Problem(
                FIELD,
                f'{label} grants every action on every resource ("Action": "*", '
                '"Resource": "*"), so whoever holds the key can do anything in the AWS '
                "account; this is the tutorial's mangled last statement: delete it",
            )
        )
        return problems
    problems += [p for action in actions if (p := _judge_action(label, action))]
    problems += [p for resource in resources if (p := _judge_resource(label, resource))]
    return problems


def _judge_action(label: str, action: str) -> Problem | None:
    if action == "*":
        return Problem(
            FIELD,
            f'{label} grants every action in every AWS service ("Action": "*"); '
            "list only the S3 object actions CircleCI needs",
        )
    if action.lower() == "s3:*":
        return Problem(
            FIELD,
            f"{label} grants every S3 action ({action!r}), including deleting the bucket and "
            "changing its policy; list only the object actions CircleCI needs",
        )
    covered = covered_risky_actions(action)
    if covered:
        kinds = [words for group, words in _RISK_KINDS if set(group) & set(covered)]
        what = " and ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1 else kinds)
        if "*" in action or "?" in action:
            examples = sorted(covered, key=lambda a: (len(a), a))  # the plainest names first
            what += f" ({len(covered)} actions, such as {', '.join(examples[:3])})"
        return Problem(
            FIELD,
            f"{label} grants {action!r}, which covers {what}; CircleCI only needs object "
            "actions such as s3:PutObject",
        )
    if not action.lower().startswith("s3:"):
        return Problem(
            FIELD,
            f"{label} grants {action!r}, which is not an S3 action; CircleCI only needs S3 "
            "access to the prefix",
            severity="warning",
        )
    return None


def _judge_resource(label: str, resource: str) -> Problem | None:
    if resource == "*":
        return Problem(
            FIELD,
            f'{label} applies to every resource ("Resource": "*"); name the bucket ARN and the '
            "prefix's objects ARN instead",
        )
    arn = _S3_ARN.fullmatch(resource)
    if arn and ("*" in arn.group(1) or "?" in arn.group(1)):
        return Problem(
            FIELD,
            f"{label} applies to every bucket matching {resource!r}; name the one bucket instead",
            severity="warning",
        )
    return None
