"""AWS failures become sentences naming what failed, the AWS code and what to do."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from wizard.config import SetupConfig
from wizard.context import RunContext
from wizard.errors import WizardError, explain
from wizard.steps.group_step import GroupStep


def test_access_denied_names_the_permission_to_ask_for():
    exc = ClientError({"Error": {"Code": "AccessDenied", "Message": "User: x is not authorized"}},
                      "CreateGroup")
    text = str(explain(exc, "creating group circleci_devops", "iam:CreateGroup"))
    assert text.startswith("AWS refused creating group circleci_devops: User: x is not authorized")
    assert "[AccessDenied]" in text and "iam:CreateGroup" in text


@pytest.mark.parametrize(("exc", "words"), [
    (NoCredentialsError(), "--sandbox"),
    (EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"), "network"),
])
def test_local_failures_say_what_to_do(exc, words):
    assert words in str(explain(exc, "planning"))


def test_a_step_turns_a_refusal_into_a_wizard_error(aws_session):
    ctx = RunContext(SetupConfig(bucket="b-1"), aws_session)
    stubber = Stubber(ctx.client("iam"))
    stubber.add_response("get_group", {"Group": {
        "Path": "/", "GroupName": "circleci_devops", "GroupId": "AGPAEXAMPLE0000000000",
        "Arn": "arn:aws:iam::123456789012:group/circleci_devops",
        "CreateDate": "2026-01-01T00:00:00Z"}, "Users": []})
    stubber.add_client_error("get_group", "NoSuchEntity", "no group")
    stubber.add_client_error("create_group", "LimitExceeded",
                             "Cannot exceed quota for GroupsPerAccount")
    with stubber:
        assert GroupStep().check(ctx).action.value == "exists"
        with pytest.raises(WizardError) as raised:
            GroupStep().apply(ctx)
    text = str(raised.value)
    assert "creating group circleci_devops" in text and "[LimitExceeded]" in text
    assert "quota" in text and "Traceback" not in text
