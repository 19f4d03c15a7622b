"""The one config builder: every entry point's answers are validated and normalised the same way.

A prefix without its slash must never reach a policy (``bucket/builds*`` also matches
``builds-secret/``), whatever the entry point; a malformed endpoint in the environment is bad
input naming the variable; the region comes from where boto3 would take it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circleci_s3_wizard.wizard.answers import (
    FIELDS,
    BadAnswers,
    answers_of,
    build_config,
    option_of,
)
from circleci_s3_wizard.wizard.config import AuthMode, SetupConfig
from circleci_s3_wizard.wizard.policy import build_policy

ENV: dict[str, str] = {}


def test_defaults_are_the_tutorials_names() -> None:
    built = build_config({"bucket": "devops-builds"}, environ=ENV)
    assert built.config == SetupConfig(bucket="devops-builds")
    assert built.warnings == ()


def test_the_prefix_always_ends_in_a_slash() -> None:
    for typed in ("builds", " builds ", "builds/", "a/b"):
        config = build_config({"bucket": "devops-builds", "prefix": typed}, environ=ENV).config
        assert config.prefix.endswith("/") and config.prefix.strip() == config.prefix


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,15}(/[a-z0-9]{1,8}){0,2}/?", fullmatch=True))
def test_no_typed_prefix_widens_the_policy(typed: str) -> None:
    config = build_config({"bucket": "devops-builds", "prefix": typed}, environ=ENV).config
    objects = build_policy(config.bucket, config.prefix)["Statement"][1]["Resource"]
    assert objects == f"arn:aws:s3:::devops-builds/{typed.rstrip('/')}/*"


def test_the_policy_builder_itself_refuses_a_prefix_without_its_slash() -> None:
    with pytest.raises(ValueError, match="ending in '/'"):
        build_policy("devops-builds", "builds")


def test_every_error_at_once_each_named_as_its_option() -> None:
    with pytest.raises(BadAnswers) as raised:
        build_config({"bucket": "Bad_Bucket", "prefix": "*", "user": "a b"}, environ=ENV)
    text = raised.value.for_cli()
    assert "--bucket: must be all lowercase" in text
    assert "--prefix: must not contain '*'" in text
    assert "--user: may contain only" in text


def test_region_comes_from_the_environment_and_is_checked_as_such() -> None:
    env = {"AWS_REGION": "eu-west-2"}
    assert build_config({"bucket": "devops-builds"}, environ=env).config.region == "eu-west-2"
    assert build_config({"bucket": "devops-builds"},
                        environ={"AWS_DEFAULT_REGION": "ca-central-1"}).config.region == \
        "ca-central-1"
    given_wins = build_config({"bucket": "devops-builds", "region": "us-west-2"}, environ=env)
    assert given_wins.config.region == "us-west-2"
    with pytest.raises(BadAnswers) as raised:
        build_config({"bucket": "devops-builds"}, environ={"AWS_REGION": "eu-west-2a"})
    assert raised.value.for_cli().startswith("AWS_REGION: 'eu-west-2a' is an availability zone")


@pytest.mark.parametrize(("variable", "value", "rule"), [
    ("AWS_ENDPOINT_URL", "localhost:4566", "must start with https://"),
    ("AWS_ENDPOINT_URL", "http://", "has no host name"),
    ("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:notaport", "is not a valid URL"),
    ("CIRCLE_HOST", "circleci.example.com", "must start with https://"),
])
def test_a_malformed_endpoint_in_the_environment_is_bad_input(variable, value, rule) -> None:
    with pytest.raises(BadAnswers) as raised:
        build_config({"bucket": "devops-builds"}, environ={variable: value})
    assert raised.value.for_cli().startswith(f"{variable}: {rule}")


def test_credentials_in_an_endpoint_are_never_echoed() -> None:
    with pytest.raises(BadAnswers) as raised:
        build_config({"bucket": "devops-builds"},
                     environ={"CIRCLE_HOST": "ftp://admin:hunter2@circle.example.com"})
    assert "hunter2" not in raised.value.for_cli()
    assert "ftp://circle.example.com" in raised.value.for_cli()


def test_projects_given_more_than_once_are_kept_in_order_without_repeats() -> None:
    config = build_config({"bucket": "devops-builds", "auth": "oidc",
                           "circleci_projects": ["gh/acme/a", "gh/acme/b", "gh/acme/a"]},
                          environ=ENV).config
    assert config.circleci_projects == ("gh/acme/a", "gh/acme/b")
    assert config.circleci_project == "gh/acme/a"
    assert config.auth is AuthMode.OIDC


def test_the_tui_may_start_without_a_bucket_but_the_cli_may_not() -> None:
    assert build_config({}, environ=ENV, bucket_required=False).config.bucket == ""
    with pytest.raises(BadAnswers, match="bucket"):
        build_config({}, environ=ENV)


def test_answers_round_trip_and_every_field_has_an_option_and_a_label() -> None:
    config = build_config({"bucket": "devops-builds", "prefix": "x"}, environ=ENV).config
    assert build_config(answers_of(config), environ=ENV).config == config
    assert set(FIELDS) == set(answers_of(config))


def test_every_answer_is_an_option_the_cli_parses_into_it_and_the_readme_names() -> None:
    """Checked against two things FIELDS does not decide: argparse (each option of ``apply``
    lands in the answer of that name) and the README's Command line section (the contract)."""
    import argparse
    from pathlib import Path

    from circleci_s3_wizard.wizard.cli import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    apply = commands.choices["apply"]
    dest_of = {s: a.dest for a in apply._actions for s in a.option_strings}
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    contract = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for name, field in FIELDS.items():
        assert field.label, name
        assert dest_of.get(option_of(name)) == name, f"{option_of(name)} does not set {name}"
        assert re.search(rf"{re.escape(field.option)}\b", contract), f"README lacks {field.option}"


def test_unknown_answers_are_a_programming_error() -> None:
    with pytest.raises(TypeError, match="not answers"):
        build_config({"bukket": "x"}, environ=ENV)


def test_the_session_duration_is_seconds_within_what_sts_allows() -> None:
    base = {"bucket": "devops-builds", "auth": "oidc", "circleci_projects": ["gh/a/b"]}
    assert build_config(base, environ=ENV).config.session_duration == 3600
    assert build_config({**base, "session_duration": " 7200 "},
                        environ=ENV).config.session_duration == 7200
    for bad, rule in (("1h", "whole number of seconds"), ("600", "between 900"),
                      ("50000", "43200")):
        with pytest.raises(BadAnswers) as caught:
            build_config({**base, "session_duration": bad}, environ=ENV)
        assert caught.value.for_cli().startswith("--session-duration: ")
        assert rule in caught.value.for_cli()
    keys = build_config({"bucket": "devops-builds", "session_duration": "7200"}, environ=ENV)
    assert keys.warning_lines() == ["--session-duration: is only used with OIDC (the job's role "
                                    "session); access keys do not expire"]


def test_the_context_branch_restriction_needs_a_context_and_a_branch() -> None:
    base = {"bucket": "devops-builds", "restrict_context_branch": True}
    with pytest.raises(BadAnswers) as caught:
        build_config({**base, "circleci_branch": "main"}, environ=ENV)
    assert caught.value.for_cli() == (
        "--restrict-context-branch: needs --circleci-context (the context to restrict) and "
        "--circleci-branch (the branch whose pipelines may use it)")
    built = build_config({**base, "circleci_branch": "main", "circleci_context": "deploy"},
                         environ=ENV)
    assert built.config.restrict_context_branch is True
    # With keys, the branch now means something: the context's restriction. No warning.
    assert built.warnings == ()
    plain = build_config({"bucket": "devops-builds", "circleci_branch": "main"}, environ=ENV)
    assert [p.field for p in plain.warnings] == ["circleci_branch"]
