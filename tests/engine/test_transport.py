"""CircleCI over the wire: never a secret in clear text, never a token to another host.

Issue #14 item 9. ``CIRCLE_HOST=http://<any host>`` used to be accepted, so the CircleCI token
(and, in keys mode, the AWS secret key delivered to CircleCI) crossed the network in clear text;
``https://CircleCI.com:443/`` was taken for a server install. The wire is watched with a small
recording HTTP proxy: a plain-HTTP request to a non-loopback host goes through ``HTTP_PROXY``
(httpx honours it), so whatever the wizard would have sent shows in the proxy's record.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from werkzeug.serving import make_server

from circleci_s3_wizard.wizard.answers import BadAnswers, build_config
from circleci_s3_wizard.wizard.circleci.client import (
    CircleCIClient,
    _token_auth,
    keyring_token_name,
)
from circleci_s3_wizard.wizard.circleci.errors import CircleCIInsecureHost, CircleCIRedirected
from circleci_s3_wizard.wizard.circleci.hosts import canonical, is_cloud, transport_problem
from circleci_s3_wizard.wizard.circleci.oidc import issuer_host_for, project_trust_policy
from circleci_s3_wizard.wizard.config import IAM_PATH
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.engine import Engine

TOKEN = "cci-transport-token-0123456789abcdef"
ORG = "0f1b8e6c-8d0c-4bd3-9df2-2f4f3c9d1a11"
PROJECT = "6a1b2c3d-4e5f-4789-abcd-ef0123456789"
BUCKET = "acme-transport-builds"
FAR_HOST = "http://circleci.example.test"


class Recorder:
    """A loopback HTTP server that keeps every request it gets (method, URL, headers)."""

    def __init__(self, status: int = 502, headers: dict[str, str] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = status
        self.headers = headers or {}
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def _app(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        url = environ.get("REQUEST_URI") or environ.get("RAW_URI") or environ.get("PATH_INFO")
        self.requests.append({
            "method": environ["REQUEST_METHOD"], "url": url,
            "headers": {k[5:].replace("_", "-").lower(): v for k, v in environ.items()
                        if k.startswith("HTTP_")}})
        start_response(f"{self.status} Recorded", [*self.headers.items(),
                                                   ("Content-Length", "0")])
        return [b""]

    def tokens_seen(self) -> list[str]:
        return [r["headers"]["circle-token"] for r in self.requests
                if "circle-token" in r["headers"]]

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    yield server
    server.stop()


# -- the rules -----------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [
    "http://circleci.example.test", "http://circleci.com", "HTTP://circleci.example.test:80/",
    "http://10.0.0.5:8080", "http://127.0.0.1.nip.io", "http://localhost.example.com",
    "http://[2001:db8::1]/",
])
def test_plain_http_to_another_machine_is_refused(host):
    why = transport_problem(host)
    assert why is not None and why.startswith("must start with https://"), why
    assert "this machine" in why


@pytest.mark.parametrize("host", [
    "https://circleci.example.test", "http://127.0.0.1:8080", "http://127.9.9.9",
    "http://localhost:3000", "http://LOCALHOST", "http://[::1]:8080", "https://circleci.com",
])
def test_https_or_this_machine_is_allowed(host):
    assert transport_problem(host) is None


@pytest.mark.parametrize("host", [
    "https://circleci.com", "https://CircleCI.com:443/", "https://www.circleci.com",
    "https://app.circleci.com/", "HTTPS://APP.CIRCLECI.COM:443", " https://circleci.com// ", None,
])
def test_circleci_cloud_is_recognised_however_spelled(host):
    assert is_cloud(host)
    assert canonical(host) == "https://circleci.com"
    assert issuer_host_for(host) == "oidc.circleci.com"
    assert keyring_token_name(host or "https://circleci.com") == "circleci-token:circleci.com"


@pytest.mark.parametrize("host", ["https://circleci.example.internal",
                                  "https://circleci.com.example.net", "https://circleci.com:8443"])
def test_other_hosts_are_not_cloud(host):
    assert not is_cloud(host)
    assert issuer_host_for(host) != "oidc.circleci.com"


def test_a_server_install_issuer_is_its_host_in_lower_case():
    assert issuer_host_for("https://CircleCI.Example.Internal:443/") == "circleci.example.internal"


def test_the_answers_refuse_plain_http_circle_host_naming_it():
    with pytest.raises(BadAnswers) as bad:
        build_config({"bucket": BUCKET}, environ={"CIRCLE_HOST": FAR_HOST})
    assert bad.value.for_cli().startswith("CIRCLE_HOST: must start with https:// unless it is "
                                          "this machine")
    build_config({"bucket": BUCKET}, environ={"CIRCLE_HOST": "http://127.0.0.1:9"})


def test_the_client_refuses_plain_http_before_any_connection(recorder, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    monkeypatch.setenv("NO_PROXY", "")
    with pytest.raises(CircleCIInsecureHost) as refused:
        CircleCIClient(TOKEN, FAR_HOST)
    assert "CIRCLE_HOST must start with https://" in str(refused.value)
    assert TOKEN not in str(refused.value)
    assert recorder.requests == []


# -- the wire ------------------------------------------------------------------------------------


def test_the_recording_proxy_sees_what_a_plain_http_client_sends(recorder, monkeypatch):
    """The control: without the rule, the token would show in the proxy's record."""
    monkeypatch.setenv("HTTP_PROXY", recorder.url)
    monkeypatch.setenv("NO_PROXY", "")
    with httpx.Client(auth=_token_auth(TOKEN)) as client:
        client.get(f"{FAR_HOST}/api/v2/me")
    assert recorder.tokens_seen() == [TOKEN]
    assert recorder.requests[0]["url"] == f"{FAR_HOST}/api/v2/me"


@pytest.mark.parametrize("command", [
    ("plan", "--bucket", BUCKET, "--create-bucket", "--circleci-project", "gh/acme/site"),
    ("apply", "--yes", "--bucket", BUCKET, "--create-bucket", "--circleci-project",
     "gh/acme/site"),
    ("verify", "--bucket", BUCKET, "--circleci-project", "gh/acme/site"),
])
def test_plain_http_circle_host_sends_nothing_over_the_wire(command, recorder, wizard_cli,
                                                             faulty_aws):
    """The real command, its proxy pointing at the recorder: exit 2 naming CIRCLE_HOST and the
    rule, nothing crossed to CircleCI (the recorder), nothing asked of AWS."""
    env = wizard_cli.env(CIRCLE_TOKEN=TOKEN, CIRCLE_HOST=FAR_HOST, HTTP_PROXY=recorder.url,
                         http_proxy=recorder.url, NO_PROXY="127.0.0.1,localhost",
                         no_proxy="127.0.0.1,localhost")
    run = wizard_cli.run(*command, env=env)
    assert run.code == 2, run.text
    assert run.err.startswith("circleci-s3-wizard: error: CIRCLE_HOST: must start with https:// "
                              "unless it is this machine"), run.err
    assert TOKEN not in run.text
    assert recorder.requests == [], "nothing may cross the wire in clear text"
    assert faulty_aws.calls() == []


# -- redirects -----------------------------------------------------------------------------------


@pytest.fixture
def redirecting(recorder) -> Iterator[tuple[Recorder, Recorder]]:
    """A CircleCI address answering every request with a redirect to another host (the
    recorder, as ``localhost``: another origin)."""
    elsewhere = f"http://localhost:{recorder.port}/api/v2/me"
    sender = Recorder(status=302, headers={"Location": elsewhere})
    yield sender, recorder
    sender.stop()


def test_httpx_following_a_redirect_would_carry_the_token_elsewhere(redirecting):
    """The control: httpx keeps a custom header across origins (only Authorization is dropped),
    so following redirects would hand the token to whatever host the Location names."""
    sender, elsewhere = redirecting
    with httpx.Client(auth=_token_auth(TOKEN), follow_redirects=True) as client:
        client.get(f"{sender.url}/api/v2/me")
    assert elsewhere.tokens_seen() == [TOKEN]


def test_a_redirect_is_a_sentence_and_the_token_goes_nowhere_else(redirecting):
    sender, elsewhere = redirecting
    with CircleCIClient(TOKEN, sender.url, sleep=lambda _: None) as client, \
            pytest.raises(CircleCIRedirected) as moved:
        client.whoami()
    message = str(moved.value)
    assert "with a redirect (302) to http://localhost" in message
    assert "does not follow redirects" in message and "Check CIRCLE_HOST" in message
    assert TOKEN not in message
    assert len(sender.requests) == 1, "a redirect is not retried"
    assert elsewhere.requests == []


def test_a_redirect_from_circleci_fails_the_command_with_a_sentence(redirecting, wizard_cli,
                                                                   faulty_aws):
    sender, elsewhere = redirecting
    env = wizard_cli.env(CIRCLE_TOKEN=TOKEN, CIRCLE_HOST=sender.url)
    run = wizard_cli.run("plan", "--bucket", BUCKET, "--create-bucket", "--circleci-project",
                         "gh/acme/site", env=env)
    assert run.code == 1, run.text
    assert "with a redirect (302)" in run.text and "Check CIRCLE_HOST" in run.text
    assert "Unexpected error" not in run.text and "Traceback" not in run.text
    assert TOKEN not in run.text
    assert elsewhere.requests == []
    assert faulty_aws.mutating() == []


# -- cloud however spelled, in the trust IAM gets ------------------------------------------------


@pytest.mark.parametrize("spelling", ["https://CircleCI.com:443/", "https://www.circleci.com"])
def test_a_cloud_spelling_keeps_the_project_id_key_and_the_cloud_issuer(spelling, aws_session,
                                                                        monkeypatch):
    monkeypatch.setenv("CIRCLE_HOST", spelling)
    answers = {"bucket": BUCKET, "auth": "oidc", "region": "us-east-1",
               "circleci_projects": [f"circleci/{ORG}/{PROJECT}"],
               "role_name": "transport_role", "policy_name": "transport_policy"}
    ctx = RunContext(build_config(answers).config, aws_session)
    engine = Engine(ctx)
    for key in ("policy", "oidc_provider", "oidc_role"):
        engine.apply_step(engine.plan_step(key))
    iam = ctx.client("iam")
    arn = ctx.iam_arn("oidc-provider", f"oidc.circleci.com/org/{ORG}")
    provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["Url"].removeprefix("https://") == f"oidc.circleci.com/org/{ORG}"
    role = iam.get_role(RoleName="transport_role")["Role"]
    assert role["Path"] == IAM_PATH
    doc = role["AssumeRolePolicyDocument"]
    assert doc == project_trust_policy(arn, ORG, [PROJECT])
    equals = doc["Statement"][0]["Condition"]["StringEquals"]
    assert f"oidc.circleci.com/org/{ORG}:oidc.circleci.com/project-id" in equals
