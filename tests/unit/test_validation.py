"""Tests for wizard.validation: each naming rule by example, and the main ones as properties.

Examples pin the exact sentences an operator sees; hypothesis checks that the rules hold for
every name of a shape (all valid bucket names accepted, any uppercase or '_' rejected, ...).
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from circleci_s3_wizard.wizard.config import AccessLevel, AuthMode, SetupConfig
from circleci_s3_wizard.wizard.validation import (
    RESERVED_BUCKET_PREFIXES,
    RESERVED_BUCKET_SUFFIXES,
    Problem,
    normalise_prefix,
    validate_branch,
    validate_bucket_name,
    validate_circleci_slug,
    validate_config,
    validate_iam_name,
    validate_prefix,
    validate_region,
)

ORG_ID = "123e4567-e89b-12d3-a456-426614174000"
PROJECT_ID = "9f0c1e2d-3b4a-4c5d-8e6f-708192a3b4c5"

PROPERTY = settings(max_examples=200, deadline=None)


def errors(problems: list[Problem]) -> list[str]:
    return [p.rule for p in problems if p.severity == "error"]


def errors_of(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def warnings(problems: list[Problem]) -> list[str]:
    return [p.rule for p in problems if p.severity == "warning"]


# --- Problem -------------------------------------------------------------------------------------


def test_problem_str_is_field_then_rule() -> None:
    problem = Problem("bucket", "must be 3 to 63 characters long (got 2)")
    assert str(problem) == "bucket: must be 3 to 63 characters long (got 2)"
    assert problem.severity == "error"


# --- Bucket names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["abc", "my-builds-bucket", "circleci-builds-2024", "a" * 63, "1bucket9", "a--b"],
)
def test_valid_bucket_names_have_no_problems(name: str) -> None:
    assert validate_bucket_name(name) == []


def test_fqdn_bucket_from_the_tutorial_gets_only_a_dots_warning() -> None:
    problems = validate_bucket_name("devops.example.com")
    assert errors(problems) == []
    assert len(problems) == 1
    assert problems[0].severity == "warning"
    assert "TLS" in problems[0].rule
    assert "'devops-example-com'" in problems[0].rule


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ab", "must be 3 to 63 characters long (got 2)"),
        ("a" * 64, "must be 3 to 63 characters long (got 64)"),
        ("Devops-Builds", "must be all lowercase; it contains the uppercase 'D', 'B'"),
        ("circleci_builds", "it contains '_'"),
        ("my bucket", "it contains ' '"),
        ("-builds", "must start and end with a letter or digit; it starts with '-'"),
        ("builds.", "must start and end with a letter or digit; it ends with '.'"),
        ("devops..builds", "must not contain two dots in a row ('..')"),
        ("devops.-builds", "must not have a dot next to a hyphen ('.-' or '-.')"),
        ("devops-.builds", "must not have a dot next to a hyphen ('.-' or '-.')"),
        ("192.168.5.4", "must not be formatted as an IP address (like 192.168.5.4)"),
    ],
)
def test_invalid_bucket_names_name_the_rule(name: str, expected: str) -> None:
    rules = errors(validate_bucket_name(name))
    assert any(expected in rule for rule in rules), rules


def test_bucket_name_with_an_ip_address_form_gets_no_dots_warning() -> None:
    assert warnings(validate_bucket_name("10.0.0.1")) == []


@pytest.mark.parametrize("prefix", RESERVED_BUCKET_PREFIXES)
def test_reserved_bucket_prefixes_are_rejected(prefix: str) -> None:
    rules = errors(validate_bucket_name(f"{prefix}builds"))
    assert rules == [f"must not start with {prefix!r}, a prefix AWS reserves"]


@pytest.mark.parametrize("suffix", RESERVED_BUCKET_SUFFIXES)
def test_reserved_bucket_suffixes_are_rejected(suffix: str) -> None:
    rules = errors(validate_bucket_name(f"builds{suffix}"))
    assert rules == [f"must not end with {suffix!r}, a suffix AWS reserves"]


def test_empty_bucket_name_is_required() -> None:
    assert errors(validate_bucket_name("")) == [
        "is required: give the name of the S3 bucket to use or create"
    ]


_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,12}[a-z0-9])?", fullmatch=True)
valid_bucket_names = (
    st.lists(_label, min_size=1, max_size=5)
    .map(".".join)
    .filter(lambda n: 3 <= len(n) <= 63)
    .filter(lambda n: not n.startswith(RESERVED_BUCKET_PREFIXES))
    .filter(lambda n: not n.endswith(RESERVED_BUCKET_SUFFIXES))
    .filter(lambda n: not (n.count(".") == 3 and n.replace(".", "").isdigit()))
)


@PROPERTY
@given(valid_bucket_names)
def test_every_valid_bucket_name_is_accepted(name: str) -> None:
    assert errors(validate_bucket_name(name)) == []


@PROPERTY
@given(valid_bucket_names, st.sampled_from("ABCXYZ_"), st.integers(min_value=0))
def test_any_uppercase_or_underscore_is_rejected(name: str, char: str, where: int) -> None:
    at = where % (len(name) + 1)
    bad = name[:at] + char + name[at:]
    rules = errors(validate_bucket_name(bad))
    assert rules
    assert any(repr(char) in rule for rule in rules), rules


# --- IAM names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("circleci_devops", "group"),
        ("s3_full_access_devops_builds", "policy"),
        ("circleci_service", "user"),
        ("circleci_s3_builds", "role"),
        ("ci+deploy=a,b.c@d-e", "user"),
        ("u" * 64, "user"),
        ("r" * 64, "role"),
        ("g" * 128, "group"),
        ("p" * 128, "policy"),
    ],
)
def test_valid_iam_names(name: str, kind: str) -> None:
    assert validate_iam_name(name, field="x", kind=kind) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "limit"), [("user", 64), ("role", 64), ("group", 128), ("policy", 128)]
)
def test_iam_name_length_limits(kind: str, limit: int) -> None:
    problems = validate_iam_name("n" * (limit + 1), field="f", kind=kind)  # type: ignore[arg-type]
    assert errors(problems) == [
        f"must be 1 to {limit} characters long for an IAM {kind} name (got {limit + 1})"
    ]
    assert problems[0].field == "f"


def test_iam_name_names_the_offending_characters() -> None:
    problems = validate_iam_name("circleci service/é", field="user", kind="user")
    assert [str(p) for p in problems] == [
        "user: may contain only letters, digits and the characters + = , . @ _ - "
        "(an IAM user name); it contains ' ', '/', 'é'"
    ]


def test_empty_iam_name_is_required() -> None:
    assert errors(validate_iam_name("", field="group", kind="group")) == [
        "is required: give an IAM group name (1 to 128 characters)"
    ]


# --- Prefix --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("builds", "builds/"),
        ("builds/", "builds/"),
        ("  builds  ", "builds/"),
        ("a/b/c", "a/b/c/"),
        ("release builds/", "release builds/"),
        ("builds\n", "builds/"),
    ],
)
def test_normalise_prefix(raw: str, normalised: str) -> None:
    assert normalise_prefix(raw) == normalised
    assert validate_prefix(raw) == []


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "must name a folder such as 'builds/'"),
        ("/", "must name a folder such as 'builds/'"),
        ("  ", "must name a folder such as 'builds/'"),
        ("/builds", "must not start with '/'"),
        ("builds/*", "must not contain '*'"),
        ("build?", "must not contain '?'"),
        ("${aws:username}/", "must not contain '$'"),
        ("builds/../secrets", "must not contain a '..' folder"),
        ("..", "must not contain a '..' folder"),
        ("bu\x00ilds", "must contain only printable characters; it contains '\\x00'"),
        ("b" * 1000, "must be at most 1000 bytes long (got 1001)"),
    ],
)
def test_invalid_prefixes(raw: str, expected: str) -> None:
    rules = errors(validate_prefix(raw))
    assert any(expected in rule for rule in rules), rules


def test_leading_slash_message_suggests_the_fix() -> None:
    assert errors(validate_prefix("/builds/")) == [
        "must not start with '/': S3 keys have no leading slash, so '/builds/' would be a "
        "folder with an empty name (use 'builds/')"
    ]


def test_dotted_names_are_fine_only_dotdot_segments_are_not() -> None:
    assert validate_prefix("builds/v1..2/") == []
    assert validate_prefix("builds/.cache/") == []


def test_tutorials_windows_style_prefix_gets_a_warning() -> None:
    problems = validate_prefix("build\\")
    assert errors(problems) == []
    assert any("separated by '/'" in rule for rule in warnings(problems))


def test_double_slash_gets_a_warning() -> None:
    assert errors(validate_prefix("a//b")) == []
    assert warnings(validate_prefix("a//b"))


@PROPERTY
@given(st.text(max_size=60))
def test_normalise_prefix_is_idempotent_and_ends_in_slash(raw: str) -> None:
    once = normalise_prefix(raw)
    assert once.endswith("/")
    assert normalise_prefix(once) == once


@PROPERTY
@given(st.text(max_size=30), st.sampled_from("*?$"), st.text(max_size=30))
def test_any_prefix_with_a_wildcard_character_is_rejected(
    before: str, char: str, after: str
) -> None:
    rules = errors(validate_prefix(before + char + after))
    assert rules
    assert any(f"must not contain {char!r}" in rule for rule in rules), rules


# --- CircleCI project slugs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug",
    [
        "gh/acme/website",
        "github/acme-corp/my.repo_name",
        "bb/acme/website",
        "bitbucket/acme/website",
        f"circleci/{ORG_ID}/{PROJECT_ID}",
        f"circleci/{ORG_ID.upper()}/{PROJECT_ID}",
    ],
)
def test_valid_slugs(slug: str) -> None:
    assert validate_circleci_slug(slug) == []


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("", "must not be empty"),
        ("acme/website", "must have three parts separated by '/'"),
        ("gh/acme/website/extra", "(got 4 parts)"),
        ("gitlab/acme/website", "must start with gh/, github/, bb/, bitbucket/ or circleci/"),
        ("GH/acme/website", "(got 'GH/')"),
        ("gh//website", "the organization part of the slug is empty"),
        ("gh/acme/", "the repository part of the slug is empty"),
        ("gh/acme/my repo", "the repository 'my repo' may contain only"),
        ("gh/ac*me/web", "it contains '*'"),
        ("gh/acme/..", "the repository '..'"),
        (f"circleci/acme/{PROJECT_ID}", "the organization id 'acme' must be a UUID"),
        (f"circleci/{ORG_ID}/website", "the project id 'website' must be a UUID"),
        (f"circleci/{{{ORG_ID}}}/{PROJECT_ID}", "must be a UUID"),
        ("https://app.circleci.com/pipelines/github/acme/website", "looks like a web address"),
    ],
)
def test_invalid_slugs(slug: str, expected: str) -> None:
    problems = validate_circleci_slug(slug)
    assert all(p.field == "circleci_projects" for p in problems)
    rules = errors(problems)
    assert any(expected in rule for rule in rules), rules


# --- Branch names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "branch", ["main", "release/1.2", "feature/JIRA-123_new-thing", "v1.0", "a.b/c@d"]
)
def test_valid_branches(branch: str) -> None:
    assert validate_branch(branch) == []


@pytest.mark.parametrize(
    ("branch", "expected"),
    [
        ("", "must not be empty"),
        ("my branch", "it contains ' '"),
        ("release/*", "it contains '*'"),
        ("a~b", "it contains '~'"),
        ("a^b", "it contains '^'"),
        ("a:b", "it contains ':'"),
        ("a?b", "it contains '?'"),
        ("a[b", "it contains '['"),
        ("a\\b", "it contains '\\\\'"),
        ("a\tb", "it contains '\\t'"),
        ("a..b", "must not contain '..'"),
        ("a@{b", "must not contain '@{'"),
        ("@", "must not be '@' alone"),
        ("HEAD", "must not be 'HEAD'"),
        ("-main", "must not start with '-'"),
        ("/main", "must not start or end with '/'"),
        ("main/", "must not start or end with '/'"),
        ("a//b", "contain '//'"),
        ("main.", "must not end with '.'"),
        ("feature/.hidden", "may start with '.' (found '.hidden')"),
        ("main.lock", "may end with '.lock' (found 'main.lock')"),
    ],
)
def test_invalid_branches(branch: str, expected: str) -> None:
    rules = errors(validate_branch(branch))
    assert any(expected in rule for rule in rules), rules


def test_full_ref_name_gets_a_warning() -> None:
    problems = validate_branch("refs/heads/main")
    assert errors(problems) == []
    assert [p.field for p in problems] == ["circleci_branch"]
    assert "'main' rather than 'refs/heads/main'" in problems[0].rule


# --- Regions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "region",
    [
        "us-east-1",
        "eu-west-2",
        "ap-southeast-5",
        "us-gov-west-1",
        "cn-north-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "eusc-de-east-1",
    ],
)
def test_valid_regions(region: str) -> None:
    assert validate_region(region) == []


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1a", "'us-east-1a' is an availability zone; give its region 'us-east-1'"),
        ("US-EAST-1", "must be written in lowercase without spaces, e.g. 'us-east-1'"),
        ("Ireland", "must be an AWS region code like 'us-east-1' or 'eu-west-2' (got 'Ireland')"),
        ("us-east", "must be an AWS region code"),
        ("", "must not be empty"),
    ],
)
def test_invalid_regions(region: str, expected: str) -> None:
    rules = errors(validate_region(region))
    assert len(rules) == 1
    assert expected in rules[0]


# --- The whole config ----------------------------------------------------------------------------


def test_tutorial_defaults_with_the_fqdn_bucket_pass_with_one_warning() -> None:
    problems = validate_config(SetupConfig(bucket="devops.example.com"))
    assert errors(problems) == []
    assert [p.field for p in problems] == ["bucket"]


def test_bucket_is_required() -> None:
    problems = validate_config(SetupConfig())
    assert [str(p) for p in problems] == [
        "bucket: is required: give the name of the S3 bucket to use or create"
    ]


def test_oidc_requires_the_project_slug() -> None:
    config = SetupConfig(bucket="builds-bucket", auth=AuthMode.OIDC)
    assert [p.field for p in validate_config(config)] == ["circleci_projects"]
    assert errors(validate_config(config))[0].startswith("is required with OIDC")
    ok = config.with_changes(
        circleci_projects=(f"circleci/{ORG_ID}/{PROJECT_ID}",), circleci_branch="main"
    )
    assert validate_config(ok) == []


def test_every_field_is_checked_under_its_own_name() -> None:
    config = SetupConfig(
        bucket="Bad_Bucket",
        prefix="/*",
        group="circleci devops",
        policy_name="p" * 129,
        user="",
        role_name="role/name",
        access="everything",  # type: ignore[arg-type]
        auth="password",  # type: ignore[arg-type]
        circleci_projects=("gitlab/acme/site",),
        circleci_context=" ",
        circleci_branch="a..b",
        region="mars-1",
        profile="dev ",
    )
    fields = {p.field for p in validate_config(config) if p.severity == "error"}
    assert fields == {
        "bucket",
        "prefix",
        "group",
        "policy_name",
        "user",
        "role_name",
        "access",
        "auth",
        "circleci_projects",
        "circleci_context",
        "circleci_branch",
        "region",
        "profile",
    }


def test_enum_answers_may_be_plain_strings() -> None:
    config = SetupConfig(bucket="builds-bucket", access="read-only", auth="keys")  # type: ignore[arg-type]
    assert validate_config(config) == []


def test_branch_without_oidc_is_a_warning() -> None:
    problems = validate_config(SetupConfig(bucket="builds-bucket", circleci_branch="main"))
    assert errors(problems) == []
    assert [p.field for p in problems] == ["circleci_branch"]


iam_names = st.from_regex(r"[A-Za-z0-9+=,.@_-]{1,64}", fullmatch=True)
slugs = st.one_of(
    st.builds(
        "/".join,
        st.tuples(
            st.sampled_from(["gh", "github", "bb", "bitbucket"]),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,20}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,20}", fullmatch=True),
        ),
    ),
    st.builds(lambda a, b: f"circleci/{a}/{b}", st.uuids().map(str), st.uuids().map(str)),
)
valid_configs = st.builds(
    SetupConfig,
    bucket=valid_bucket_names,
    create_bucket=st.booleans(),
    prefix=st.from_regex(
        r"[a-z0-9][a-z0-9._-]{0,20}(/[a-z0-9][a-z0-9._-]{0,20}){0,3}/?", fullmatch=True
    ),
    group=iam_names,
    policy_name=iam_names,
    user=iam_names,
    access=st.sampled_from(AccessLevel),
    auth=st.sampled_from(AuthMode),
    circleci_projects=st.lists(slugs, max_size=3).map(tuple),
    circleci_context=st.none() | st.from_regex(r"[a-z][a-z-]{0,20}", fullmatch=True),
    circleci_branch=st.none()
    | st.from_regex(r"[a-z][a-z0-9-]{0,10}(/[a-z0-9]{1,10})?", fullmatch=True),
    role_name=iam_names,
    region=st.none() | st.sampled_from(["us-east-1", "eu-central-1", "us-gov-west-1"]),
    profile=st.none() | st.sampled_from(["default", "sso-admin"]),
)


@PROPERTY
@given(valid_configs)
def test_validate_config_accepts_every_valid_config(config: SetupConfig) -> None:
    oidc_without_project = config.auth is AuthMode.OIDC and not config.circleci_projects
    keys_to_many = (config.auth is AuthMode.KEYS and not config.circleci_context
                    and len(config.circleci_projects) > 1)
    assert [p.field for p in errors_of(validate_config(config))] == (
        ["circleci_projects"] if oidc_without_project or keys_to_many else [])


def test_keys_mode_takes_one_project_unless_a_context_shares_the_key() -> None:
    """Two projects with --auth keys: refused, naming the field (the key's variables would
    reach the first only, while its record named both); with a context, or OIDC, accepted."""
    two = ("gh/acme/app", "gh/acme/site")
    refused = errors_of(validate_config(SetupConfig(bucket="my-builds", circleci_projects=two)))
    assert [p.field for p in refused] == ["circleci_projects"]
    assert "--auth keys" in refused[0].rule and "--circleci-context" in refused[0].rule
    for config in (SetupConfig(bucket="my-builds", circleci_projects=two,
                               circleci_context="deploy"),
                   SetupConfig(bucket="my-builds", circleci_projects=two, auth=AuthMode.OIDC)):
        assert errors_of(validate_config(config)) == []


@PROPERTY
@given(st.text(max_size=80))
def test_every_message_starts_with_its_field_name(text: str) -> None:
    results = {
        "bucket": validate_bucket_name(text),
        "prefix": validate_prefix(text),
        "circleci_projects": validate_circleci_slug(text),
        "circleci_branch": validate_branch(text),
        "region": validate_region(text),
        "group": validate_iam_name(text, field="group", kind="group"),
    }
    for field, problems in results.items():
        for problem in problems:
            assert problem.field == field
            assert str(problem).startswith(f"{field}: ")
            assert problem.rule[:1].islower() or problem.rule.startswith("'")
