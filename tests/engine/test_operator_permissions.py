"""docs/operator-permissions.json lists every AWS permission the wizard uses, and only real ones.

Whole runs (keys and OIDC: plan, apply, verify, re-apply, destroy) are recorded call by call; each
call's IAM action must be in the document the README points operators to.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from policy_sentry.querying.actions import get_action_data

from circleci_s3_wizard.wizard.config import AuthMode
from circleci_s3_wizard.wizard.verify import verify
from tests.fixtures.engine import CallLog, actions, run_apply, run_destroy

DOC = Path(__file__).resolve().parents[2] / "docs" / "operator-permissions.json"

#: boto3 operations whose IAM action has another name.
ACTION_OF = {
    "s3.HeadBucket": "s3:ListBucket",
    "s3.HeadObject": "s3:GetObject",
    "s3.ListObjectsV2": "s3:ListBucket",
    "s3.ListBuckets": "s3:ListAllMyBuckets",
    "s3.PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "s3.GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
}


def documented() -> set[str]:
    doc = json.loads(DOC.read_text())
    return {a for st in doc["Statement"] for a in st["Action"]}


def to_action(call: str) -> str:
    return ACTION_OF.get(call, call.replace(".", ":", 1))


def test_every_documented_action_exists():
    for action in documented():
        service, name = action.split(":")
        assert get_action_data(service, name)[service], action


def test_keys_mode_uses_only_documented_permissions(make_ctx):
    calls: set[str] = set()
    for _ in range(2):
        ctx = make_ctx(create_bucket=True)
        log = CallLog().attach(ctx)
        run_apply(ctx)
        verify(ctx, wait_seconds=0)
        calls |= set(log.calls)
    ctx = make_ctx()
    log = CallLog().attach(ctx)
    run_destroy(ctx)
    calls |= set(log.calls)
    missing = {to_action(c) for c in calls} - documented()
    assert not missing, f"add to {DOC.name}: {sorted(missing)}"


@pytest.fixture
def oidc_project(circleci_standin):
    return circleci_standin.add_project("gh/acme/app")


def test_oidc_mode_uses_only_documented_permissions(make_ctx, circleci_standin, oidc_project,
                                                    monkeypatch):
    calls: set[str] = set()
    with circleci_standin.client() as client:
        for _ in range(2):
            ctx = make_ctx(create_bucket=True, auth=AuthMode.OIDC,
                           circleci_project="gh/acme/app")
            ctx.circleci = client
            log = CallLog().attach(ctx)
            run_apply(ctx)
            calls |= set(log.calls)
        ctx = make_ctx(auth=AuthMode.OIDC, circleci_project="gh/acme/app")
        ctx.circleci = client
        log = CallLog().attach(ctx)
        run_destroy(ctx)
        calls |= set(log.calls)
    assert "iam.CreateOpenIDConnectProvider" in calls and "iam.CreateRole" in calls
    missing = {to_action(c) for c in calls} - documented()
    assert not missing, f"add to {DOC.name}: {sorted(missing)}"


def test_every_call_the_registry_names_is_documented():
    """The registry is where steps say what they call: each AWS call there is an operator
    permission in the document (CircleCI calls are not AWS permissions)."""
    from circleci_s3_wizard.wizard.registry import STEPS

    calls = {c for s in STEPS for c in s.calls if ":" in c and not c.startswith(("GET", "POST",
                                                                              "PUT", "DELETE"))}
    missing = {to_action(c.replace(":", ".", 1)) for c in calls} - documented()
    assert not missing, f"add to {DOC.name}: {sorted(missing)}"


def test_the_keys_to_oidc_move_uses_only_documented_permissions(make_ctx, circleci_standin,
                                                                oidc_project):
    calls: set[str] = set()
    with circleci_standin.client() as client:
        keys = make_ctx(create_bucket=True, circleci_project="gh/acme/app")
        keys.circleci = client
        run_apply(keys)
        moved = make_ctx(auth=AuthMode.OIDC, circleci_project="gh/acme/app",
                         circleci_context="s3-deploy")
        moved.circleci = client
        log = CallLog().attach(moved)
        report = run_apply(moved, consent=True)
        calls |= set(log.calls)
    assert actions(report)["retire_keys"].value == "update"
    assert {"iam.UpdateAccessKey", "iam.DeleteAccessKey"} <= calls
    missing = {to_action(c) for c in calls} - documented()
    assert not missing, f"add to {DOC.name}: {sorted(missing)}"
