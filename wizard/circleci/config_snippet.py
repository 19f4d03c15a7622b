"""A ready ``.circleci/config.yml`` that uses the setup: the aws-cli orb, then ``aws s3``.

With OIDC the orb's ``aws-cli/setup`` gets ``role_arn`` and assumes the role with the job's
``$CIRCLE_OIDC_TOKEN_V2`` (no key anywhere), as session ``role_session_name`` for
``session_duration`` seconds (the orb's parameters; its defaults are ``${CIRCLE_JOB}`` and
``"3600"``, and the duration may not exceed the role's MaxSessionDuration). With keys it reads the
project's (or context's) ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``. The command matches the
access level the policy grants: ``sync`` up for read-write, ``cp --recursive`` for upload-only
(nothing to compare or delete), ``sync`` down for read-only.

Comments in the workflow say what the YAML cannot: with OIDC, the context the job must use
(CircleCI gives OIDC tokens to jobs that use a context, and the wizard delivers ``AWS_ROLE_ARN``
to one), and in both modes the forked-pull-request setting, which would hand forks the token or
the key. Every value, in comments too, is written as a YAML double-quoted (JSON) string, so odd
bucket, context or branch names cannot break the document.
"""

from __future__ import annotations

import json

from ..config import AccessLevel, AuthMode, SetupConfig
from .oidc import (
    DEFAULT_ROLE_SESSION_NAME,
    DEFAULT_SESSION_DURATION,
    check_role_session_name,
    check_session_duration,
)

#: The circleci/aws-cli orb major.minor the snippet was written against (``setup`` with
#: ``role_arn`` and ``$CIRCLE_OIDC_TOKEN_V2``).
ORB = "circleci/aws-cli@5.1"
LOCAL_DIR = "./build"


def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text)


def s3_url(config: SetupConfig) -> str:
    return f"s3://{config.bucket}/{config.prefix}"


def s3_command(config: SetupConfig) -> tuple[str, str]:
    """(step name, shell command) for the access level."""
    url = s3_url(config)
    if config.access is AccessLevel.UPLOAD_ONLY:
        return "Upload to S3", f'aws s3 cp {LOCAL_DIR} "{url}" --recursive'
    if config.access is AccessLevel.READ_ONLY:
        return "Download from S3", f'aws s3 sync "{url}" {LOCAL_DIR}'
    return "Upload to S3", f'aws s3 sync {LOCAL_DIR} "{url}"'


FORK_SETTING = "Pass secrets to builds from forked pull requests"


def _workflow_comments(config: SetupConfig) -> list[str]:
    """What the job must run with, and the fork warning, as YAML comment lines."""
    oidc = config.auth is AuthMode.OIDC
    lines: list[str] = []
    if oidc and config.circleci_context:
        lines += [
            f"      # The job must use context {_q(config.circleci_context)}: CircleCI gives OIDC "
            "tokens",
            "      # ($CIRCLE_OIDC_TOKEN_V2) only to jobs that use a context.",
        ]
    elif oidc:
        lines += [
            "      # No context chosen: give this job one (context: \"<name>\"). CircleCI gives "
            "OIDC",
            "      # tokens ($CIRCLE_OIDC_TOKEN_V2) only to jobs that use a context.",
        ]
    what = ("forks get OIDC tokens for this project too" if oidc
            else "a fork's code can read the AWS key")
    lines += [
        f"      # Forked pull requests: keep \"{FORK_SETTING}\" off",
        f"      # (Project Settings > Advanced); with it on, {what}.",
    ]
    return lines


def config_yml(
    config: SetupConfig,
    role_arn: str | None = None,
    *,
    role_session_name: str = DEFAULT_ROLE_SESSION_NAME,
    session_duration: int | str | None = None,
    max_session_duration: int = DEFAULT_SESSION_DURATION,
) -> str:
    """The whole ``.circleci/config.yml`` text for this setup.

    ``role_session_name`` and ``session_duration`` are the orb's OIDC parameters (the duration
    is the setup's ``--session-duration`` unless given); a duration above
    ``max_session_duration`` (the role's MaxSessionDuration:
    :func:`wizard.circleci.oidc_steps.max_session_duration`) or a session name STS would refuse
    raises ValueError with the sentence to show.
    """
    if session_duration is None:
        session_duration = config.session_duration
    region = config.region or "${AWS_REGION}"
    step_name, command = s3_command(config)
    oidc = config.auth is AuthMode.OIDC
    how = (
        "OIDC: the job assumes the role with a short-lived token; no AWS key is stored."
        if oidc
        else "Access key: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY come from "
        + (f"context {_q(config.circleci_context)}." if config.circleci_context
           else "the project's environment variables.")
    )
    lines = [
        "# .circleci/config.yml written by circleci-s3-wizard",
        f"# {how}",
        "version: 2.1",
        "",
        "orbs:",
        f"  aws-cli: {ORB}",
        "",
        "jobs:",
        "  upload:",
        "    docker:",
        "      - image: cimg/base:stable",
        "    steps:",
        "      - checkout",
        f"      # Build your files into {LOCAL_DIR} here.",
        "      - aws-cli/setup:",
    ]
    if oidc:
        lines += [
            f"          role_arn: {_q(role_arn or '${AWS_ROLE_ARN}')}",
            f"          region: {_q(region)}",
            f"          role_session_name: {_q(check_role_session_name(role_session_name))}",
            "          session_duration: "
            + _q(str(check_session_duration(session_duration, max_session_duration))),
        ]
    else:
        lines += [
            f"          aws_access_key_id: {_q('${AWS_ACCESS_KEY_ID}')}",
            f"          aws_secret_access_key: {_q('${AWS_SECRET_ACCESS_KEY}')}",
            f"          region: {_q(region)}",
        ]
    lines += [
        "      - run:",
        f"          name: {_q(step_name)}",
        f"          command: {_q(command)}",
        "",
        "workflows:",
        "  deploy:",
        "    jobs:",
        *_workflow_comments(config),
    ]
    options: list[str] = []
    if config.circleci_context:
        options.append(f"          context: {_q(config.circleci_context)}")
    if config.circleci_branch:
        options += [
            "          filters:",
            "            branches:",
            f"              only: {_q(config.circleci_branch)}",
        ]
    lines.append("      - upload:" if options else "      - upload")
    lines += options
    return "\n".join(lines) + "\n"
