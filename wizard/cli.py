"""The command line: the TUI by default, and headless commands for scripts and CI.

    circleci-s3-wizard [--sandbox]                       # the wizard
    circleci-s3-wizard plan|apply|destroy [opts]         # headless; --yes asks nothing
    circleci-s3-wizard verify|rotate [opts]              # prove the access; replace the key
    circleci-s3-wizard policy --bucket B [--prefix P]    # print the IAM policy JSON
    circleci-s3-wizard credential-process --user NAME    # AWS credential_process JSON
    circleci-s3-wizard sandbox                           # serve the local AWS until ctrl+c

Exit status: 0 done, 1 failed, 2 bad input. Answers are validated (by
:func:`wizard.answers.build_config`, the same builder the TUI uses) before boto3 is even
imported, and commands that need no AWS (``--help``, ``policy``, ``credential-process``) never
load it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, Protocol, TextIO

from . import __version__
from .answers import FIELDS, build_from_options
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
from .errors import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, BadInput, WizardError

HEADLESS = {
    "plan": "show what apply would do; changes nothing",
    "apply": "set everything up (asks first unless --yes)",
    "destroy": "remove what the wizard made; never the bucket (asks first unless --yes)",
    "verify": "prove the identity can use the prefix and nothing else",
    "rotate": "replace the access key in IAM, the keyring and CircleCI, then delete the old one",
}


def _setup_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """The setup's options, shared by the TUI and every headless command.

    On subcommands the defaults are suppressed so an option given before the subcommand
    (``--sandbox plan``) is not overwritten by the subcommand's default.
    """

    def d(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    o = {name: field.option for name, field in FIELDS.items()}
    aws = parser.add_argument_group("what to set up")
    aws.add_argument(o["bucket"], default=d(None), help="S3 bucket for the builds")
    aws.add_argument(o["create_bucket"], action="store_true", default=d(False),
                     help="create the bucket (Block Public Access fully on)")
    aws.add_argument(o["prefix"], default=d(None), help=f"folder in the bucket ({DEFAULT_PREFIX})")
    aws.add_argument(o["access"], choices=[a.value for a in AccessLevel], default=d(None),
                     help="what CircleCI may do under the prefix (read-write)")
    aws.add_argument(o["group"], default=d(None), help=f"IAM group ({DEFAULT_GROUP})")
    aws.add_argument(o["policy_name"], default=d(None),
                     help=f"IAM policy ({DEFAULT_POLICY_NAME})")
    aws.add_argument(o["user"], default=d(None), help=f"IAM user ({DEFAULT_USER})")
    aws.add_argument(o["auth"], choices=[a.value for a in AuthMode], default=d(None),
                     help="keys: an access key; oidc: no stored key at all (recommended)")
    aws.add_argument(o["role_name"], default=d(None), help=f"IAM role for OIDC ({DEFAULT_ROLE})")
    ci = parser.add_argument_group("CircleCI (token from CIRCLE_TOKEN, host from CIRCLE_HOST)")
    ci.add_argument(o["circleci_projects"], action="append", dest="circleci_projects",
                    default=d(None), metavar="SLUG",
                    help="project slug: gh/org/repo, bb/org/repo or circleci/<org-id>/"
                    "<project-id>; OIDC: give it once per project the role trusts")
    ci.add_argument(o["circleci_context"], default=d(None), metavar="NAME",
                    help="put the variables in this organisation context instead of the "
                    "project; the wizard restricts the context to the --circleci-project(s) "
                    "(CircleCI lets only organisation admins do that)")
    ci.add_argument(o["circleci_branch"], default=d(None), metavar="BRANCH",
                    help="OIDC: allow only jobs on this branch")
    ci.add_argument(o["restrict_context_branch"], action="store_true", default=d(False),
                    help="with --circleci-context and --circleci-branch: also restrict the "
                    "context to pipelines on that branch (an expression restriction; it fails "
                    "closed, so tag pipelines do not get the context; org admins only)")
    ci.add_argument(o["session_duration"], default=d(None), metavar="SECONDS",
                    help=f"OIDC: how long a job's AWS session lasts ({DEFAULT_SESSION_DURATION}; "
                    "at most the role's MaxSessionDuration)")
    aws.add_argument(o["adopt"], action="store_true", default=d(False),
                     help="take over same-named IAM resources the wizard did not make; the "
                     "plan first shows what else each grants and removes it (never when that "
                     "would change anyone else's access)")
    where = parser.add_argument_group("where (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL apply)")
    where.add_argument(o["profile"], default=d(None), help="AWS profile (SSO profiles work)")
    where.add_argument(o["region"], default=d(None), help="AWS region for a new bucket")
    where.add_argument("--sandbox", action="store_true", default=d(False),
                       help="use a local imitation of AWS (moto): the one `circleci-s3-wizard "
                       "sandbox` serves, else one for this command only")


def _run_options(parser: argparse.ArgumentParser, *, confirm: bool) -> None:
    if confirm:
        parser.add_argument("--yes", "-y", action="store_true",
                            help="ask nothing: apply the plan, updating what differs")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


class _Parser(argparse.ArgumentParser):
    """The top-level parser, knowing its subcommands' parsers by name."""

    commands: dict[str, argparse.ArgumentParser]


def build_parser() -> _Parser:
    parser = _Parser(
        prog="circleci-s3-wizard",
        description="Give a CircleCI project least-privilege access to one S3 prefix. "
        "Without a command, the interactive wizard starts.",
        epilog="Exit status: 0 done, 1 failed, 2 bad input.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _setup_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    for name, text in HEADLESS.items():
        cmd = sub.add_parser(name, help=text, description=text)
        _setup_options(cmd, suppress=True)
        _run_options(cmd, confirm=name in {"apply", "destroy", "rotate"})

    pol = sub.add_parser("policy", help="print the least-privilege IAM policy JSON",
                         description="Print the IAM policy JSON, or with --lint judge a policy "
                         "you already have; no AWS call is made.")
    pol.add_argument("--bucket", help="the bucket (required unless --lint)")
    pol.add_argument("--lint", metavar="FILE",
                     help="check a policy document (a file, or - for standard input) for "
                     "wildcards and bucket-level or ACL grants; exit 1 if it is too broad")
    pol.add_argument("--prefix", default=DEFAULT_PREFIX)
    pol.add_argument("--access", choices=[a.value for a in AccessLevel],
                     default=AccessLevel.READ_WRITE.value)
    pol.add_argument("--partition", choices=["aws", "aws-cn", "aws-us-gov"], default="aws")
    pol.add_argument("--json", action="store_true",
                     help="with --lint: the findings as JSON (the policy itself is JSON already)")

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
    cred.add_argument("--sandbox", action="store_true",
                      help="the key made in the sandbox (its own keyring entry)")

    sub.add_parser("sandbox", help="serve the local imitation of AWS until ctrl+c",
                   description="Start the sandbox (moto's server on 127.0.0.1) in the foreground "
                   "and keep it running, so --sandbox commands in other terminals (apply, "
                   "verify, destroy, the wizard) share it. Prints the variables to export for "
                   "the AWS CLI or other tools.")
    parser.commands = dict(sub.choices)
    return parser


def _parse(parser: _Parser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse, and refuse a word nobody knows with the usage of the command it was given to
    (``plan --frobnicate`` shows plan's options, not the top-level list)."""
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        command = getattr(args, "command", None)
        (parser.commands.get(command, parser) if command else parser).error(
            f"unrecognized arguments: {' '.join(unknown)}")
    return args


# --- commands without AWS ------------------------------------------------------------------


def cmd_policy(args: argparse.Namespace, out: TextIO) -> int:
    from .policy import build_policy, policy_json
    from .validation import normalise_prefix, validate_bucket_name, validate_prefix

    if args.lint is not None:
        return cmd_lint(args.lint, out, as_json=args.json)
    if not args.bucket:
        raise BadInput("--bucket: is required (the S3 bucket for the builds)")
    problems = [p for p in validate_bucket_name(args.bucket) + validate_prefix(args.prefix)
                if p.severity == "error"]
    if problems:
        raise BadInput("\n".join(f"{FIELDS[p.field].option}: {p.rule}" for p in problems))
    doc = build_policy(args.bucket, normalise_prefix(args.prefix), AccessLevel(args.access),
                       args.partition)
    print(policy_json(doc), file=out)
    return EXIT_OK


def cmd_lint(source: str, out: TextIO, *, as_json: bool = False) -> int:
    """Judge a pasted policy: every too-broad grant named; exit 1 if any is an error."""
    from .policy_lint import PolicyInputError, lint_policy_document, parse_policy_document

    try:
        raw = sys.stdin.buffer.read() if source == "-" else _read_file(source)
        document = parse_policy_document(raw)
    except PolicyInputError as bad:
        raise BadInput(f"--lint: {bad.rule}") from None
    problems = lint_policy_document(document)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        print(json.dumps({"ok": not errors, "findings": [
            {"severity": p.severity, "rule": p.rule} for p in problems]}, indent=2), file=out)
    else:
        for problem in problems:
            print(f"{problem.severity}: {problem.rule}", file=out)
        if not problems:
            print("No wildcard, bucket-level write or ACL grant found.", file=out)
    return EXIT_FAILED if errors else EXIT_OK


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise BadInput(f"--lint: cannot read {path!r} ({exc.strerror or exc})") from None


def cmd_credential_process(args: argparse.Namespace, out: TextIO) -> int:
    from . import credential_process as cp
    from .connect import secret_store
    from .validation import validate_iam_name

    problems = [f"--user: {p.rule}" for p in validate_iam_name(args.user, field="user",
                                                                kind="user")]
    if args.install_profile is not None:
        problems += [f"--install-profile: {rule}" for rule in
                     cp.profile_name_problems(args.install_profile)]
    if problems:
        raise BadInput("\n".join(problems))
    from .secret_store import KeyringUnavailable

    try:
        if args.install_profile is not None:
            endpoint = None
            if args.sandbox:
                from .sandbox import find_shared

                shared = find_shared()
                if shared is None:
                    raise BadInput("--sandbox: an installed profile needs a sandbox that keeps "
                                   "running: start `circleci-s3-wizard sandbox` in another "
                                   "terminal first")
                endpoint = shared.endpoint
            path = cp.write_profile(args.install_profile, args.user, args.region,
                                    overwrite=args.force, sandbox=args.sandbox,
                                    endpoint_url=endpoint)
            print(f"Wrote profile [{args.install_profile}] to {path}: the AWS CLI and SDKs now "
                  f"get {args.user}'s key from your keyring (try: aws --profile "
                  f"{args.install_profile} sts get-caller-identity).", file=out)
            return EXIT_OK
        print(cp.credential_json(secret_store(args.sandbox), args.user), file=out)
    except (cp.NoStoredKey, KeyringUnavailable, ValueError) as exc:
        # Expected failures (no key yet, keyring locked or insecure, a profile conflict or a
        # malformed entry) already read as sentences: not "unexpected errors".
        raise WizardError(str(exc)) from None
    return EXIT_OK


def cmd_sandbox(args: argparse.Namespace, out: TextIO) -> int:
    """Serve the sandbox in the foreground until interrupted."""
    import signal
    import threading

    from .sandbox import SHARED, Sandbox, find_shared

    if find_shared() is not None:
        raise WizardError("A sandbox is already running (`circleci-s3-wizard sandbox` in another "
                          "terminal); --sandbox commands use it.")
    box = Sandbox(region=os.environ.get("AWS_REGION") or "us-east-1", lifetime=SHARED).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        box.publish()
        print(box.banner(), file=sys.stderr)
        print("While this runs, add --sandbox to any command to use it, e.g.\n"
              "  circleci-s3-wizard apply --sandbox --bucket demo-builds --create-bucket --yes\n"
              "Other tools (the AWS CLI) reach it with these variables:", file=sys.stderr)
        for name, value in box.environment().items():
            print(f"export {name}={value}", file=out)
        out.flush()
        print("Press ctrl+c to stop it (everything in it vanishes).", file=sys.stderr)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        box.withdraw()
        from .connect import secret_store

        box.forget_keys(secret_store(True))  # the keys made in it go with it
        box.stop()
    print("Sandbox stopped.", file=sys.stderr)
    return EXIT_OK


class StartsTheWizard(Protocol):
    """How the command line starts the interactive wizard; given by whoever has a UI.

    The engine never imports the screens: the console script (``circleci_s3_wizard.launch``)
    hands its Textual wizard in, and a process without one runs the headless commands only.
    """

    def __call__(self, config: SetupConfig, *, sandbox: bool) -> int: ...


def _run_tui(args: argparse.Namespace, start: StartsTheWizard | None) -> int:
    """Start the interactive wizard with what the options prefilled (validated as typed)."""
    built = build_from_options(vars(args), bucket_required=False)
    if start is None:
        raise WizardError("this program has no interactive wizard; run a headless command "
                          "(plan, apply, destroy, verify, rotate; see --help)")
    missing = no_terminal(sys.stdin, sys.stdout)
    if missing:
        raise BadInput(missing)
    return start(built.config, sandbox=args.sandbox)


def no_terminal(stdin: TextIO | None, stdout: TextIO | None) -> str | None:
    """Why the interactive wizard cannot start here, and how to run it headless; None when it can.

    Without a terminal on both ends the wizard would draw escape codes into a pipe (or wait on
    keys that never come, spinning a core); a script or CI job wants the headless commands.
    """
    def is_terminal(stream: TextIO | None) -> bool:
        try:
            return stream is not None and stream.isatty()
        except (OSError, ValueError):  # closed or detached
            return False

    ends = [name for name, stream in (("stdin", stdin), ("stdout", stdout))
            if not is_terminal(stream)]
    if not ends:
        return None
    return (f"the interactive wizard needs a terminal, and {' and '.join(ends)} "
            f"{'is' if len(ends) == 1 else 'are'} not one. Without a terminal, run it headless: "
            "circleci-s3-wizard plan --bucket BUCKET [options] to see what it would do, then "
            "circleci-s3-wizard apply --yes --bucket BUCKET [options] (see --help)")


def main(argv: Sequence[str] | None = None, *, start_wizard: StartsTheWizard | None = None) -> int:
    """The command line: a headless command, or (with ``start_wizard``) the interactive wizard."""
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except SystemExit as exit_:  # argparse: 0 for --help/--version, 2 for bad usage
        return int(exit_.code or 0)
    out = sys.stdout
    try:
        if args.command == "sandbox" or (getattr(args, "sandbox", False)
                                          and args.command != "credential-process"):
            from .sandbox import require_parts

            require_parts()
        if args.command == "policy":
            return cmd_policy(args, out)
        if args.command == "credential-process":
            return cmd_credential_process(args, out)
        if args.command == "sandbox":
            return cmd_sandbox(args, out)
        if args.command is None:
            return _run_tui(args, start_wizard)
        from .headless import run_command

        return run_command(args, out)
    except BadInput as bad:
        _error(args, str(bad), code="bad-input")
        return EXIT_BAD_INPUT
    except WizardError as failed:
        _error(args, str(failed))
        return EXIT_FAILED
    except BrokenPipeError:
        # `plan | head`: the reader left. Say nothing more, and keep Python from complaining
        # at exit that stdout could not be flushed.
        _silence_stdout()
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - the operator gets a sentence, never a traceback
        from .errors import explain

        _error(args, str(explain(exc, "running the command")))
        return EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _error(args: argparse.Namespace, message: str, code: str = "failed") -> None:
    try:
        if getattr(args, "json", False):
            print(json.dumps({"ok": False, "error": message, "kind": code}), file=sys.stdout)
        else:
            print(f"circleci-s3-wizard: error: {message}", file=sys.stderr)
    except BrokenPipeError:
        _silence_stdout()


def run(start_wizard: StartsTheWizard | None = None) -> None:
    """The console script's body: :func:`main`, then out at once.

    A headless command has flushed its output and released its lock by the time ``main``
    returns; the interpreter's own teardown (collecting boto3's many objects) would add a tenth
    of a second to every run for nothing, so the process ends there. The TUI takes the usual way
    out: Textual and the clipboard guard finish their work at exit.
    """
    argv = sys.argv[1:]
    code = main(argv, start_wizard=start_wizard)
    if not _runs_the_tui(argv):
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def _runs_the_tui(argv: Sequence[str]) -> bool:
    return not any(word in argv for word in (*HEADLESS, "policy", "credential-process",
                                             "sandbox", "-h", "--help", "--version"))

