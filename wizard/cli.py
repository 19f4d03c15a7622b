"""The command line: the TUI by default, and headless commands for scripts and CI.

    circleci-s3-wizard [--sandbox]                       # the wizard
    circleci-s3-wizard plan|apply|destroy [opts]         # headless; --yes asks nothing
    circleci-s3-wizard policy --bucket B [--prefix P]    # print the IAM policy JSON
    circleci-s3-wizard credential-process --user NAME    # AWS credential_process JSON

Exit status: 0 done, 1 failed, 2 bad input. Input is validated before boto3 is even imported,
and commands that need no AWS (``--help``, ``policy``, ``credential-process``) never load it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from wizard import __version__
from wizard.config import (
    DEFAULT_GROUP,
    DEFAULT_POLICY_NAME,
    DEFAULT_PREFIX,
    DEFAULT_ROLE,
    DEFAULT_USER,
    AccessLevel,
    AuthMode,
    SetupConfig,
)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

#: SetupConfig field -> the option that sets it, so errors name what the operator typed.
OPTION_OF = {
    "bucket": "--bucket",
    "create_bucket": "--create-bucket",
    "prefix": "--prefix",
    "group": "--group",
    "policy_name": "--policy-name",
    "user": "--user",
    "access": "--access",
    "auth": "--auth",
    "circleci_project": "--circleci-project",
    "circleci_context": "--circleci-context",
    "circleci_branch": "--circleci-branch",
    "role_name": "--role-name",
    "region": "--region",
    "profile": "--profile",
}


class BadInput(Exception):
    """Input the operator must fix; exit status 2, nothing touched."""


def _setup_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The setup's options, shared by the TUI and every headless command.

    On subcommands the defaults are suppressed so an option given before the subcommand
    (``--sandbox plan``) is not overwritten by the subcommand's default.
    """

    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    aws = parser.add_argument_group("what to set up")
    aws.add_argument("--bucket", default=d(None), help="S3 bucket for the builds")
    aws.add_argument("--create-bucket", action="store_true", default=d(False),
                     help="create the bucket (Block Public Access fully on)")
    aws.add_argument("--prefix", default=d(None), help=f"folder in the bucket ({DEFAULT_PREFIX})")
    aws.add_argument("--access", choices=[a.value for a in AccessLevel], default=d(None),
                     help="what CircleCI may do under the prefix (read-write)")
    aws.add_argument("--group", default=d(None), help=f"IAM group ({DEFAULT_GROUP})")
    aws.add_argument("--policy-name", default=d(None), help=f"IAM policy ({DEFAULT_POLICY_NAME})")
    aws.add_argument("--user", default=d(None), help=f"IAM user ({DEFAULT_USER})")
    aws.add_argument("--auth", choices=[a.value for a in AuthMode], default=d(None),
                     help="keys: an access key; oidc: no stored key at all (recommended)")
    aws.add_argument("--role-name", default=d(None), help=f"IAM role for OIDC ({DEFAULT_ROLE})")
    ci = parser.add_argument_group("CircleCI (token from CIRCLE_TOKEN, host from CIRCLE_HOST)")
    ci.add_argument("--circleci-project", default=d(None), metavar="SLUG",
                    help="project slug: gh/org/repo, bb/org/repo or circleci/<org-id>/<project-id>")
    ci.add_argument("--circleci-context", default=d(None), metavar="NAME",
                    help="put the variables in this organisation context instead of the project")
    ci.add_argument("--circleci-branch", default=d(None), metavar="BRANCH",
                    help="OIDC: allow only jobs on this branch")
    where = parser.add_argument_group("where (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL apply)")
    where.add_argument("--profile", default=d(None), help="AWS profile (SSO profiles work)")
    where.add_argument("--region", default=d(None), help="AWS region for a new bucket")
    where.add_argument("--sandbox", action="store_true", default=d(False),
                       help="use an embedded local AWS (moto); nothing touches AWS")


def _run_options(parser: argparse.ArgumentParser, *, confirm: bool) -> None:
    if confirm:
        parser.add_argument("--yes", "-y", action="store_true",
                            help="ask nothing: apply the plan, updating what differs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circleci-s3-wizard",
        description="Give a CircleCI project least-privilege access to one S3 prefix. "
        "Without a command, the interactive wizard starts.",
        epilog="Exit status: 0 done, 1 failed, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _setup_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name, text in (
        ("plan", "show what apply would do; changes nothing"),
        ("apply", "set everything up (asks first unless --yes)"),
        ("destroy", "remove what the wizard made; never the bucket (asks first unless --yes)"),
        ("verify", "prove the identity can use the prefix and nothing else"),
        ("rotate", "replace the access key (keyring and CircleCI), then delete the old one"),
    ):
        cmd = sub.add_parser(name, help=text, description=text)
        _setup_options(cmd, suppress=True)
        _run_options(cmd, confirm=name in {"apply", "destroy", "rotate"})

    pol = sub.add_parser("policy", help="print the least-privilege IAM policy JSON",
                         description="Print the IAM policy JSON, or with --lint judge a policy "
                         "you already have; no AWS call is made.")
    pol.add_argument("--bucket", help="the bucket (required unless --lint)")
    pol.add_argument("--lint", metavar="FILE", type=argparse.FileType("r"),
                     help="check a policy document (a file, or - for standard input) for "
                     "wildcards and bucket-level or ACL grants; exit 1 if it is too broad")
    pol.add_argument("--prefix", default=DEFAULT_PREFIX)
    pol.add_argument("--access", choices=[a.value for a in AccessLevel],
                     default=AccessLevel.READ_WRITE.value)
    pol.add_argument("--partition", choices=["aws", "aws-cn", "aws-us-gov"], default="aws")

    cred = sub.add_parser(
        "credential-process", help="print the stored key as AWS credential_process JSON",
        description="Print {\"Version\": 1, ...} for the AWS CLI and SDKs from the OS keyring, "
        "so no plaintext credentials file is needed.")
    cred.add_argument("--user", required=True)
    cred.add_argument("--install-profile", metavar="PROFILE",
                      help="instead, write a profile using this command into the AWS config")
    cred.add_argument("--region", help="region for the installed profile")
    cred.add_argument("--force", action="store_true",
                      help="replace an existing profile of that name")
    return parser


# --- turning arguments into a validated SetupConfig -------------------------------------------

def config_from_args(args: argparse.Namespace) -> SetupConfig:
    """The validated, normalised SetupConfig; raises BadInput naming the --option."""
    from wizard.validation import ValidationFailed, checked

    def get(name: str, default: Any) -> Any:
        value = getattr(args, name, None)
        return default if value is None else value

    config = SetupConfig(
        bucket=get("bucket", ""),
        create_bucket=bool(getattr(args, "create_bucket", False)),
        prefix=get("prefix", DEFAULT_PREFIX),
        group=get("group", DEFAULT_GROUP),
        policy_name=get("policy_name", DEFAULT_POLICY_NAME),
        user=get("user", DEFAULT_USER),
        access=AccessLevel(get("access", AccessLevel.READ_WRITE.value)),
        auth=AuthMode(get("auth", AuthMode.KEYS.value)),
        circleci_project=get("circleci_project", None),
        circleci_context=get("circleci_context", None),
        circleci_branch=get("circleci_branch", None),
        role_name=get("role_name", DEFAULT_ROLE),
        region=get("region", None) or os.environ.get("AWS_REGION") or None,
        profile=get("profile", None),
    )
    try:
        return checked(config)
    except ValidationFailed as failed:
        raise BadInput("\n".join(
            f"{OPTION_OF.get(p.field, p.field)}: {p.rule}" for p in failed.errors)) from None


def config_warnings(config: SetupConfig) -> list[str]:
    from wizard.validation import validate_config

    return [f"{OPTION_OF.get(p.field, p.field)}: {p.rule}"
            for p in validate_config(config) if p.severity == "warning"]


# --- commands ------------------------------------------------------------------------------

def cmd_policy(args: argparse.Namespace, out: TextIO) -> int:
    from wizard.policy import build_policy, policy_json
    from wizard.validation import normalise_prefix, validate_bucket_name, validate_prefix

    if args.lint is not None:
        return cmd_lint(args.lint, out)
    if not args.bucket:
        raise BadInput("--bucket: is required (the S3 bucket for the builds)")

    problems = [p for p in validate_bucket_name(args.bucket) + validate_prefix(args.prefix)
                if p.severity == "error"]
    if problems:
        raise BadInput("\n".join(f"{OPTION_OF[p.field]}: {p.rule}" for p in problems))
    doc = build_policy(args.bucket, normalise_prefix(args.prefix), AccessLevel(args.access),
                       args.partition)
    print(policy_json(doc), file=out)
    return EXIT_OK


def cmd_lint(source: TextIO, out: TextIO) -> int:
    """Judge a pasted policy: every too-broad grant named; exit 1 if any is an error."""
    from wizard.policy_lint import lint_policy_document

    with source:
        try:
            document = json.load(source)
        except json.JSONDecodeError as bad:
            raise BadInput(f"--lint: is not valid JSON ({bad.msg} at line {bad.lineno})") from None
    problems = lint_policy_document(document)
    for problem in problems:
        print(f"{problem.severity}: {problem.rule}", file=out)
    errors = [p for p in problems if p.severity == "error"]
    if not problems:
        print("No wildcard, bucket-level write or ACL grant found.", file=out)
    return EXIT_FAILED if errors else EXIT_OK


def cmd_credential_process(args: argparse.Namespace, out: TextIO) -> int:
    from wizard import credential_process as cp
    from wizard.secret_store import SecretStore
    from wizard.validation import validate_iam_name

    problems = validate_iam_name(args.user, field="user", kind="user")
    if problems:
        raise BadInput("\n".join(f"--user: {p.rule}" for p in problems))
    from wizard.errors import WizardError
    from wizard.secret_store import KeyringUnavailable

    try:
        if args.install_profile:
            path = cp.write_profile(args.install_profile, args.user, args.region,
                                    overwrite=args.force)
            print(f"Wrote profile [{args.install_profile}] to {path}: the AWS CLI and SDKs now "
                  f"get {args.user}'s key from your keyring (try: aws --profile "
                  f"{args.install_profile} sts get-caller-identity).", file=out)
            return EXIT_OK
        print(cp.credential_json(SecretStore(), args.user), file=out)
    except (cp.NoStoredKey, KeyringUnavailable, ValueError) as exc:
        # Expected failures (no key yet, keyring locked or insecure, a profile conflict or a
        # malformed entry) already read as sentences: not "unexpected errors".
        raise WizardError(str(exc)) from None
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``circleci-s3-wizard`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse: 0 for --help/--version, 2 for bad usage
        return int(exit_.code or 0)
    out = sys.stdout
    try:
        if args.command == "policy":
            return cmd_policy(args, out)
        if args.command == "credential-process":
            return cmd_credential_process(args, out)
        if args.command is None:
            return _run_tui(args)
        from wizard.headless import run_command

        return run_command(args, out)
    except BadInput as bad:
        _error(args, str(bad), code="bad-input")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the operator gets a sentence, never a traceback
        from wizard.errors import explain

        _error(args, str(explain(exc, "running the command")))
        return EXIT_FAILED


def _error(args: argparse.Namespace, message: str, code: str = "failed") -> None:
    if getattr(args, "json", False):
        print(json.dumps({"ok": False, "error": message, "kind": code}), file=sys.stdout)
    else:
        print(f"circleci-s3-wizard: error: {message}", file=sys.stderr)


def _run_tui(args: argparse.Namespace) -> int:
    """Start the Textual wizard with what the options prefilled (validated as typed)."""
    from wizard.validation import validate_config

    config = SetupConfig(
        bucket=args.bucket or "",
        create_bucket=args.create_bucket,
        prefix=args.prefix or DEFAULT_PREFIX,
        group=args.group or DEFAULT_GROUP,
        policy_name=args.policy_name or DEFAULT_POLICY_NAME,
        user=args.user or DEFAULT_USER,
        access=AccessLevel(args.access or AccessLevel.READ_WRITE.value),
        auth=AuthMode(args.auth or AuthMode.KEYS.value),
        circleci_project=args.circleci_project,
        circleci_context=args.circleci_context,
        circleci_branch=args.circleci_branch,
        role_name=args.role_name or DEFAULT_ROLE,
        region=args.region,
        profile=args.profile,
    )
    # Prefilled values must be valid too, except the bucket the operator may still choose.
    errors = [p for p in validate_config(config)
              if p.severity == "error" and not (p.field == "bucket" and not config.bucket)]
    if errors:
        raise BadInput("\n".join(f"{OPTION_OF.get(p.field, p.field)}: {p.rule}" for p in errors))
    from screens.app import run_tui

    return run_tui(config, sandbox=args.sandbox)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
