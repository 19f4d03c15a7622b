"""A ready ``.circleci/config.yml`` that uses the setup: the aws-cli orb, then ``aws s3``.

With OIDC the orb's ``aws-cli/setup`` gets ``role_arn`` and assumes the role with the job's
``$CIRCLE_OIDC_TOKEN_V2`` (no key anywhere); with keys it reads the project's (or context's)
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``. The command matches the access level the policy
grants: ``sync`` up for read-write, ``cp --recursive`` for upload-only (nothing to compare or
delete), ``sync`` down for read-only. Every value is written as a YAML double-quoted (JSON) string,
so odd bucket or branch names cannot break the document.
"""

from __future__ import annotations

import json

from wizard.config import AccessLevel, AuthMode, SetupConfig

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


def config_yml(config: SetupConfig, role_arn: str | None = None) -> str:
    """The whole ``.circleci/config.yml`` text for this setup."""
    region = config.region or "${AWS_REGION}"
    step_name, command = s3_command(config)
    oidc = config.auth is AuthMode.OIDC
    how = (
        "OIDC: the job assumes the role with a short-lived token; no AWS key is stored."
        if oidc
        else "Access key: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY come from "
        + (f"context {config.circleci_context}." if config.circleci_context
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
        ]
        if not config.circleci_context:
            lines.append("          # If no OIDC token is found, give the job a context: some "
                         "CircleCI setups issue tokens only then.")
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
