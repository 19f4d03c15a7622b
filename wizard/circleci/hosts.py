"""Which CircleCI ``CIRCLE_HOST`` names, and whether the wizard may talk to it.

Two rules, decided here once for the CLI, the TUI and the client:

* **Transport.** The wizard sends CircleCI a personal API token on every request and, for keys
  mode, an AWS secret access key. Over plain ``http://`` both cross the network in clear text, so
  ``CIRCLE_HOST`` must be ``https://`` unless it is this machine (a loopback address: 127.0.0.0/8,
  ``::1``, or ``localhost``), where a local stand-in or a tunnel's end may speak plain HTTP.
* **Cloud, however spelled.** ``https://CircleCI.com:443/``, ``https://www.circleci.com`` and
  ``https://app.circleci.com`` are all CircleCI cloud. Cloud matters beyond the address: its OIDC
  tokens come from ``oidc.circleci.com/org/<org-id>`` and carry the project-id claim as an IAM
  condition key, where a CircleCI server install issues from its own host. Taking a spelling of
  cloud for a server install used to drop the project-id key from the trust and name an issuer no
  job ever uses. Every cloud spelling is used as :data:`CLOUD_API_HOST`.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

#: CircleCI cloud's API host, as the wizard uses it.
CLOUD_API_HOST = "https://circleci.com"
#: Host names that are CircleCI cloud (compared lower-case, without a default port).
CLOUD_HOST_NAMES = frozenset({"circleci.com", "www.circleci.com", "app.circleci.com"})

TRANSPORT_RULE = ("must start with https:// unless it is this machine (127.0.0.1, ::1 or "
                  "localhost): over http:// the CircleCI token and the AWS secret key would "
                  "cross the network in clear text")


def is_loopback(hostname: str | None) -> bool:
    """True for a name that can only mean this machine: ``localhost`` or a loopback address."""
    if not hostname:
        return False
    name = hostname.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def transport_problem(host: str) -> str | None:
    """Why the wizard must not send a token to ``host``; None when it may.

    Only the scheme and host are judged here; a URL that is not one at all is
    :func:`wizard.urls.problem`'s to name.
    """
    from ..urls import shown

    try:
        parts = urlsplit(host.strip())
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() == "http" and not is_loopback(hostname):
        return f"{TRANSPORT_RULE}; got {shown(host.strip())!r}"
    return None


def is_cloud(host: str | None) -> bool:
    """True when ``host`` (a ``CIRCLE_HOST`` value, or None for the default) is CircleCI cloud."""
    if not host or not host.strip():
        return True
    try:
        parts = urlsplit(host.strip())
        port = parts.port
    except ValueError:
        return False
    name = (parts.hostname or "").rstrip(".").lower()
    scheme = parts.scheme.lower()
    return name in CLOUD_HOST_NAMES and scheme == "https" and port in (None, 443)


def canonical(host: str | None) -> str:
    """The API host the wizard uses for ``host``: every cloud spelling is :data:`CLOUD_API_HOST`;
    anything else loses only surrounding space and trailing slashes."""
    if is_cloud(host):
        return CLOUD_API_HOST
    return (host or "").strip().rstrip("/")
