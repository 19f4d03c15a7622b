"""AWS failures become sentences naming what failed, the AWS code and what to do."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.errors import WizardError, explain


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
    from circleci_s3_wizard.wizard.answers import build_config
    from circleci_s3_wizard.wizard.engine import Engine
    from circleci_s3_wizard.wizard.model import Action

    ctx = RunContext(build_config({"bucket": "b-1"}).config, aws_session)
    stubber = Stubber(ctx.client("iam"))
    stubber.add_client_error("get_group", "NoSuchEntity", "no group")
    stubber.add_client_error("create_group", "LimitExceeded",
                             "Cannot exceed quota for GroupsPerAccount")
    with stubber:
        engine = Engine(ctx)
        plan = engine.plan_step("group")
        assert plan.action is Action.CREATE
        with pytest.raises(WizardError) as raised:
            engine.apply_step(plan)
    text = str(raised.value)
    assert "creating group circleci_devops" in text and "[LimitExceeded]" in text
    assert "quota" in text and "Traceback" not in text


def test_credentials_in_an_endpoint_never_reach_a_message():
    exc = EndpointConnectionError(endpoint_url="https://admin:hunter2@iam.example.com/")
    text = str(explain(exc, "planning"))
    assert "hunter2" not in text and "https://iam.example.com/" in text
    odd = RuntimeError("could not open https://bob:pa55@host.example/x")
    assert "pa55" not in str(explain(odd, "planning"))
