"""The aws-cli orb's session parameters, checked before STS refuses them when the job runs.

STS answers a ``DurationSeconds`` above the role's MaxSessionDuration with a ValidationError at
run time, in the CircleCI job's log; these checks say it while the user can still change it.
"""

from __future__ import annotations

import pytest

from circleci_s3_wizard.wizard.circleci.oidc import (
    DEFAULT_ROLE_SESSION_NAME,
    DEFAULT_SESSION_DURATION,
    check_role_session_name,
    check_session_duration,
)


def test_the_orb_defaults_pass():
    assert check_session_duration(DEFAULT_SESSION_DURATION) == 3600
    assert check_role_session_name(DEFAULT_ROLE_SESSION_NAME) == "${CIRCLE_JOB}"


@pytest.mark.parametrize("given, maximum, expected", [
    (900, 3600, 900), ("1800", 3600, 1800), (" 3600 ", 3600, 3600), (43200, 43200, 43200),
])
def test_durations_within_the_role_maximum_pass(given, maximum, expected):
    assert check_session_duration(given, maximum) == expected


def test_a_duration_above_the_role_maximum_names_both_numbers():
    with pytest.raises(ValueError) as caught:
        check_session_duration(7200, 3600)
    message = str(caught.value)
    assert "7200" in message and "3600" in message
    assert "MaxSessionDuration" in message and "ValidationError" in message


def test_durations_outside_what_sts_allows_are_refused():
    with pytest.raises(ValueError, match="shorter than the 900 seconds"):
        check_session_duration(600)
    with pytest.raises(ValueError, match="longer than the role's MaxSessionDuration of 43200"):
        check_session_duration(43201, 43200)
    with pytest.raises(ValueError, match="between 3600 and 43200 seconds, not 50000"):
        check_session_duration(3600, 50000)
    with pytest.raises(ValueError, match="between 3600 and 43200 seconds, not 900"):
        check_session_duration(900, 900)


@pytest.mark.parametrize("bad", ["1h", "", "${SESSION}", "-5", True, "3600.5"])
def test_a_duration_that_is_not_seconds_is_refused(bad):
    with pytest.raises(ValueError, match="number of seconds"):
        check_session_duration(bad)


@pytest.mark.parametrize("name", ["deploy", "ci-${CIRCLE_BUILD_NUM}", "$CIRCLE_JOB",
                                  "a+b=c,d.e@f_g-h", "x" * 64])
def test_session_names_sts_accepts_pass(name):
    assert check_role_session_name(name) == name


@pytest.mark.parametrize("name, reason", [
    ("deploy site", "only letters, digits"), ("déploi", "only letters, digits"),
    ("a/b", "only letters, digits"), ("x", "2 to 64"), ("x" * 65, "2 to 64"),
    ("", "2 to 64"),
])
def test_session_names_the_orb_would_rewrite_are_refused(name, reason):
    with pytest.raises(ValueError, match=reason):
        check_role_session_name(name)
