"""The CircleCI client against the stand-in: every method, bounded retries, operator sentences.

Every request and answer here is checked against CircleCI's API v2 document by the stand-in, so a
passing test also proves the client speaks the documented API.
"""

from __future__ import annotations

import logging
import socket

import httpx
import pytest

from circleci_s3_wizard.wizard.circleci.client import (
    CircleCIClient,
    MaskedEnvVar,
    keyring_token_name,
    parse_slug,
)
from circleci_s3_wizard.wizard.circleci.errors import (
    CircleCIAuthError,
    CircleCINetworkError,
    CircleCINotFound,
    CircleCIPermissionError,
    CircleCIRateLimited,
    CircleCIServerError,
    CircleCISlugError,
)

SLUG = "gh/acme/site"


@pytest.fixture
def project(circleci_standin):
    return circleci_standin.add_project(SLUG)


def test_get_project_returns_the_ids_oidc_needs(circleci_standin, project):
    with circleci_standin.client() as client:
        got = client.get_project(SLUG)
        again = client.get_project(SLUG)
    assert got.id == project["id"]
    assert got.organization_id == project["organization_id"]
    assert got.slug == SLUG and got.name == "site"
    assert got.vcs_url == "https://github.com/acme/site"
    assert again is got
    # The project is asked once: its ids never change.
    assert circleci_standin.requests == [("GET", "/api/v2/project/gh/acme/site")]


def test_whoami_checks_a_token(circleci_standin):
    with circleci_standin.client() as client:
        assert client.whoami() == "wizard-tester"
    with circleci_standin.client(token="cci-wrong") as client, pytest.raises(CircleCIAuthError):
        client.whoami()


def test_slug_goes_into_the_path_as_it_is(circleci_standin):
    org, proj = "0f1b8e6c-8d0c-4bd3-9df2-2f4f3c9d1a11", "6a1b2c3d-4e5f-4789-abcd-ef0123456789"
    slug = f"circleci/{org}/{proj}"
    circleci_standin.add_project(slug)
    with circleci_standin.client() as client:
        got = client.get_project(slug)
    assert (got.organization_id, got.id) == (org, proj)
    assert circleci_standin.requests == [("GET", f"/api/v2/project/{slug}")]


def test_project_variables_are_set_read_back_masked_and_deleted(circleci_standin, project):
    with circleci_standin.client() as client:
        echoed = client.set_project_envvar(SLUG, "AWS_REGION", "eu-west-1")
        client.set_project_envvar(SLUG, "AWS_SECRET_ACCESS_KEY", "s3cr3t/value+WXYZ")
        listed = client.list_project_envvars(SLUG)
        assert client.delete_project_envvar(SLUG, "AWS_REGION") is True
        assert client.delete_project_envvar(SLUG, "AWS_REGION") is False
    assert echoed == MaskedEnvVar("AWS_REGION", "xxxxst-1")
    assert {v.name: v.masked for v in listed} == {
        "AWS_REGION": "xxxxst-1",
        "AWS_SECRET_ACCESS_KEY": "xxxxWXYZ",
    }
    assert listed[1].last_four == "WXYZ"
    assert circleci_standin.env(SLUG) == {"AWS_SECRET_ACCESS_KEY": "s3cr3t/value+WXYZ"}


def test_contexts_are_paged_created_found_and_deleted(circleci_standin, project):
    org = project["organization_id"]
    circleci_standin.page_size = 2
    for name in ("a", "b", "c", "d"):
        circleci_standin.add_context(org, name)
    circleci_standin.add_context("3a1f9c2e-0000-4000-8000-000000000000", "deploy")
    with circleci_standin.client() as client:
        assert client.find_context(org, "deploy") is None  # another org's context
        created = client.create_context(org, "deploy")
        found = client.find_context(org, "deploy")
        assert [c.name for c in client.list_contexts(org)] == ["a", "b", "c", "d", "deploy"]
        client.set_context_envvar(created.id, "AWS_ROLE_ARN", "arn:aws:iam::1:role/x")
        client.set_context_envvar(created.id, "AWS_REGION", "us-east-1")
        client.set_context_envvar(created.id, "AWS_DEFAULT_REGION", "us-east-1")
        names = client.list_context_envvars(created.id)
        assert client.delete_context_envvar(created.id, "AWS_REGION") is True
        assert client.delete_context_envvar(created.id, "AWS_REGION") is False
        assert client.delete_context(created.id) is True
        assert client.delete_context(created.id) is False
    assert found == created
    assert names == ["AWS_ROLE_ARN", "AWS_REGION", "AWS_DEFAULT_REGION"]
    listing = [q for q in circleci_standin.requests if q == ("GET", "/api/v2/context")]
    assert len(listing) >= 3 * 2  # three pages per listing: pagination is followed
    assert created.id not in circleci_standin.contexts
    assert circleci_standin.context_named("deploy")["owner_id"] != org  # the other org's stays


def test_429_waits_as_long_as_retry_after_says(circleci_standin, project):
    waits: list[float] = []
    circleci_standin.fail_next(429, times=2, retry_after=2)
    with circleci_standin.client(sleep=waits.append, max_retry_wait=30) as client:
        assert client.get_project(SLUG).id == project["id"]
    assert waits == [2.0, 2.0]
    assert len(circleci_standin.requests) == 3


def test_429_wait_is_capped(circleci_standin, project):
    waits: list[float] = []
    circleci_standin.fail_next(429, retry_after=3600)
    with circleci_standin.client(sleep=waits.append, max_retry_wait=5) as client:
        client.get_project(SLUG)
    assert waits == [5.0]


def test_429_gives_up_after_bounded_attempts(circleci_standin, project):
    circleci_standin.fail_next(429, times=5, retry_after=1)
    with circleci_standin.client() as client, pytest.raises(CircleCIRateLimited) as caught:
        client.get_project(SLUG)
    assert len(circleci_standin.requests) == 3
    assert "rate-limiting" in str(caught.value) and "Wait a minute" in str(caught.value)


def test_5xx_is_retried_then_succeeds(circleci_standin, project):
    waits: list[float] = []
    circleci_standin.fail_next(500, times=2)
    with circleci_standin.client(sleep=waits.append, backoff=0.25) as client:
        assert client.list_project_envvars(SLUG) == []
    assert waits == [0.25, 0.5]


def test_5xx_gives_up_with_a_sentence(circleci_standin, project):
    circleci_standin.fail_next(500, times=3)
    with circleci_standin.client() as client, pytest.raises(CircleCIServerError) as caught:
        client.get_project(SLUG)
    message = str(caught.value)
    assert len(circleci_standin.requests) == 3
    assert "server error" in message and "status.circleci.com" in message
    assert "HTTP 500" in message


def test_creating_a_context_is_not_repeated_after_a_server_error(circleci_standin, project):
    circleci_standin.fail_next(500)
    with circleci_standin.client() as client, pytest.raises(CircleCIServerError):
        client.create_context(project["organization_id"], "deploy")
    assert circleci_standin.requests == [("POST", "/api/v2/context")]
    assert circleci_standin.context_named("deploy") is None


def test_401_says_how_to_make_a_token_and_never_shows_it(circleci_standin, project, caplog):
    bad = "cci-invalid-0123456789abcdef"
    caplog.set_level(logging.DEBUG)
    client = circleci_standin.client(token=bad)
    with client, pytest.raises(CircleCIAuthError) as caught:
        client.get_project(SLUG)
    message = str(caught.value)
    assert "invalid or has expired" in message
    assert "User Settings > Personal API Tokens" in message and "CIRCLE_TOKEN" in message
    for text in (message, repr(caught.value), repr(client), repr(client._http.auth), caplog.text):
        assert bad not in text
    assert bad not in str(dict(client._http.headers))


def test_403_names_what_the_token_cannot_reach(circleci_standin, project):
    circleci_standin.fail_next(403)
    with circleci_standin.client() as client, pytest.raises(CircleCIPermissionError) as caught:
        client.set_project_envvar(SLUG, "AWS_REGION", "us-east-1")
    assert "no access to variable AWS_REGION of project gh/acme/site" in str(caught.value)
    assert circleci_standin.env(SLUG) == {}


def test_404_project_explains_the_slug(circleci_standin):
    with circleci_standin.client() as client, pytest.raises(CircleCINotFound) as caught:
        client.get_project("gh/acme/nope")
    message = str(caught.value)
    assert "no project gh/acme/nope" in message
    assert "gh/my-org/my-repo" in message and "followed" in message


def test_network_failure_is_a_sentence_and_bounded(circleci_standin):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    waits: list[float] = []
    token = "cci-network-test-token-value"
    client = CircleCIClient(token, f"http://127.0.0.1:{port}", sleep=waits.append)
    with client, pytest.raises(CircleCINetworkError) as caught:
        client.get_project(SLUG)
    message = str(caught.value)
    assert f"Could not reach CircleCI at http://127.0.0.1:{port}" in message
    assert "ConnectError" in message and "CIRCLE_HOST" in message
    assert token not in message and caught.value.__cause__ is None
    assert len(waits) == 2  # three attempts in all


def test_token_never_reaches_logs_in_a_whole_session(circleci_standin, project, caplog):
    caplog.set_level(logging.DEBUG)
    with circleci_standin.client() as client:
        client.get_project(SLUG)
        client.set_project_envvar(SLUG, "AWS_REGION", "us-east-1")
        client.list_project_envvars(SLUG)
    assert caplog.records, "httpx logs its requests; the test must see them"
    assert circleci_standin.token not in caplog.text


def test_from_environment_reads_circle_token_and_host(monkeypatch, circleci_standin, project):
    monkeypatch.setenv("CIRCLE_TOKEN", circleci_standin.token)
    monkeypatch.setenv("CIRCLE_HOST", circleci_standin.url)
    client = CircleCIClient.from_environment()
    assert client is not None
    with client:
        assert client.host == circleci_standin.url
        assert client.get_project(SLUG).id == project["id"]


def test_from_environment_falls_back_to_the_keyring_then_to_none(circleci_standin, project):
    class Store:
        def __init__(self, tokens):
            self.tokens = tokens

        def load_token(self, name):
            return self.tokens.get(name)

    env = {"CIRCLE_HOST": circleci_standin.url}
    name = keyring_token_name(circleci_standin.url)
    assert name == f"circleci-token:{circleci_standin.url.removeprefix('http://')}"
    client = CircleCIClient.from_environment(Store({name: circleci_standin.token}), environ=env)
    assert client is not None
    with client:
        assert client.get_project(SLUG).id == project["id"]
    assert CircleCIClient.from_environment(Store({}), environ=env) is None
    assert CircleCIClient.from_environment(None, environ={}) is None
    assert keyring_token_name() == "circleci-token:circleci.com"


def test_a_bad_slug_is_refused_before_any_request(circleci_standin):
    with pytest.raises(CircleCISlugError) as caught:
        parse_slug("acme/site")
    assert "gh/my-org/my-repo" in str(caught.value)
    with circleci_standin.client() as client, pytest.raises(CircleCISlugError):
        client.list_project_envvars("gh/acme")
    assert circleci_standin.requests == []


# -- the stand-in's own guarantees --------------------------------------------------------------


def _raw(standin, method, path, **kwargs):
    headers = {"Circle-Token": standin.token}
    return httpx.request(method, f"{standin.url}/api/v2{path}", headers=headers, **kwargs)


def test_standin_catches_an_unknown_path(circleci_standin):
    answer = _raw(circleci_standin, "GET", "/project/gh/acme/site/secrets")
    assert answer.status_code == 404
    assert len(circleci_standin.violations) == 1
    assert "PathNotFound" in circleci_standin.violations[0]
    circleci_standin.violations.clear()


def test_standin_catches_an_unknown_method(circleci_standin):
    answer = _raw(circleci_standin, "PATCH", "/context")
    assert answer.status_code == 404
    assert "OperationNotFound" in circleci_standin.violations[0]
    circleci_standin.violations.clear()


def test_standin_catches_a_body_missing_a_required_field(circleci_standin, project):
    answer = _raw(circleci_standin, "POST", "/project/gh/acme/site/envvar",
                  json={"name": "AWS_REGION"})
    assert answer.status_code == 400
    assert "InvalidRequestBody" in circleci_standin.violations[0]
    assert "'value' is a required property" in circleci_standin.violations[0]
    assert circleci_standin.env(SLUG) == {}
    circleci_standin.violations.clear()


def test_standin_checks_its_own_answers_against_the_document(circleci_standin, project):
    broken = {k: v for k, v in project.items() if k != "organization_id"}
    problems = circleci_standin.validate_response("GET", "/api/v2/project/gh/acme/site", 200,
                                                  broken)
    assert problems and "organization_id" in problems[0]
    assert circleci_standin.validate_response("GET", "/api/v2/project/gh/acme/site", 200,
                                              project) == []


def test_standin_document_corrections_are_only_the_two_known_defects(circleci_standin):
    combinators = [c for c in circleci_standin.corrections if "combinator" in c]
    assert combinators == [
        "#/components/schemas/context_created/properties/owner: additionalProperties beside a "
        "combinator",
        "#/components/schemas/update_env_var: additionalProperties beside a combinator",
    ]
    others = [c for c in circleci_standin.corrections if "combinator" not in c]
    assert others and all(c.endswith("x-nullable -> nullable") for c in others)
