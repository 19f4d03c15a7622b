"""CircleCI API failures as sentences an operator can act on.

Every HTTP status the wizard can meet (401, 403, 404, 429, 5xx, network trouble) becomes one
subclass of :class:`CircleCIError`, whose ``str()`` says what failed and what to do. They are
:class:`~wizard.errors.WizardError`\\ s, so the engine, the CLI and the TUI show them like AWS
errors. The token never appears: messages are built from the host, the slug and CircleCI's own
short ``message`` field, and :func:`scrub` removes the token from that field in case a server ever
echoed it.
"""

from __future__ import annotations

from ..errors import BadInput, WizardError

TOKEN_HELP = (
    "Make a personal API token at CircleCI > User Settings > Personal API Tokens and put it in "
    "CIRCLE_TOKEN (project API tokens do not work with API v2)."
)


class CircleCIError(WizardError):
    """A CircleCI API call failed; ``str()`` is the sentence to show."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, code=f"HTTP {status}" if status else None, hint=hint)
        self.status = status


class CircleCIAuthError(CircleCIError):
    """401: the token is missing, invalid, expired or of the old format."""


class CircleCIPermissionError(CircleCIError):
    """403: the token is valid but its user may not touch that project or organisation."""


class CircleCINotFound(CircleCIError):
    """404: no such project, context or variable (or the token's user cannot see it)."""


class CircleCIRateLimited(CircleCIError):
    """429 on every attempt: CircleCI is throttling this token."""


class CircleCIServerError(CircleCIError):
    """5xx on every attempt: CircleCI itself is failing."""


class CircleCINetworkError(CircleCIError):
    """CircleCI could not be reached at all (DNS, TLS, proxy, timeout)."""


class CircleCIRequestError(CircleCIError):
    """Any other refusal (400, 409, ...): the request itself was wrong."""


class CircleCIRedirected(CircleCIError):
    """CircleCI's address answered with a redirect: the wizard does not follow it (the token
    would go wherever it points)."""


class CircleCIInsecureHost(CircleCIError, BadInput):
    """``CIRCLE_HOST`` is plain ``http://`` to another machine: refused before any connection."""


class CircleCISlugError(CircleCIError, ValueError):
    """The project slug is not of the form ``vcs/org/repo``."""


SLUG_HELP = (
    "Give the project as vcs/org/repo, e.g. gh/my-org/my-repo or bb/my-org/my-repo, or as "
    "circleci/<organization-id>/<project-id> for GitHub App and GitLab projects (the ids are on "
    "Organization Settings > Overview and Project Settings > Overview)."
)


def scrub(text: str, secret: str | None) -> str:
    """``text`` with ``secret`` (the token) replaced, so no message can carry it."""
    if secret and secret in text:
        return text.replace(secret, "****")
    return text


def for_status(
    status: int,
    *,
    host: str,
    what: str,
    server_message: str = "",
    attempts: int = 1,
    project_slug: str | None = None,
) -> CircleCIError:
    """The error for an HTTP ``status`` met while working on ``what`` (e.g. "project gh/a/b")."""
    from ..urls import shown

    host = shown(host)  # CIRCLE_HOST may carry user:password@; messages never do
    said = f" CircleCI said: {server_message.rstrip('.')}." if server_message else ""
    if status == 401:
        return CircleCIAuthError(
            f"CircleCI at {host} rejected the API token: it is invalid or has expired.{said}",
            status=status,
            hint=TOKEN_HELP,
        )
    if status == 403:
        return CircleCIPermissionError(
            f"The CircleCI token has no access to {what}.{said}",
            status=status,
            hint="Use a personal API token of a user who can administer that project (and, for a "
            "context, the organisation).",
        )
    if status == 404:
        if project_slug is not None:
            return CircleCINotFound(
                f"CircleCI at {host} has no project {project_slug} that this token can see.",
                status=status,
                hint="Check the slug and that the project is set up (followed) in CircleCI. "
                + SLUG_HELP,
            )
        return CircleCINotFound(f"CircleCI could not find {what}.{said}", status=status)
    if status == 429:
        return CircleCIRateLimited(
            f"CircleCI kept rate-limiting the token while working on {what} "
            f"({attempts} attempts).",
            status=status,
            hint="Wait a minute and run the wizard again.",
        )
    if status >= 500:
        return CircleCIServerError(
            f"CircleCI at {host} failed with a server error while working on {what} "
            f"({attempts} attempts).",
            status=status,
            hint="Check https://status.circleci.com and try again in a few minutes.",
        )
    return CircleCIRequestError(
        f"CircleCI refused the request for {what}.{said}",
        status=status,
        hint="This is likely a bug in the wizard; please report it with this message.",
    )


RESTRICTIONS_ADMIN_ONLY = (
    "Only organisation admins can add or remove context restrictions: ask one to run this step, "
    "or to add the restriction at Organization Settings > Contexts."
)


def restrictions_forbidden(context: str, server_message: str = "") -> CircleCIPermissionError:
    """403 on a context's restrictions: almost always a token whose user is not an org admin."""
    said = f" CircleCI said: {server_message.rstrip('.')}." if server_message else ""
    return CircleCIPermissionError(
        f"CircleCI refused to change the restrictions of context {context}: the token's user is "
        f"not an organisation admin.{said}",
        status=403,
        hint=RESTRICTIONS_ADMIN_ONLY,
    )


def restriction_refused(
    context: str, restriction: str, server_message: str = ""
) -> CircleCIRequestError:
    """400 on adding a restriction: an unknown project, or a rule CircleCI will not take."""
    said = f" CircleCI said: {server_message.rstrip('.')}." if server_message else ""
    return CircleCIRequestError(
        f"CircleCI refused to restrict context {context} to {restriction}.{said}",
        status=400,
        hint="A project restriction needs a project of the context's own organisation that the "
        "token's user can see; an expression must follow CircleCI's expression syntax.",
    )


def network_error(host: str, what: str, reason: str, attempts: int) -> CircleCINetworkError:
    """CircleCI could not be reached; ``reason`` is the transport error's class name only."""
    from ..urls import shown

    host = shown(host)
    return CircleCINetworkError(
        f"Could not reach CircleCI at {host} while working on {what} ({reason}, "
        f"{attempts} attempts).",
        hint="Check the network connection, any proxy settings, and CIRCLE_HOST.",
    )


def not_json(host: str, what: str, content_type: str) -> CircleCIRequestError:
    """CircleCI's address answered with a web page (or anything else that is not the API)."""
    from ..urls import shown

    kind = content_type.split(";")[0].strip() or "no content type"
    return CircleCIRequestError(
        f"{shown(host)} answered the request for {what} with something that is not CircleCI's "
        f"API ({kind}).",
        hint="Check CIRCLE_HOST: it is the address of CircleCI itself (https://circleci.com, or "
        "your CircleCI server's), not of a web page or a proxy's login page.")


def redirected(host: str, what: str, status: int, location: str) -> CircleCIRedirected:
    """CircleCI's address sent the request for ``what`` elsewhere; the wizard did not go."""
    from urllib.parse import urlsplit

    from ..urls import shown

    try:
        target = urlsplit(location)
        where = f"{target.scheme}://{target.hostname}" if target.hostname else "another path"
    except ValueError:
        where = "an unreadable address"
    return CircleCIRedirected(
        f"{shown(host)} answered the request for {what} with a redirect ({status}) to {where}; "
        "the wizard does not follow redirects, so the CircleCI token was sent nowhere else.",
        status=status,
        hint="Check CIRCLE_HOST: set it to the address CircleCI's API answers at itself "
        "(https://circleci.com, or your CircleCI server's https:// address).")
