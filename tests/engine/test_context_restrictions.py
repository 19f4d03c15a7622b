"""Context restrictions, through the client, against the stand-in.

Every request and answer is checked against CircleCI's API v2 document by the stand-in (the one
allowed exception, a 403 for non-admins on restriction writes, is checked for its shape), so these
tests also prove the client speaks the documented restriction API.
"""

from __future__ import annotations

import pytest

from circleci_s3_wizard.wizard.circleci.client import (
    EXPRESSION_RESTRICTION,
    PROJECT_RESTRICTION,
    ContextRestriction,
    branch_expression,
)
from circleci_s3_wizard.wizard.circleci.errors import CircleCIPermissionError, CircleCIRequestError

SLUG = "gh/acme/site"


@pytest.fixture
def project(circleci_standin):
    return circleci_standin.add_project(SLUG)


@pytest.fixture
def context_id(circleci_standin, project):
    return circleci_standin.add_context(project["organization_id"], "s3-deploy")


def test_a_project_and_a_branch_restriction_are_added_listed_and_deleted(
        circleci_standin, project, context_id):
    with circleci_standin.client() as client:
        by_project = client.add_context_restriction(context_id, PROJECT_RESTRICTION,
                                                    project["id"])
        by_branch = client.add_context_restriction(context_id, EXPRESSION_RESTRICTION,
                                              branch_expression("main"))
        listed = client.list_context_restrictions(context_id)
        assert client.delete_context_restriction(context_id, by_branch.id) is True
        assert client.delete_context_restriction(context_id, by_branch.id) is False
        left = client.list_context_restrictions(context_id)
    assert by_project == ContextRestriction(by_project.id, "project", project["id"], "site")
    assert by_project.project_id == project["id"]
    assert by_project.describe() == f"project site ({project['id']})"
    assert by_branch.type == "expression" and by_branch.project_id is None
    assert by_branch.value == 'pipeline.git.branch == "main"'
    assert listed == [by_project, by_branch]
    assert left == [by_project]
    assert [(r["type"], r["value"]) for r in circleci_standin.restrictions_of(context_id)] == [
        ("project", project["id"])]


def test_adding_a_restriction_again_returns_the_existing_one(
        circleci_standin, project, context_id):
    with circleci_standin.client() as client:
        first = client.add_context_restriction(context_id, PROJECT_RESTRICTION, project["id"])
        again = client.add_context_restriction(context_id, PROJECT_RESTRICTION, project["id"])
        branch = client.add_context_restriction(context_id, EXPRESSION_RESTRICTION,
                                              branch_expression("main"))
        branch_again = client.add_context_restriction(context_id, EXPRESSION_RESTRICTION,
                                              branch_expression("refs/heads/main"))
    assert again == first and branch_again == branch
    assert len(circleci_standin.restrictions_of(context_id)) == 2
    posts = [q for q in circleci_standin.requests if q[0] == "POST"]
    assert len(posts) == 4  # each re-add was refused with 409, then looked up


def test_a_non_admin_is_told_that_only_organisation_admins_restrict_contexts(
        circleci_standin, project, context_id):
    circleci_standin.org_admin = False
    with circleci_standin.client() as client:
        with pytest.raises(CircleCIPermissionError) as caught:
            client.add_context_restriction(context_id, PROJECT_RESTRICTION, project["id"])
        assert client.list_context_restrictions(context_id) == []  # reading is allowed
        with pytest.raises(CircleCIPermissionError) as deleting:
            client.delete_context_restriction(context_id, "1c23d2cb-07b1-4a28-8af3-e369732050ed")
    message = str(caught.value)
    assert f"refused to change the restrictions of context {context_id}" in message
    assert "not an organisation admin" in message and "[HTTP 403]" in message
    assert "Organization Settings > Contexts" in message
    assert "not an organisation admin" in str(deleting.value)
    assert circleci_standin.restrictions_of(context_id) == []


def test_a_project_of_another_organisation_is_refused_with_a_sentence(
        circleci_standin, project, context_id):
    stranger = circleci_standin.add_project("gh/other/thing")
    with circleci_standin.client() as client, pytest.raises(CircleCIRequestError) as caught:
        client.add_context_restriction(context_id, PROJECT_RESTRICTION, stranger["id"])
    message = str(caught.value)
    assert f"refused to restrict context {context_id} to project {stranger['id']}" in message
    assert "Project does not exist" in message
    assert "the context's own organisation" in message
    assert circleci_standin.restrictions_of(context_id) == []


def test_a_missing_context_is_not_found(circleci_standin, project):
    from circleci_s3_wizard.wizard.circleci.errors import CircleCINotFound

    missing = "3a1f9c2e-0000-4000-8000-000000000000"
    with circleci_standin.client() as client:
        with pytest.raises(CircleCINotFound):
            client.list_context_restrictions(missing)
        assert client.delete_context_restriction(missing, "x") is False


def test_branch_expressions_escape_what_circleci_escapes():
    assert branch_expression("main") == 'pipeline.git.branch == "main"'
    assert branch_expression("refs/heads/release/1.2") == 'pipeline.git.branch == "release/1.2"'
    assert branch_expression('a"b\\c') == 'pipeline.git.branch == "a\\"b\\\\c"'
    for bad in ("", "  ", "main\nor true"):
        with pytest.raises(ValueError, match="cannot be used in a context expression"):
            branch_expression(bad)


def test_an_escaped_branch_round_trips_through_the_api(circleci_standin, project, context_id):
    with circleci_standin.client() as client:
        made = client.add_context_restriction(context_id, EXPRESSION_RESTRICTION,
                                              branch_expression('team"x'))
    assert circleci_standin.restrictions_of(context_id)[0]["value"] == \
        'pipeline.git.branch == "team\\"x"' == made.value


def test_the_standin_allows_the_undocumented_403_only_where_stated(
        circleci_standin, project, context_id):
    circleci_standin.fail_next(403)  # on a read, which the allowance does not cover
    with circleci_standin.client() as client, pytest.raises(CircleCIPermissionError):
        client.list_context_restrictions(context_id)
    assert len(circleci_standin.violations) == 1
    assert "response 403 to GET" in circleci_standin.violations[0]
    assert "ResponseNotFound" in circleci_standin.violations[0]
    circleci_standin.violations.clear()
