"""Endpoint URLs from the environment: checked before use, and never shown with credentials.

``AWS_ENDPOINT_URL`` and ``CIRCLE_HOST`` come from the operator's shell. A typo there used to end
as an "Unexpected error"; a URL with ``user:password@`` in it used to be echoed in messages. Every
URL the wizard shows goes through :func:`shown`, and every one it uses through :func:`problem`.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def shown(url: str) -> str:
    """``url`` without its user info (``https://user:secret@host`` -> ``https://host``)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an unreadable URL)"
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def problem(url: str) -> str | None:
    """Why ``url`` cannot be an http(s) endpoint, in words; None when it can."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is not a number
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return (f"must start with https:// (or http:// for a local server); got "
                f"{shown(url)!r}")
    if not parts.hostname:
        return f"has no host name; got {shown(url)!r}"
    if port == 0:
        return f"has port 0; got {shown(url)!r}"
    return None
