"""The shape of a run against a deliberately slow AWS: how many requests, and how many in a row.

Speed itself is measured by the benchmarks (tests/benchmarks/); these tests pin what makes it:
a plan asks all its questions at once (one round trip when the caller is known from an earlier
run with the same access key, two otherwise: who am I, then the policy's ARN), a fresh apply
writes in about two more, with exactly the ten writes the tutorial needs, and a second apply
writes nothing. Each request here takes LATENCY seconds, far longer than the wizard's own
work, so the counts are about the network, not the processor.
"""

from __future__ import annotations

import boto3
import pytest

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.engine import Engine
from tests.fixtures.engine import run_apply

LATENCY = 0.6

FRESH_WRITES = {
    "s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketTagging", "s3:PutObject",
    "iam:CreateGroup", "iam:CreatePolicy", "iam:AttachGroupPolicy", "iam:CreateUser",
    "iam:AddUserToGroup", "iam:CreateAccessKey",
}
#: The access key's record on the user: "create began" before the key, "stored" after it.
RECORD_WRITES = ["iam:TagUser", "iam:TagUser"]


@pytest.fixture
def slow_aws(faulty_aws, secret_store):
    faulty_aws.latency = LATENCY

    def ctx() -> RunContext:
        config = build_config({"bucket": "speed-builds", "create_bucket": True}).config
        made = RunContext(config, boto3.Session(region_name="us-east-1"), secrets=secret_store)
        # Clients are built first (the TUI does so while connecting), so that on a busy test
        # machine the processor's share cannot pass for a round trip.
        for service in ("sts", "iam", "s3"):
            made.client(service)
        made.client("iam", attempts=1)
        return made

    yield faulty_aws, ctx
    faulty_aws.latency = 0.0


def test_a_plan_asks_everything_at_once(slow_aws):
    proxy, ctx = slow_aws
    Engine(ctx()).plan()  # the first run on this machine: learns who the key belongs to
    proxy.clear_log()

    engine = Engine(ctx())
    plan = engine.plan()
    assert plan.ok
    # One round of overlapping requests (the proxy's timeline); seconds belong in the benchmarks.
    assert proxy.rounds() == 1, [c.operation for c in proxy.calls()]
    assert proxy.mutating() == []
    # The caller was known: no GetCallerIdentity at all (a key id belongs to one identity).
    assert "sts:GetCallerIdentity" not in [c.operation for c in proxy.calls()]


def test_without_a_known_caller_the_plan_takes_two_round_trips(slow_aws, monkeypatch,
                                                                tmp_path):
    proxy, ctx = slow_aws
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # nothing remembered
    plan = Engine(ctx()).plan()
    assert plan.ok and proxy.rounds() == 2  # who am I; then the policy's ARN needs the account


def test_a_fresh_apply_writes_exactly_the_tutorial_in_two_round_trips(slow_aws):
    proxy, ctx = slow_aws
    Engine(ctx()).plan()  # learn who the key belongs to
    proxy.clear_log()
    report = run_apply(ctx())
    assert report.ok
    writes = [c.operation for c in proxy.calls() if c.mutating]
    assert sorted(writes) == sorted([*FRESH_WRITES, *RECORD_WRITES])
    # One for the plan, two for the writes, and the key's record before and after the key:
    # those two wait on purpose (a kill in between must leave the record, see key_records).
    assert proxy.rounds() == 5, _timeline(proxy)
    reads = [c.operation for c in proxy.calls() if not c.mutating]
    assert len(reads) == len(set(reads)) + 1  # each question once (GetPolicy: both IAM paths)
    assert "sts:GetCallerIdentity" not in reads

    # A re-run also reads what exists (policy versions, the user's groups): two rounds. On a
    # loaded machine a thread can start its request more than LATENCY late once, which reads as
    # a third round; a real chain of reads shows on every run, so one more run decides.
    timelines = []
    for _ in range(2):
        proxy.clear_log()
        again = run_apply(ctx())
        assert again.ok and proxy.mutating() == []
        timelines.append(_timeline(proxy))
        if proxy.rounds() <= 2:
            break
    else:
        raise AssertionError("a re-run took three rounds twice:\n" + "\n\n".join(timelines))


def _timeline(proxy) -> str:
    """Each request's start and end, for a failure message."""
    calls = sorted(proxy.calls(), key=lambda c: c.started)
    first = calls[0].started if calls else 0.0
    return "\n".join(f"{c.started - first:6.2f}-{c.ended - first:6.2f} {c.operation}"
                     for c in calls)
