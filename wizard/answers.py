"""The one way to turn answers into a :class:`SetupConfig`: validate, normalise, or refuse.

The CLI's options and the TUI's inputs are two sources of the same answers. Both call
:func:`build_config`, so a rule (a prefix always ends in ``/``, the region comes from
``AWS_REGION`` when not given, a malformed ``AWS_ENDPOINT_URL`` is bad input) holds for every
entry point, and no screen can reach the engine with an answer the CLI would have refused.

:data:`FIELDS` names each answer three ways: the ``SetupConfig`` field, the CLI option and the
label on screen, so an error names what the operator actually typed into.

Pure Python: no boto3, so a typo is refused before the AWS SDK is even imported.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from .config import (
    DEFAULT_GROUP,
    DEFAULT_POLICY_NAME,
    DEFAULT_PREFIX,
    DEFAULT_ROLE,
    DEFAULT_SESSION_DURATION,
    DEFAULT_USER,
    AccessLevel,
    AuthMode,
    SetupConfig,
)
from .validation import Problem, normalise_prefix, validate_config


@dataclass(frozen=True, slots=True)
class Field:
    """One answer: its ``SetupConfig`` field, its CLI option and its label on screen."""

    name: str
    option: str
    label: str


FIELDS: dict[str, Field] = {f.name: f for f in (
    Field("bucket", "--bucket", "Bucket name"),
    Field("create_bucket", "--create-bucket", "Create a new bucket"),
    Field("prefix", "--prefix", "Folder (prefix)"),
    Field("access", "--access", "Access level"),
    Field("group", "--group", "Group name"),
    Field("policy_name", "--policy-name", "Policy name"),
    Field("user", "--user", "User name"),
    Field("auth", "--auth", "Sign-in mode"),
    Field("role_name", "--role-name", "Role name"),
    Field("circleci_projects", "--circleci-project", "Project slug"),
    Field("circleci_context", "--circleci-context", "Context"),
    Field("circleci_branch", "--circleci-branch", "Branch"),
    Field("restrict_context_branch", "--restrict-context-branch",
          "Restrict the context to the branch"),
    Field("session_duration", "--session-duration", "Session duration (seconds)"),
    Field("region", "--region", "Region"),
    Field("profile", "--profile", "Profile"),
    Field("adopt", "--adopt", "Adopt same-named resources the wizard did not make"),
)}

#: Environment variables whose value is an endpoint URL the wizard will connect to.
ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_IAM",
                      "AWS_ENDPOINT_URL_STS", "CIRCLE_HOST")
#: Where boto3 (and so the wizard) finds the region when ``--region`` is not given.
REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")


def option_of(field: str) -> str:
    """The CLI's name for ``field`` (an environment variable is named as it is)."""
    return FIELDS[field].option if field in FIELDS else field


def label_of(field: str) -> str:
    """The screen's name for ``field``."""
    return FIELDS[field].label if field in FIELDS else field


class BadAnswers(ValueError):
    """At least one answer breaks a rule; ``problems`` holds every problem, warnings included."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.errors))

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    def for_cli(self) -> str:
        """One line per error, each naming the option or variable: ``--prefix: must not ...``."""
        return "\n".join(f"{option_of(p.field)}: {p.rule}" for p in self.errors)


@dataclass(frozen=True, slots=True)
class Built:
    """A valid configuration, and the warnings worth showing beside it."""

    config: SetupConfig
    warnings: tuple[Problem, ...] = ()

    def warning_lines(self) -> list[str]:
        return [f"{option_of(p.field)}: {p.rule}" for p in self.warnings]


_DEFAULTS: dict[str, Any] = {
    "bucket": "",
    "create_bucket": False,
    "prefix": DEFAULT_PREFIX,
    "group": DEFAULT_GROUP,
    "policy_name": DEFAULT_POLICY_NAME,
    "user": DEFAULT_USER,
    "access": AccessLevel.READ_WRITE,
    "auth": AuthMode.KEYS,
    "circleci_projects": (),
    "circleci_context": None,
    "circleci_branch": None,
    "restrict_context_branch": False,
    "role_name": DEFAULT_ROLE,
    "session_duration": DEFAULT_SESSION_DURATION,
    "region": None,
    "profile": None,
    "adopt": False,
}
_KNOWN = {f.name for f in fields(SetupConfig)}


def answers_of(config: SetupConfig) -> dict[str, Any]:
    """The answers that build ``config`` again (for views that edit one answer at a time)."""
    return {name: getattr(config, name) for name in _KNOWN}


#: Answers that describe how a setup was made, not which setup it is: a command suggested for a
#: finished setup leaves them out (the bucket exists now; what was adopted is the wizard's).
_ONLY_WHILE_MAKING = frozenset({"create_bucket", "adopt"})


def command_line(config: SetupConfig, command: str, *, sandbox: bool = False) -> str:
    """``circleci-s3-wizard COMMAND`` with the options that name ``config``'s setup.

    Every answer that differs from its default is spelled as its CLI option, so a command the
    wizard suggests (verify, plan, destroy) finds the same bucket, names and projects when typed
    as shown, instead of the defaults' setup or a missing ``--bucket``.
    """
    import shlex

    words = ["circleci-s3-wizard", command]
    for name, field in FIELDS.items():
        value = getattr(config, name)
        if name in _ONLY_WHILE_MAKING or value == _DEFAULTS[name]:
            continue
        if isinstance(value, bool):
            words.append(field.option)
        elif isinstance(value, tuple):
            for item in value:
                words += [field.option, shlex.quote(str(item))]
        else:
            words += [field.option, shlex.quote(str(value))]
    if sandbox:
        words.append("--sandbox")
    return " ".join(words)


def _projects(value: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    items = [value] if isinstance(value, str) else list(value)
    # Given twice is given once: the order of first mention is kept.
    return tuple(dict.fromkeys(str(v).strip() for v in items if str(v).strip()))


def _seconds(value: Any, problems: list[Problem]) -> int:
    """A number of seconds as typed (``"7200"``) as an int; anything else is a problem."""
    text = str(value).strip()
    # str.isdigit() is true for '٣٦٠٠' and full-width digits too, and int() reads them: only
    # ASCII digits are a number of seconds the orb and IAM will read the same way.
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
        problems.append(Problem("session_duration",
                                f"must be a whole number of seconds, such as 3600 (got {value!r})"))
        return DEFAULT_SESSION_DURATION
    return int(text)


def _choice(value: Any, kind: type[AccessLevel | AuthMode], field: str,
            problems: list[Problem]) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(c) for c in kind)
        problems.append(Problem(field, f"must be one of {allowed} (got {value!r})"))
        return next(iter(kind))


def environment_problems(environ: Mapping[str, str]) -> list[Problem]:
    """Environment variables that cannot be used (endpoints, ``CIRCLE_TOKEN``), each named as
    the variable it came from; a token is never quoted."""
    from .circleci.hosts import transport_problem
    from .urls import problem

    found = []
    token = environ.get("CIRCLE_TOKEN")
    if token and any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in token):
        # Never shown: a pasted token with a newline is still a token.
        found.append(Problem("CIRCLE_TOKEN", "must be the token alone: it holds a space, tab, "
                             "newline or other control character (copy it again without them; "
                             "the token is not shown here)"))
    for name in ENDPOINT_VARIABLES:
        value = environ.get(name)
        if value is None or value == "":
            continue
        why = problem(value)
        if why is None and name == "CIRCLE_HOST":
            why = transport_problem(value)
        if why:
            found.append(Problem(name, why))
    return found


def build_config(
    answers: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    bucket_required: bool = True,
) -> Built:
    """The validated, normalised configuration for ``answers``, or :class:`BadAnswers`.

    ``answers`` maps ``SetupConfig`` field names to values as given (strings from a command line
    or an input); a missing or ``None`` answer takes its default. ``bucket_required=False`` lets
    the TUI start before the operator has picked a bucket. The region, when not answered, comes
    from ``AWS_REGION``/``AWS_DEFAULT_REGION`` as boto3 would take it, and is checked the same way.
    """
    env = os.environ if environ is None else environ
    unknown = set(answers) - _KNOWN
    if unknown:
        raise TypeError(f"not answers of the setup: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {
        name: (answers.get(name) if answers.get(name) is not None else default)
        for name, default in _DEFAULTS.items()}
    problems: list[Problem] = []
    values["access"] = _choice(values["access"], AccessLevel, "access", problems)
    values["auth"] = _choice(values["auth"], AuthMode, "auth", problems)
    values["circleci_projects"] = _projects(values["circleci_projects"])
    values["create_bucket"] = bool(values["create_bucket"])
    values["restrict_context_branch"] = bool(values["restrict_context_branch"])
    values["adopt"] = bool(values["adopt"])
    values["session_duration"] = _seconds(values["session_duration"], problems)
    for name in ("circleci_context", "circleci_branch", "profile", "region"):
        if values[name] == "" and name != "circleci_context":
            values[name] = None

    region_field = "region"
    if values["region"] is None:
        for variable in REGION_VARIABLES:
            if env.get(variable):
                values["region"], region_field = env[variable], variable
                break

    config = SetupConfig(**values)
    for p in validate_config(config):
        if p.field == "bucket" and not config.bucket and not bucket_required:
            continue
        problems.append(Problem(region_field, p.rule, p.severity) if p.field == "region" else p)
    problems += environment_problems(env)

    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise BadAnswers(problems)
    config = config.with_changes(prefix=normalise_prefix(config.prefix))
    return Built(config, tuple(p for p in problems if p.severity == "warning"))


def build_from_options(options: Mapping[str, Any], *, bucket_required: bool = True) -> Built:
    """:func:`build_config` for parsed command-line options (every other key is ignored);
    bad answers become :class:`~wizard.errors.BadInput` naming each option and its rule."""
    from .errors import BadInput

    try:
        return build_config({name: options.get(name) for name in FIELDS},
                            bucket_required=bucket_required)
    except BadAnswers as bad:
        raise BadInput(bad.for_cli()) from None
