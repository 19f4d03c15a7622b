"""The config.yml snippet: the orb's session parameters, the context the job must use, forks.

The snippet is parsed back with PyYAML, so a comment or value that broke the document would fail
here, and the assertions are on the parsed values and on the comment lines a user reads.
"""

from __future__ import annotations

import pytest
import yaml

from circleci_s3_wizard.wizard.circleci.config_snippet import config_yml
from circleci_s3_wizard.wizard.config import AuthMode, SetupConfig

ROLE_ARN = "arn:aws:iam::123456789012:role/circleci-s3-wizard/circleci_s3_builds"


def oidc(**changes):
    return SetupConfig(bucket="acme-builds", auth=AuthMode.OIDC,
                       region="eu-west-1").with_changes(**changes)


def comments(text: str) -> list[str]:
    return [line.strip().lstrip("#").strip() for line in text.splitlines()
            if line.strip().startswith("#")]


def test_oidc_setup_shows_the_role_session_name_and_duration():
    doc = yaml.safe_load(config_yml(oidc(), ROLE_ARN))
    assert doc["jobs"]["upload"]["steps"][1]["aws-cli/setup"] == {
        "role_arn": ROLE_ARN,
        "region": "eu-west-1",
        "role_session_name": "${CIRCLE_JOB}",
        "session_duration": "3600",
    }


def test_chosen_session_values_are_written_as_strings():
    text = config_yml(oidc(), ROLE_ARN, role_session_name="deploy-${CIRCLE_BUILD_NUM}",
                      session_duration=5400, max_session_duration=7200)
    setup = yaml.safe_load(text)["jobs"]["upload"]["steps"][1]["aws-cli/setup"]
    assert setup["role_session_name"] == "deploy-${CIRCLE_BUILD_NUM}"
    assert setup["session_duration"] == "5400"


def test_a_duration_above_the_role_maximum_is_refused_with_both_numbers():
    with pytest.raises(ValueError, match="7200 seconds is longer than the role's "
                                         "MaxSessionDuration of 3600"):
        config_yml(oidc(), ROLE_ARN, session_duration=7200)
    with pytest.raises(ValueError, match="only letters, digits"):
        config_yml(oidc(), ROLE_ARN, role_session_name="deploy site")


def test_oidc_with_a_context_names_the_context_the_job_must_use():
    text = config_yml(oidc(circleci_context="s3-deploy"), ROLE_ARN)
    assert yaml.safe_load(text)["workflows"]["deploy"]["jobs"] == [
        {"upload": {"context": "s3-deploy"}}]
    notes = " ".join(comments(text))
    assert 'The job must use context "s3-deploy"' in notes
    assert "OIDC tokens ($CIRCLE_OIDC_TOKEN_V2) only to jobs that use a context" in notes


def test_oidc_without_a_context_says_the_job_needs_one():
    text = config_yml(oidc(), ROLE_ARN)
    assert yaml.safe_load(text)["workflows"]["deploy"]["jobs"] == ["upload"]
    notes = " ".join(comments(text))
    assert "No context chosen: give this job one" in notes
    assert "only to jobs that use a context" in notes


@pytest.mark.parametrize("auth, risk", [
    (AuthMode.OIDC, "forks get OIDC tokens for this project too"),
    (AuthMode.KEYS, "a fork's code can read the AWS key"),
])
def test_both_modes_warn_about_forked_pull_requests(auth, risk):
    notes = " ".join(comments(config_yml(oidc(auth=auth), ROLE_ARN)))
    assert '"Pass secrets to builds from forked pull requests" off' in notes
    assert "(Project Settings > Advanced)" in notes and risk in notes


def test_keys_mode_has_no_session_parameters_and_no_context_demand():
    text = config_yml(oidc(auth=AuthMode.KEYS), ROLE_ARN)
    setup = yaml.safe_load(text)["jobs"]["upload"]["steps"][1]["aws-cli/setup"]
    assert set(setup) == {"aws_access_key_id", "aws_secret_access_key", "region"}
    assert "context" not in " ".join(comments(text)).replace("Advanced", "")


def test_odd_names_cannot_break_the_document():
    odd = 'ops "prod"\nkey: injected'
    text = config_yml(oidc(circleci_context=odd, circleci_branch='rel"1'), ROLE_ARN)
    doc = yaml.safe_load(text)
    assert doc["workflows"]["deploy"]["jobs"] == [
        {"upload": {"context": odd, "filters": {"branches": {"only": 'rel"1'}}}}]
    assert "key" not in doc and "injected" not in doc["workflows"]["deploy"]
    keys_text = config_yml(oidc(auth=AuthMode.KEYS, circleci_context=odd))
    assert yaml.safe_load(keys_text)["version"] == 2.1


def test_the_setups_session_duration_is_the_snippets_unless_given():
    config = oidc(session_duration=5400)
    text = config_yml(config, ROLE_ARN, max_session_duration=7200)
    setup = yaml.safe_load(text)["jobs"]["upload"]["steps"][1]["aws-cli/setup"]
    assert setup["session_duration"] == "5400"
    with pytest.raises(ValueError, match="5400 seconds is longer than the role's "
                                         "MaxSessionDuration of 3600"):
        config_yml(config, ROLE_ARN)
