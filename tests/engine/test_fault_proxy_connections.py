"""The fault proxy charges a handshake per new connection, not per request, and counts them.

A WAN benchmark (``tests/benchmarks/bench_apply.py``) compares tools by what a real endpoint
would charge them: every request a round trip, every new connection two more (TCP + TLS). These
tests read the proxy's own records (its connection log and the handshake each request was
charged), not the wall clock, except for one ordering fact: a charged request reached the proxy
no sooner than its handshake after the connection was accepted.
"""

from __future__ import annotations

import http.client
import json
import urllib.request

import boto3
import pytest

from tests.fixtures.faults import FaultProxy, command_line_proxy

LATENCY, RTTS = 0.05, 2
HANDSHAKE = LATENCY * RTTS


@pytest.fixture
def wan(faulty_aws: FaultProxy) -> FaultProxy:
    """The shared proxy as a real endpoint: kept-alive connections, a per-request latency and
    a two-round-trip handshake (the ``faulty_aws`` fixture resets all three afterwards)."""
    faulty_aws.latency, faulty_aws.handshake_rtts, faulty_aws.keep_alive = LATENCY, RTTS, True
    return faulty_aws


def _get(connection: http.client.HTTPConnection) -> None:
    """One anonymous ``GET /`` (S3's ListBuckets to the proxy), read to its end so the
    connection can carry the next request."""
    connection.request("GET", "/")
    connection.getresponse().read()


def _open(proxy: FaultProxy) -> http.client.HTTPConnection:
    host, port = proxy.endpoint.removeprefix("http://").split(":")
    return http.client.HTTPConnection(host, int(port), timeout=10)


def test_two_requests_on_one_kept_alive_connection_pay_one_handshake(wan):
    connection = _open(wan)
    try:
        _get(connection)
        _get(connection)
    finally:
        connection.close()

    [opened] = wan.connections()
    assert (opened.requests, opened.handshake) == (2, pytest.approx(HANDSHAKE))
    first, second = wan.calls()
    assert (first.connection, second.connection) == (0, 0)
    assert (first.handshake, second.handshake) == (pytest.approx(HANDSHAKE), 0.0)
    assert first.started - opened.opened >= HANDSHAKE * 0.95  # waited, not only recorded


def test_two_connections_pay_a_handshake_each(wan):
    for _ in range(2):
        connection = _open(wan)
        try:
            _get(connection)
        finally:
            connection.close()

    opened = wan.connections()
    assert [(c.requests, c.handshake) for c in opened] == [(1, pytest.approx(HANDSHAKE))] * 2
    assert opened[0].peer != opened[1].peer
    assert [(c.connection, c.handshake) for c in wan.calls()] == [
        (0, pytest.approx(HANDSHAKE)), (1, pytest.approx(HANDSHAKE))]


def test_by_default_every_request_has_its_own_connection_and_it_costs_nothing(faulty_aws):
    """What every other test relies on: werkzeug's own behaviour, one answer per connection."""
    assert (faulty_aws.latency, faulty_aws.handshake_rtts, faulty_aws.keep_alive) == (
        0.0, 0.0, False)
    connection = _open(faulty_aws)
    try:
        _get(connection)
        _get(connection)  # http.client reconnects: the proxy answered "Connection: close"
    finally:
        connection.close()
    assert [(c.requests, c.handshake) for c in faulty_aws.connections()] == [(1, 0.0)] * 2
    assert [c.handshake for c in faulty_aws.calls()] == [0.0, 0.0]


def test_connections_are_counted_per_client_and_the_inspector_is_not(wan, inspector):
    """A botocore client keeps its connection alive between sequential calls; each client
    has its own pool, so two clients open two connections."""
    first = boto3.client("sts", region_name="us-east-1")
    second = boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIDSECOND",
                          aws_secret_access_key="second-not-a-secret")
    for _ in range(3):
        first.get_caller_identity()
    second.get_caller_identity()
    inspector().client("iam").list_users()

    assert [(c.key_id, c.requests) for c in wan.connections()] == [
        ("testing", 3), ("AKIDSECOND", 1)]
    assert [c.requests for c in wan.connections("AKID*")] == [1]
    assert sum(c.handshake for c in wan.calls()) == pytest.approx(2 * HANDSHAKE)


def test_a_cleared_log_counts_a_kept_alive_connection_again_without_a_new_handshake(wan):
    connection = _open(wan)
    try:
        _get(connection)
        wan.clear_log()
        assert wan.connections() == []
        _get(connection)
    finally:
        connection.close()
    assert [(c.requests, c.handshake) for c in wan.connections()] == [(1, 0.0)]


def test_reset_restores_the_default_handshake_and_closing(wan):
    wan.reset()
    assert (wan.handshake_rtts, wan.keep_alive) == (0.0, False)


def test_command_line_takes_keep_alive_and_handshake_rtts_and_serves_the_connections():
    """The options as ``python -m tests.fixtures.faults`` parses them (that it serves from a
    shell is ``test_fault_proxy``'s), and ``GET /fault-proxy/connections`` for other processes."""
    proxy, rules = command_line_proxy(["--latency", "0.02", "--keep-alive",
                                       "--handshake-rtts", "2"])
    assert rules == []
    with proxy:
        connection = _open(proxy)
        try:
            _get(connection)
            _get(connection)
        finally:
            connection.close()
        with urllib.request.urlopen(f"{proxy.endpoint}/fault-proxy/connections") as answer:
            log = json.load(answer)
    assert [(c["requests"], c["handshake"]) for c in log] == [(2, pytest.approx(0.04))]
