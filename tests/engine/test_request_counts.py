"""What a run asks AWS, counted: which requests, how many, never how long.

A plan of a known caller asks no GetCallerIdentity and writes nothing; a fresh apply makes
exactly the ten writes the tutorial needs (plus the key's record before and after the key) and
asks each question once; a second apply writes nothing. How those requests overlap (sequential
rounds against a slow AWS) and how long they take are wall-clock figures, so they live in the
benchmark (tests/benchmarks/bench_apply.py reports requests, writes, most in flight and rounds
per latency), not in a test that a loaded machine could fail.
"""

from __future__ import annotations

import boto3
import pytest

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.engine import Engine
from tests.fixtures.engine import run_apply

FRESH_WRITES = {
    "s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketTagging", "s3:PutObject",
    "iam:CreateGroup", "iam:CreatePolicy", "iam:AttachGroupPolicy", "iam:CreateUser",
    "iam:AddUserToGroup", "iam:CreateAccessKey",
}
#: The access key's record on the user: "create began" before the key, "stored" after it.
RECORD_WRITES = ["iam:TagUser", "iam:TagUser"]


@pytest.fixture
def counted_aws(faulty_aws, secret_store):

    def ctx() -> RunContext:
        config = build_config({"bucket": "speed-builds", "create_bucket": True}).config
        return RunContext(config, boto3.Session(region_name="us-east-1"), secrets=secret_store)

    return faulty_aws, ctx


def test_a_plan_of_a_known_caller_only_reads_and_asks_no_identity(counted_aws):
    proxy, ctx = counted_aws
    Engine(ctx()).plan()  # the first run on this machine: learns who the key belongs to
    proxy.clear_log()

    plan = Engine(ctx()).plan()
    assert plan.ok
    assert proxy.mutating() == []
    reads = [c.operation for c in proxy.calls()]
    # The caller was known: no GetCallerIdentity at all (a key id belongs to one identity).
    assert "sts:GetCallerIdentity" not in reads
    assert len(reads) == len(set(reads)) + 1  # each question once (GetPolicy: both IAM paths)


def test_without_a_known_caller_the_plan_asks_who_it_is_once(counted_aws, monkeypatch,
                                                              tmp_path):
    proxy, ctx = counted_aws
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))  # nothing remembered
    plan = Engine(ctx()).plan()
    assert plan.ok
    assert [c.operation for c in proxy.calls()].count("sts:GetCallerIdentity") == 1


def test_a_fresh_apply_writes_exactly_the_tutorial_and_a_second_writes_nothing(counted_aws):
    proxy, ctx = counted_aws
    Engine(ctx()).plan()  # learn who the key belongs to
    proxy.clear_log()
    report = run_apply(ctx())
    assert report.ok
    writes = [c.operation for c in proxy.calls() if c.mutating]
    assert sorted(writes) == sorted([*FRESH_WRITES, *RECORD_WRITES])
    reads = [c.operation for c in proxy.calls() if not c.mutating]
    assert len(reads) == len(set(reads)) + 1  # each question once (GetPolicy: both IAM paths)
    assert "sts:GetCallerIdentity" not in reads

    proxy.clear_log()
    again = run_apply(ctx())
    assert again.ok and proxy.mutating() == []


def test_the_buckets_result_says_its_writes_in_one_order_whichever_answers_first(counted_aws):
    """Block Public Access and the tag are written at once; a slow answer to the first used to
    put it second in the sentence, so the page (and a snapshot of it) changed with the load."""
    proxy, ctx = counted_aws
    proxy.fail("s3:PutPublicAccessBlock", "late", delay=1.0)
    report = run_apply(ctx())
    assert report.ok
    (bucket,) = [r for r in report.results if r.key == "bucket"]
    assert "Turned Block Public Access fully on. Tagged it managed-by=circleci-s3-wizard." \
        in bucket.detail
    order = [c.operation for c in sorted(proxy.calls(), key=lambda c: c.ended or 0)]
    assert order.index("s3:PutBucketTagging") < order.index("s3:PutPublicAccessBlock")
