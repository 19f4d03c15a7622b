"""Delivering to CircleCI, end to end: moto's IAM on one side, the CircleCI stand-in on the other.

Keys mode puts the keyring's access key into the project (or a context) and reads it back; OIDC
mode creates the provider and the role and sets AWS_ROLE_ARN; destroy removes only what the
wizard set. The secret store is a small in-memory object here (the real keyring has its own
tests); everything else is real HTTP.
"""

from __future__ import annotations

import pytest
import yaml

from circleci_s3_wizard.wizard.answers import build_config
from circleci_s3_wizard.wizard.circleci.config_snippet import config_yml
from circleci_s3_wizard.wizard.circleci.context_restrictions import record_name
from circleci_s3_wizard.wizard.circleci.delivery_step import manual_instructions
from circleci_s3_wizard.wizard.circleci.oidc import evaluate_trust
from circleci_s3_wizard.wizard.circleci.reads import CONTEXT_MARKER
from circleci_s3_wizard.wizard.config import IAM_PATH, AccessLevel, AuthMode, SetupConfig
from circleci_s3_wizard.wizard.context import RunContext
from circleci_s3_wizard.wizard.engine import Engine, NeedsConsent
from circleci_s3_wizard.wizard.model import Action
from circleci_s3_wizard.wizard.registry import info
from circleci_s3_wizard.wizard.secret_store import AccessKey

SLUG = "gh/acme/site"
USER = "circleci_service"


class MemoryStore:
    """Just enough of SecretStore for delivery: the access key of a user."""

    service = "memory"

    def __init__(self) -> None:
        self.keys: dict[str, AccessKey] = {}

    def ensure_usable(self) -> None:
        return None

    def load_access_key(self, user: str) -> AccessKey | None:
        return self.keys.get(user)

    def load_token(self, name: str) -> str | None:
        return None


@pytest.fixture
def project(circleci_standin):
    return circleci_standin.add_project(SLUG)


@pytest.fixture
def client(circleci_standin):
    with circleci_standin.client() as made:
        yield made


def keys_ctx(aws_session, client, store, **changes) -> RunContext:
    answers = {"bucket": "acme-builds", "circleci_projects": [SLUG], "region": "eu-west-1",
               "user": USER, **changes}
    return RunContext(build_config(answers).config, aws_session, secrets=store, circleci=client)


def check(ctx, key="circleci"):
    """The step's plan, read afresh (as a new run would)."""
    return Engine(ctx.with_config(ctx.config)).plan_step(key)


def run(ctx, key="circleci", *, consent=False):
    fresh = ctx.with_config(ctx.config)
    engine = Engine(fresh)
    return engine.apply_step(engine.plan_step(key), consent=consent)


def plan_destroy(ctx, key="circleci"):
    return info(key).step().plan_destroy(ctx.with_config(ctx.config))


def undo(ctx, key="circleci"):
    fresh = ctx.with_config(ctx.config)
    step = info(key).step()
    return step.destroy(fresh, step.plan_destroy(fresh))


def real_key(ctx: RunContext, store: MemoryStore) -> AccessKey:
    """An IAM user and access key in moto, the key kept in the store as the key step would."""
    iam = ctx.client("iam")
    iam.create_user(UserName=USER, Path=IAM_PATH)
    made = iam.create_access_key(UserName=USER)["AccessKey"]
    key = AccessKey(made["AccessKeyId"], made["SecretAccessKey"])
    store.keys[USER] = key
    return key


def posts(standin) -> int:
    return sum(1 for method, _ in standin.requests if method in ("POST", "PUT", "DELETE"))


# -- keys mode -----------------------------------------------------------------------------------


def test_keys_mode_sets_reads_back_and_is_idempotent(aws_session, circleci_standin, project,
                                                      client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store)
    assert check(ctx).action is Action.CREATE  # plan before the key exists
    key = real_key(ctx, store)

    result = run(ctx)
    assert result.action is Action.CREATE
    assert circleci_standin.env(SLUG) == {
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert "read them back" in result.detail
    shown = f"{result.detail} {result.outputs} {check(ctx)}"
    assert key.secret_access_key not in shown and key.secret_access_key[-4:] not in shown

    writes = posts(circleci_standin)
    planned = check(ctx)
    assert planned.action is Action.EXISTS and "last four" in planned.detail
    assert run(ctx).action is Action.EXISTS
    assert posts(circleci_standin) == writes  # nothing rewritten


def test_a_new_key_is_an_update_that_needs_consent(aws_session, circleci_standin, project,
                                                   client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store)
    real_key(ctx, store)
    run(ctx)
    new = ctx.client("iam").create_access_key(UserName=USER)["AccessKey"]
    store.keys[USER] = AccessKey(new["AccessKeyId"], new["SecretAccessKey"])

    planned = check(ctx)
    assert planned.action is Action.UPDATE
    assert planned.differences == ("AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY differ",)
    with pytest.raises(NeedsConsent):
        run(ctx)
    assert run(ctx, consent=True).action is Action.UPDATE
    assert circleci_standin.env(SLUG)["AWS_SECRET_ACCESS_KEY"] == new["SecretAccessKey"]
    assert check(ctx).action is Action.EXISTS


def test_undo_removes_only_the_wizards_variables(aws_session, circleci_standin, project, client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store)
    real_key(ctx, store)
    run(ctx)
    client.set_project_envvar(SLUG, "NPM_TOKEN", "npm_abcdefgh")

    removal = plan_destroy(ctx)
    assert removal.action is Action.DELETE
    assert "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_DEFAULT_REGION" in \
        removal.detail
    assert undo(ctx).action is Action.DELETE
    assert circleci_standin.env(SLUG) == {"NPM_TOKEN": "npm_abcdefgh"}
    assert undo(ctx).action is Action.ABSENT


def test_undo_keeps_an_aws_key_that_is_not_the_wizards(aws_session, circleci_standin, project,
                                                       client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store)
    real_key(ctx, store)
    theirs = {"AWS_ACCESS_KEY_ID": "AKIA_OPERATORS_OWN_99", "AWS_SECRET_ACCESS_KEY": "theirs/0000",
              "AWS_REGION": "eu-west-1"}
    for name, value in theirs.items():
        client.set_project_envvar(SLUG, name, value)
        assert check(ctx).action is Action.UPDATE  # the wizard would overwrite: ask first
    removal = plan_destroy(ctx)
    assert removal.action is Action.KEEP and "do not match" in removal.detail
    assert undo(ctx).action is Action.KEEP
    assert circleci_standin.env(SLUG) == theirs


def test_keys_in_a_new_context(aws_session, circleci_standin, project, client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store, circleci_context="s3-deploy")
    key = real_key(ctx, store)
    assert check(ctx).action is Action.CREATE
    result = run(ctx)
    assert result.action is Action.CREATE and "context: s3-deploy" in result.detail
    context = circleci_standin.context_named("s3-deploy")
    assert context["owner_id"] == project["organization_id"]
    # Restricted to the project before the key went in, and the restriction recorded as ours.
    [restriction] = circleci_standin.restrictions_of(context["id"])
    assert (restriction["type"], restriction["value"]) == ("project", project["id"])
    assert {n: v["value"] for n, v in context["vars"].items()} == {
        CONTEXT_MARKER: "circleci-s3-wizard",
        record_name(restriction["id"]): "circleci-s3-wizard",
        "AWS_ACCESS_KEY_ID": key.access_key_id,
        "AWS_SECRET_ACCESS_KEY": key.secret_access_key,
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }
    assert circleci_standin.env(SLUG) == {}
    # Context values cannot be read back, so a present variable is an UPDATE, never EXISTS.
    assert check(ctx).action is Action.UPDATE

    removal = plan_destroy(ctx)
    assert removal.action is Action.DELETE and "Delete context s3-deploy" in removal.detail
    assert undo(ctx).action is Action.DELETE
    assert circleci_standin.context_named("s3-deploy") is None


def test_an_operators_context_keeps_its_other_variables_and_itself(aws_session,
                                                                    circleci_standin, project,
                                                                    client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store, circleci_context="shared")
    real_key(ctx, store)
    cid = circleci_standin.add_context(project["organization_id"], "shared",
                                       {"SLACK_WEBHOOK": "https://hooks.example/x"})
    # Open to every project today: restricting it changes what other projects get, so it asks.
    planned = check(ctx)
    assert planned.action is Action.UPDATE
    assert any("no project restriction yet" in w for w in planned.warnings)
    with pytest.raises(NeedsConsent):
        run(ctx)
    run(ctx, consent=True)
    [restriction] = circleci_standin.restrictions_of(cid)
    removal = plan_destroy(ctx)
    assert removal.action is Action.DELETE and "keeping the restriction" in removal.detail
    assert undo(ctx).action is Action.DELETE
    left = circleci_standin.contexts[cid]["vars"]
    # SLACK_WEBHOOK is guarded by the restriction now: removing it would open the webhook again.
    assert sorted(left) == sorted(["AWS_DEFAULT_REGION", "AWS_REGION", "SLACK_WEBHOOK",
                                   record_name(restriction["id"])])
    assert circleci_standin.restrictions_of(cid) == [restriction]


def test_a_wizard_context_the_operator_added_to_is_kept(aws_session, circleci_standin, project,
                                                        client):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, client, store, circleci_context="s3-deploy")
    real_key(ctx, store)
    run(ctx)
    context = circleci_standin.context_named("s3-deploy")
    client.set_context_envvar(context["id"], "EXTRA", "added-later")
    assert undo(ctx).action is Action.DELETE
    left = circleci_standin.contexts[context["id"]]["vars"]
    [restriction] = circleci_standin.restrictions_of(context["id"])
    assert sorted(left) == sorted([CONTEXT_MARKER, "EXTRA", record_name(restriction["id"])])


# -- without a token, a project, or a reachable project ------------------------------------------


def test_without_a_token_it_skips_and_says_where_to_paste(aws_session):
    store = MemoryStore()
    ctx = keys_ctx(aws_session, None, store)
    planned = check(ctx)
    assert planned.action is Action.SKIP and "No CircleCI token" in planned.detail
    text = manual_instructions(ctx.config, "AKIA_EXAMPLE_KEY_1234", region="eu-west-1")
    assert "project gh/acme/site" in text
    assert "Project Settings > Environment Variables" in text
    assert "Add Environment Variable" in text
    for line in ("AWS_ACCESS_KEY_ID      AKIA_EXAMPLE_KEY_1234", "AWS_REGION             eu-west-1",
                 "AWS_DEFAULT_REGION     eu-west-1",
                 "AWS_SECRET_ACCESS_KEY  from your keyring: "
                 "`circleci-s3-wizard credential-process"):
        assert line in text
    in_context = manual_instructions(ctx.config.with_changes(circleci_context="s3-deploy"),
                                     "AKIA_EXAMPLE_KEY_1234")
    assert "Organization Settings > Contexts" in in_context and "s3-deploy" in in_context
    oidc = manual_instructions(ctx.config.with_changes(auth=AuthMode.OIDC),
                               role_arn="arn:aws:iam::1:role/r")
    assert "AWS_ROLE_ARN" in oidc and "AWS_SECRET_ACCESS_KEY" not in oidc
    assert plan_destroy(ctx).action is Action.KEEP


def test_without_a_project_it_skips(aws_session, client):
    ctx = keys_ctx(aws_session, client, MemoryStore(), circleci_projects=None)
    assert check(ctx).action is Action.SKIP


def test_an_unknown_project_blocks_with_the_slug_advice(aws_session, circleci_standin, client):
    ctx = keys_ctx(aws_session, client, MemoryStore())
    planned = check(ctx)
    assert planned.action is Action.BLOCKED
    assert "no project gh/acme/site" in planned.detail and "HTTP 404" in planned.detail


# -- OIDC mode, end to end -----------------------------------------------------------------------


def test_oidc_end_to_end_and_destroy(aws_session, circleci_standin, project, client):
    config = build_config({"bucket": "acme-builds", "auth": "oidc", "circleci_projects": [SLUG],
                           "region": "us-east-2"}).config
    ctx = RunContext(config, aws_session, secrets=None, circleci=client)
    keys = ["policy", "oidc_provider", "oidc_role", "circleci"]
    assert [check(ctx, k).action for k in keys] == [Action.CREATE] * 4
    results = [run(ctx, k) for k in keys]
    assert [r.action for r in results] == [Action.CREATE] * 4

    iam = ctx.client("iam")
    role = iam.get_role(RoleName=config.role_name)["Role"]
    org, pid = project["organization_id"], project["id"]
    assert circleci_standin.env(SLUG) == {
        "AWS_ROLE_ARN": role["Arn"],
        "AWS_REGION": "us-east-2",
        "AWS_DEFAULT_REGION": "us-east-2",
    }
    trust = role["AssumeRolePolicyDocument"]
    # The stand-in is not circleci.com, so it counts as a CircleCI server install, whose OIDC
    # issuer is its own host.
    issuer = f"https://{circleci_standin.url.removeprefix('http://')}/org/{org}"
    assert results[1].outputs["provider_arn"].endswith(f":oidc-provider/{issuer[8:]}")
    claims = {"iss": issuer, "aud": org,
              "sub": f"org/{org}/project/{pid}/user/11111111-2222-4333-8444-555555555555"}
    assert evaluate_trust(trust, claims)
    assert not evaluate_trust(trust, {**claims, "sub": claims["sub"].replace(pid, org)})
    assert [check(ctx, k).action for k in keys] == [Action.EXISTS] * 4
    assert iam.list_users()["Users"] == []  # no IAM user, no access key

    snippet = yaml.safe_load(config_yml(config, role["Arn"]))
    setup = snippet["jobs"]["upload"]["steps"][1]["aws-cli/setup"]
    assert setup == {"role_arn": role["Arn"], "region": "us-east-2",
                     "role_session_name": "${CIRCLE_JOB}", "session_duration": "3600"}

    for key in reversed(keys[1:]):
        assert plan_destroy(ctx, key).action is Action.DELETE
        assert undo(ctx, key).action is Action.DELETE
    assert circleci_standin.env(SLUG) == {}
    assert iam.list_open_id_connect_providers()["OpenIDConnectProviderList"] == []
    assert config.role_name not in [r["RoleName"] for r in iam.list_roles()["Roles"]]


# -- the config.yml snippet ----------------------------------------------------------------------


def test_snippet_for_keys_uploads_with_sync():
    config = SetupConfig(bucket="acme-builds", prefix="builds/", circleci_projects=(SLUG,))
    doc = yaml.safe_load(config_yml(config))
    assert doc["version"] == 2.1
    assert doc["orbs"] == {"aws-cli": "circleci/aws-cli@5.1"}
    steps = doc["jobs"]["upload"]["steps"]
    assert steps[1]["aws-cli/setup"] == {
        "aws_access_key_id": "${AWS_ACCESS_KEY_ID}",
        "aws_secret_access_key": "${AWS_SECRET_ACCESS_KEY}",
        "region": "${AWS_REGION}",
    }
    assert steps[2]["run"]["command"] == 'aws s3 sync ./build "s3://acme-builds/builds/"'
    assert doc["workflows"]["deploy"]["jobs"] == ["upload"]


def test_snippet_with_context_branch_and_upload_only():
    config = SetupConfig(bucket="acme-builds", prefix="site/", access=AccessLevel.UPLOAD_ONLY,
                         auth=AuthMode.OIDC, circleci_context="s3-deploy",
                         circleci_branch="main", region="eu-west-1")
    doc = yaml.safe_load(config_yml(config))
    steps = doc["jobs"]["upload"]["steps"]
    assert steps[1]["aws-cli/setup"] == {"role_arn": "${AWS_ROLE_ARN}", "region": "eu-west-1",
                                         "role_session_name": "${CIRCLE_JOB}",
                                         "session_duration": "3600"}
    assert steps[2]["run"]["command"] == 'aws s3 cp ./build "s3://acme-builds/site/" --recursive'
    assert doc["workflows"]["deploy"]["jobs"] == [
        {"upload": {"context": "s3-deploy", "filters": {"branches": {"only": "main"}}}}
    ]


def test_snippet_for_read_only_downloads():
    config = SetupConfig(bucket="acme-builds", access=AccessLevel.READ_ONLY)
    doc = yaml.safe_load(config_yml(config))
    run = doc["jobs"]["upload"]["steps"][2]["run"]
    assert run == {"name": "Download from S3",
                   "command": 'aws s3 sync "s3://acme-builds/builds/" ./build'}
