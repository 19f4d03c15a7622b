"""The wizard's IAM clients share one pool of kept-alive connections, and keep their retries.

Against a real endpoint a new connection costs a TCP and a TLS handshake (two round trips), so
the access key's create, sent by the IAM client that never retries, should not open a connection
of its own in the middle of the writes. Counted on the fault proxy with kept-alive connections
(what AWS does): which connection each request used, never how long it took.
"""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.aws import share_connections
from circleci_s3_wizard.wizard.context import RunContext
from tests.fixtures.engine import run_apply


@pytest.fixture
def kept_alive(faulty_aws, secret_store):
    """The proxy keeping connections open, and a fresh run's context on it."""
    faulty_aws.keep_alive = True

    def ctx() -> RunContext:
        config = build_config({"bucket": "pooled-builds", "create_bucket": True}).config
        return RunContext(config, boto3.Session(region_name="us-east-1"), secrets=secret_store)

    return faulty_aws, ctx


def test_the_iam_client_that_never_retries_sends_over_the_other_ones_connection(kept_alive):
    proxy, ctx = kept_alive
    run = ctx()
    iam, once = run.client("iam"), run.client("iam", attempts=1)
    assert once is not iam
    iam.create_user(UserName="pooled")
    once.create_access_key(UserName="pooled")
    iam.list_access_keys(UserName="pooled")
    assert [(c.operation, c.connection) for c in proxy.calls()] == [
        ("iam:CreateUser", 0), ("iam:CreateAccessKey", 0), ("iam:ListAccessKeys", 0)]
    assert [c.requests for c in proxy.connections()] == [3]


def test_sharing_the_connections_keeps_each_clients_retries(kept_alive):
    proxy, ctx = kept_alive
    run = ctx()
    iam, once = run.client("iam"), run.client("iam", attempts=1)
    proxy.fail("iam:GetAccountSummary", "lose_answer")
    with pytest.raises(ClientError):
        once.get_account_summary()
    assert proxy.count("iam:GetAccountSummary") == 1  # never retried
    proxy.fail("iam:GetAccountSummary", "lose_answer")
    iam.get_account_summary()  # lost once, retried, answered
    assert [c.outcome for c in proxy.calls("iam:GetAccountSummary")] == [
        "lose_answer", "lose_answer", "answered"]
    assert {c.connection for c in proxy.calls()} == {0}


def test_clients_of_different_endpoints_keep_their_own_pools(kept_alive):
    """On AWS each service has its own host: a pool is only shared by clients of one."""
    proxy, _ = kept_alive
    here = boto3.client("iam", region_name="us-east-1", endpoint_url=proxy.endpoint)
    elsewhere = boto3.client("iam", region_name="us-east-1", endpoint_url="http://127.0.0.2:9")
    assert share_connections(elsewhere, here) is False
    assert elsewhere._endpoint.http_session is not here._endpoint.http_session
    assert share_connections(boto3.client("iam", region_name="us-east-1",
                                          endpoint_url=proxy.endpoint), here) is True


def test_an_apply_opens_no_connection_for_the_access_key(kept_alive):
    """The key's create goes out on a connection an earlier IAM request of the apply opened
    (through the client that retries), not on one of its own."""
    proxy, ctx = kept_alive
    assert run_apply(ctx()).ok
    calls = proxy.calls()
    [key] = [i for i, c in enumerate(calls) if c.operation == "iam:CreateAccessKey"]
    earlier = {c.connection for c in calls[:key] if c.service == "iam"}
    assert calls[key].connection in earlier
