"""Contexts restricted to the setup's projects, through the engine: moto, the keyring, the stand-in.

The stand-in checks every request and answer against CircleCI's API v2 document, so these also
prove the restriction calls are the documented ones. What is asserted is what CircleCI ends up
holding (restrictions, variables) and what the plan says before anything happens.
"""

from __future__ import annotations

import pytest

from circleci_s3_wizard.wizard.circleci.client import PROJECT_RESTRICTION
from circleci_s3_wizard.wizard.circleci.context_restrictions import RECORD_PREFIX, record_name
from circleci_s3_wizard.wizard.circleci.reads import CONTEXT_MARKER
from circleci_s3_wizard.wizard.config import AuthMode
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent
from circleci_s3_wizard.wizard.model import Action
from tests.fixtures.engine import actions, run_apply, run_destroy

APP, API, OTHER = "gh/acme/app", "gh/acme/api", "gh/acme/other"
MAIN = 'pipeline.git.branch == "main"'


@pytest.fixture
def org(circleci_standin):
    """Three projects of one organisation; returns {slug: project}."""
    first = circleci_standin.add_project(APP)
    org_id = first["organization_id"]
    return {APP: first, API: circleci_standin.add_project(API, org_id=org_id),
            OTHER: circleci_standin.add_project(OTHER, org_id=org_id)}


@pytest.fixture
def ci_ctx(make_ctx, circleci_standin, org):
    clients = []

    def make(*projects: str, **answers):
        ctx = make_ctx(circleci_projects=list(projects or (APP,)), **answers)
        ctx.circleci = circleci_standin.client()
        clients.append(ctx.circleci)
        return ctx

    yield make
    for client in clients:
        client.close()


def pairs(standin, cid):
    return sorted((r["type"], r["value"]) for r in standin.restrictions_of(cid))


def test_the_context_is_restricted_to_every_project_before_any_value_goes_in(
        ci_ctx, circleci_standin, org):
    answers = dict(auth=AuthMode.OIDC, circleci_context="s3-deploy", create_bucket=True)
    plan = Engine(ci_ctx(APP, API, **answers)).plan()
    step = plan.step("circleci")
    assert step.action is Action.CREATE
    assert "restricted first to project gh/acme/app" in step.detail
    assert step.differences == (
        f"+ restrict context s3-deploy to project {APP} ({org[APP]['id']})",
        f"+ restrict context s3-deploy to project {API} ({org[API]['id']})",
    )
    assert "POST /context/{id}/restrictions" in step.calls
    assert any("only organisation admins" in w for w in step.warnings)
    assert any("--restrict-context-branch" in w for w in step.warnings) is False

    run_apply(ci_ctx(APP, API, **answers))
    context = circleci_standin.context_named("s3-deploy")
    assert pairs(circleci_standin, context["id"]) == sorted(
        [("project", org[APP]["id"]), ("project", org[API]["id"])])
    records = {record_name(r["id"]) for r in circleci_standin.restrictions_of(context["id"])}
    assert {n for n in context["vars"] if n.startswith(RECORD_PREFIX)} == records
    assert "AWS_ROLE_ARN" in context["vars"]
    # Every restriction was in place before the first value was written.
    writes = [(m, p) for m, p in circleci_standin.requests if m in ("POST", "PUT")]
    last_restriction = max(i for i, (m, p) in enumerate(writes) if p.endswith("/restrictions"))
    first_value = min(i for i, (m, p) in enumerate(writes) if p.endswith("/AWS_ROLE_ARN"))
    assert last_restriction < first_value

    again = Engine(ci_ctx(APP, API, **answers)).plan().step("circleci")
    assert not [d for d in again.differences if d.startswith("+ restrict")]
    assert sum("(added by the wizard)" in d for d in again.differences) == 2
    assert "POST /context/{id}/restrictions" not in again.calls
    posts = len([q for q in circleci_standin.requests if q[1].endswith("/restrictions")
                 and q[0] == "POST"])
    run_apply(ci_ctx(APP, API, **answers), consent=True)
    assert len([q for q in circleci_standin.requests if q[1].endswith("/restrictions")
                and q[0] == "POST"]) == posts

    assert actions(run_destroy(ci_ctx(APP, API, **answers)))["circleci"] is Action.DELETE
    assert circleci_standin.context_named("s3-deploy") is None


def test_the_branch_restriction_is_offered_then_added_with_its_caveat(
        ci_ctx, circleci_standin, org):
    answers = dict(auth=AuthMode.OIDC, circleci_context="s3-deploy", circleci_branch="main",
                   create_bucket=True)
    offered = Engine(ci_ctx(**answers)).plan().step("circleci")
    assert any("Add --restrict-context-branch" in w and MAIN in w for w in offered.warnings)
    assert not any(MAIN in d for d in offered.differences)

    asked = Engine(ci_ctx(restrict_context_branch=True, **answers)).plan().step("circleci")
    assert f"+ restrict context s3-deploy to pipelines where {MAIN}" in asked.differences
    assert any("fail closed" in w and "tag pipeline" in w for w in asked.warnings)

    report = run_apply(ci_ctx(restrict_context_branch=True, **answers))
    assert report.ok, report.failure
    context = circleci_standin.context_named("s3-deploy")
    assert pairs(circleci_standin, context["id"]) == sorted(
        [("expression", MAIN), ("project", org[APP]["id"])])
    assert "restricted it to project gh/acme/app" in report.result("circleci").detail


def test_keys_in_a_context_are_restricted_too(ci_ctx, circleci_standin, org):
    report = run_apply(ci_ctx(circleci_context="keys-ctx", circleci_branch="release",
                              restrict_context_branch=True, create_bucket=True))
    assert report.ok, report.failure
    context = circleci_standin.context_named("keys-ctx")
    assert pairs(circleci_standin, context["id"]) == sorted(
        [("expression", 'pipeline.git.branch == "release"'), ("project", org[APP]["id"])])
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= set(context["vars"])


def test_a_non_admin_is_stopped_before_any_value_is_written(ci_ctx, circleci_standin):
    circleci_standin.org_admin = False
    answers = dict(auth=AuthMode.OIDC, circleci_context="s3-deploy", create_bucket=True)
    report = run_apply(ci_ctx(**answers))
    failed = report.result("circleci")
    assert failed.action is Action.FAILED
    assert "was not given any value" in failed.detail
    assert "not an organisation admin" in failed.detail and "[HTTP 403]" in failed.detail
    context = circleci_standin.context_named("s3-deploy")
    assert set(context["vars"]) == {CONTEXT_MARKER}  # no AWS_ROLE_ARN, no region
    assert circleci_standin.restrictions_of(context["id"]) == []

    # Once an admin has added the restriction by hand, the same operator can finish the setup.
    circleci_standin.org_admin = True
    with circleci_standin.client() as admin:
        admin.add_context_restriction(context["id"], PROJECT_RESTRICTION,
                                      circleci_standin.projects[APP]["id"])
    circleci_standin.org_admin = False
    finished = run_apply(ci_ctx(**answers))
    assert finished.ok, finished.failure
    assert "AWS_ROLE_ARN" in circleci_standin.context_named("s3-deploy")["vars"]


def test_destroy_removes_only_the_restrictions_the_wizard_added(ci_ctx, circleci_standin, org):
    # The operator's context: already restricted to this project and to the other one.
    cid = circleci_standin.add_context(org[APP]["organization_id"], "deploy")
    circleci_standin.org_admin = True
    with circleci_standin.client() as operator:
        theirs = [operator.add_context_restriction(cid, PROJECT_RESTRICTION, org[APP]["id"]),
                  operator.add_context_restriction(cid, PROJECT_RESTRICTION, org[OTHER]["id"])]
    answers = dict(auth=AuthMode.OIDC, circleci_context="deploy", circleci_branch="main",
                   restrict_context_branch=True, create_bucket=True)
    step = Engine(ci_ctx(**answers)).plan().step("circleci")
    assert step.action is Action.CREATE  # nothing loses access: it was restricted already
    assert step.differences == (
        f"+ restrict context deploy to pipelines where {MAIN}",
        f"= context deploy is restricted to project app ({org[APP]['id']}) (not added by the "
        "wizard; destroy keeps it)",
        f"= context deploy is restricted to project other ({org[OTHER]['id']}) (not added by "
        "the wizard; destroy keeps it)",
    )
    assert any("also open to project other" in w and "AWS_ROLE_ARN" in w for w in step.warnings)

    run_apply(ci_ctx(**answers))
    assert len(circleci_standin.restrictions_of(cid)) == 3

    removal = Engine(ci_ctx(**answers)).plan_destroy().step("circleci")
    assert removal.action is Action.DELETE
    assert f"the restriction(s) the wizard added (the expression {MAIN})" in removal.detail
    run_destroy(ci_ctx(**answers))
    assert pairs(circleci_standin, cid) == sorted((r.type, r.value) for r in theirs)
    left = circleci_standin.contexts[cid]["vars"]
    assert not any(n.startswith(RECORD_PREFIX) for n in left)
    assert "AWS_ROLE_ARN" not in left


def test_restricting_a_context_other_projects_use_asks_first(ci_ctx, circleci_standin, org):
    cid = circleci_standin.add_context(org[APP]["organization_id"], "shared",
                                       {"NPM_TOKEN": "npm_abcdefgh"})
    answers = dict(auth=AuthMode.OIDC, circleci_context="shared", create_bucket=True)
    step = Engine(ci_ctx(**answers)).plan().step("circleci")
    assert step.action is Action.UPDATE
    assert any("no project restriction yet" in w and "lose its variables" in w
               for w in step.warnings)
    with pytest.raises(NeedsConsent):
        run_apply(ci_ctx(**answers))
    assert circleci_standin.restrictions_of(cid) == []
    run_apply(ci_ctx(**answers), consent=True)
    assert pairs(circleci_standin, cid) == [("project", org[APP]["id"])]

    # NPM_TOKEN is guarded by the restriction now: destroy keeps it rather than open it again.
    removal = Engine(ci_ctx(**answers)).plan_destroy().step("circleci")
    assert "keeping the restriction(s) the wizard added" in removal.detail
    assert "NPM_TOKEN" in removal.detail
    run_destroy(ci_ctx(**answers))
    assert pairs(circleci_standin, cid) == [("project", org[APP]["id"])]
    assert "AWS_ROLE_ARN" not in circleci_standin.contexts[cid]["vars"]


def test_rotation_replaces_the_key_in_a_context_without_needing_an_admin(
        ci_ctx, circleci_standin, secret_store, org):
    from circleci_s3_wizard.wizard.rotate import Rotation

    assert run_apply(ci_ctx(circleci_context="keys-ctx", create_bucket=True)).ok
    context = circleci_standin.context_named("keys-ctx")
    # As a setup made before contexts were restricted: no restriction, and no admin at hand.
    with circleci_standin._lock:
        context["restrictions"] = []
    old = secret_store.load_access_key("circleci_service").access_key_id
    circleci_standin.org_admin = False  # rotation must not newly need restriction rights

    rotation = Rotation(ci_ctx(circleci_context="keys-ctx"), propagation_seconds=0)
    outcome = rotation.run(rotation.check())
    assert outcome.ok, outcome.error
    new = secret_store.load_access_key("circleci_service")
    assert new.access_key_id != old
    assert circleci_standin.context_named("keys-ctx")["vars"]["AWS_ACCESS_KEY_ID"]["value"] == \
        new.access_key_id
    assert circleci_standin.restrictions_of(context["id"]) == []  # apply's change, not rotate's
