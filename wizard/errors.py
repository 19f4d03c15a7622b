"""AWS errors turned into sentences an operator can act on.

Every boto3 failure the wizard meets passes through :func:`explain`, so the TUI, the CLI and the
JSON output say the same thing: what failed, the AWS error code, and what to do about it. No
traceback ever reaches the operator.
"""

from __future__ import annotations

from typing import Any


class WizardError(Exception):
    """A failure the operator can act on; ``str()`` is the sentence to show."""

    def __init__(self, message: str, *, code: str | None = None, hint: str | None = None):
        super().__init__(message)
        self.code = code
        self.hint = hint

    def __str__(self) -> str:
        text = super().__str__()
        if self.code:
            text = f"{text} [{self.code}]"
        if self.hint:
            text = f"{text} {self.hint}"
        return text


class ConflictError(WizardError):
    """Something exists under the wanted name but differs, and the wizard will not touch it."""


class BadInput(WizardError):
    """Input the operator must fix (an answer, an option, an environment variable).

    The CLI exits with :data:`EXIT_BAD_INPUT` for it, and nothing was touched in AWS.
    """


#: The command line's exit status: done, failed (AWS or CircleCI said no), bad input.
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


_HINTS: dict[str, str] = {
    "AccessDenied": "Your AWS identity lacks the permission {action}; ask an administrator for it "
    "(the README lists every permission the wizard needs).",
    "AccessDeniedException": "Your AWS identity lacks the permission {action}; ask an "
    "administrator for it (the README lists every permission the wizard needs).",
    "UnauthorizedOperation": "Your AWS identity lacks the permission {action}.",
    "ExpiredToken": "Your AWS session has expired; sign in again (for SSO: `aws sso login`).",
    "ExpiredTokenException": "Your AWS session has expired; sign in again "
    "(for SSO: `aws sso login`).",
    "InvalidClientTokenId": "The AWS access key in use is not valid; check your profile or "
    "AWS_ACCESS_KEY_ID.",
    "SignatureDoesNotMatch": "The AWS secret key in use does not match its key id; check your "
    "profile.",
    "BucketAlreadyExists": "Bucket names are global across all AWS accounts and this one is "
    "taken; choose another name.",
    "BucketAlreadyOwnedByYou": "You already own this bucket; choose 'use existing bucket'.",
    "NoSuchBucket": "No bucket has that name; check the spelling or choose 'create bucket'.",
    "IllegalLocationConstraintException": "The bucket lives in another region; pass its region "
    "with --region.",
    "PermanentRedirect": "The bucket lives in another region; pass its region with --region.",
    "LimitExceeded": "An IAM quota is reached (e.g. two access keys per user, or five policy "
    "versions); remove an old one and retry.",
    "LimitExceededException": "An IAM quota is reached (e.g. two access keys per user, or five "
    "policy versions); remove an old one and retry.",
    "MalformedPolicyDocument": "IAM rejected the policy document; this is a bug in the wizard, "
    "please report it with the policy printed by `circleci-s3-wizard policy`.",
    "EntityAlreadyExists": "Something of that name exists that the wizard did not make (it is "
    "not under the path /circleci-s3-wizard/); choose another name.",
    "DeleteConflict": "It is still in use; remove what depends on it first.",
    "Throttling": "AWS is throttling requests; wait a moment and retry.",
    "ThrottlingException": "AWS is throttling requests; wait a moment and retry.",
    "RequestLimitExceeded": "AWS is throttling requests; wait a moment and retry.",
    "SlowDown": "S3 is throttling requests (Slow Down); wait a moment and retry.",
    # S3 answers a HEAD it throttles with a bare 503 (a HEAD has no body to say SlowDown in).
    "503": "S3 is throttling requests or briefly unavailable (503); wait a moment and retry.",
}


def explain(exc: BaseException, doing: str, action: str | None = None) -> WizardError:
    """A :class:`WizardError` for ``exc`` raised while ``doing`` (e.g. "creating the group").

    ``action`` is the IAM action the call needed (``iam:CreateGroup``), named in AccessDenied
    hints so the operator knows exactly which permission to ask for.
    """
    if isinstance(exc, WizardError):
        return exc
    response: dict[str, Any] | None = getattr(exc, "response", None)
    if response and "Error" in response:
        error = response["Error"]
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).strip()
        hint = _HINTS.get(code, "").format(action=action or "needed for this step") or None
        sentence = f"AWS refused {doing}"
        if message:
            sentence += f": {message.rstrip('.')}."
        else:
            sentence += "."
        return WizardError(sentence, code=code, hint=hint)
    name = type(exc).__name__
    if name in {"NoCredentialsError", "PartialCredentialsError"}:
        return WizardError(
            f"No AWS credentials were found while {doing}.",
            hint="Set AWS_PROFILE (or --profile), run `aws sso login` for an SSO profile, or "
            "try the wizard with --sandbox first.",
        )
    if name in {"ProfileNotFound"}:
        return WizardError(f"{exc}.", hint="Check --profile / AWS_PROFILE against ~/.aws/config.")
    if name in {"SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"}:
        return WizardError(
            f"Your AWS SSO session is missing or expired while {doing}.",
            hint="Run `aws sso login --profile <your profile>` and try again.",
        )
    if name in {"EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError",
                "ConnectionClosedError", "ProxyConnectionError"}:
        from .urls import shown

        where = shown(str(getattr(exc, "kwargs", {}).get("endpoint_url", "") or "")) or "AWS"
        return WizardError(
            f"Could not reach {where} while {doing} ({name}).",
            hint="Check your network connection, proxy, or AWS_ENDPOINT_URL.",
        )
    if name == "NoRegionError":
        return WizardError(
            f"No AWS region is set while {doing}.", hint="Pass --region or set AWS_REGION."
        )
    from .urls import shown

    return WizardError(f"Unexpected error while {doing}: {name}: {_without_urls(str(exc), shown)}")


def _without_urls(text: str, shown: Any) -> str:
    """``text`` with every URL's user info removed (messages may quote an endpoint)."""
    import re

    return re.sub(r"[a-z][a-z0-9+.-]*://[^\s'\"<>]+", lambda m: shown(m.group(0)), text)


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, or None."""
    response = getattr(exc, "response", None)
    if response and "Error" in response:
        return str(response["Error"].get("Code"))
    return None
