"""A small CircleCI API v2 client: projects, project variables, contexts and their restrictions.

Only the calls the wizard needs, each a method returning plain dataclasses. Requests carry the
``Circle-Token`` header (added by an httpx ``Auth`` whose repr hides it, so the token is in no
header dict, repr, log line or message). 429 answers are retried honouring ``Retry-After`` (capped)
and 5xx answers and network failures are retried a bounded number of times with a short backoff,
for calls that are safe to repeat. Every failure becomes a :mod:`wizard.circleci.errors` sentence.

Context restrictions (``GET|POST /context/{id}/restrictions``,
``DELETE /context/{id}/restrictions/{restriction_id}``) carry CircleCI's own caveats: only
organisation admins may add or remove them (a 403 says so in words); a context with no project
restriction left is usable by every project of the organisation again; and an ``expression``
restriction fails closed, so a job whose pipeline lacks a value the expression reads (a tag
pipeline has no ``pipeline.git.branch``), or an expression that cannot be evaluated, does not get
the context at all.

httpx is imported when a client is built, never at module import.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from .errors import (
    SLUG_HELP,
    CircleCIError,
    CircleCIInsecureHost,
    CircleCINotFound,
    CircleCIRequestError,
    CircleCISlugError,
    for_status,
    network_error,
    not_json,
    redirected,
    restriction_refused,
    restrictions_forbidden,
    scrub,
)
from .hosts import CLOUD_API_HOST, canonical, transport_problem

if TYPE_CHECKING:
    import httpx

    from ..secret_store import SecretStore

DEFAULT_HOST = CLOUD_API_HOST
#: The CircleCI CLI's conventions, which the wizard follows.
TOKEN_ENV = "CIRCLE_TOKEN"
HOST_ENV = "CIRCLE_HOST"


def keyring_token_name(host: str = DEFAULT_HOST) -> str:
    """The name the token is kept under in the OS keyring: one token per CircleCI host (every
    spelling of CircleCI cloud is one host)."""
    host = canonical(host)
    return f"circleci-token:{urlsplit(host).netloc or host}"


@dataclass(frozen=True, slots=True)
class Project:
    """What ``GET /project/{slug}`` says; the ids are what OIDC trust is built from."""

    id: str
    organization_id: str
    slug: str
    name: str
    vcs_url: str | None = None


@dataclass(frozen=True, slots=True)
class MaskedEnvVar:
    """A project variable as CircleCI returns it: the name and ``xxxx`` + the last four."""

    name: str
    masked: str

    @property
    def last_four(self) -> str:
        return self.masked[-4:]


@dataclass(frozen=True, slots=True)
class Context:
    id: str
    name: str


#: The static AWS key variables the aws-cli orb reads (and prefers over OIDC when present).
STATIC_KEY_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")

PROJECT_RESTRICTION = "project"
EXPRESSION_RESTRICTION = "expression"


@dataclass(frozen=True, slots=True)
class ContextRestriction:
    """One restriction of a context: ``type`` is project, expression or group; ``value`` the
    project id, the expression, or the group id; ``name`` CircleCI's label (the project name)."""

    id: str
    type: str
    value: str
    name: str = ""

    @property
    def project_id(self) -> str | None:
        return self.value if self.type == PROJECT_RESTRICTION else None

    def describe(self) -> str:
        if self.type == PROJECT_RESTRICTION:
            return f"project {self.name} ({self.value})" if self.name else f"project {self.value}"
        if self.type == EXPRESSION_RESTRICTION:
            return f"the expression {self.value}"
        return f"{self.type} {self.name or self.value}"


def branch_expression(branch: str) -> str:
    """``pipeline.git.branch == "<branch>"`` for an expression restriction.

    CircleCI's string literals take ``\\"`` and ``\\\\`` escapes only, so control characters are
    refused. The expression fails closed: pipelines without a branch (tags) do not get the context.
    """
    name = branch.strip()
    if name.startswith("refs/heads/"):
        name = name[len("refs/heads/") :]
    if not name or any(ord(ch) < 32 for ch in name):
        raise ValueError(f"Branch {branch!r} cannot be used in a context expression restriction.")
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'pipeline.git.branch == "{escaped}"'


@dataclass(frozen=True, slots=True)
class ProjectSlug:
    vcs: str
    org: str
    repo: str


def _is_json(response: httpx.Response) -> bool:
    try:
        response.json()
    except ValueError:
        return False
    return True


def parse_slug(slug: str) -> ProjectSlug:
    """``gh/org/repo`` (or ``circleci/<org-id>/<project-id>``) split in three, or a clear error."""
    parts = slug.strip().strip("/").split("/")
    if len(parts) != 3 or not all(parts):
        raise CircleCISlugError(f"{slug!r} is not a CircleCI project slug.", hint=SLUG_HELP)
    return ProjectSlug(*parts)


def last_four(value: str) -> str:
    """The part of a value CircleCI shows back after ``xxxx``."""
    return value[-4:]


def _token_auth(token: str) -> httpx.Auth:
    """httpx auth adding ``Circle-Token``: it holds the token, so no header dict or repr does."""
    import httpx

    class CircleTokenAuth(httpx.Auth):
        def __init__(self, secret: str):
            self._secret = secret

        def auth_flow(self, request: httpx.Request,
                      ) -> Generator[httpx.Request, httpx.Response, None]:
            request.headers["Circle-Token"] = self._secret
            yield request

        def __repr__(self) -> str:
            return "<CircleCI token>"

    return CircleTokenAuth(token)


class CircleCIClient:
    """CircleCI API v2 at ``{host}/api/v2`` with a personal API token."""

    def __init__(
        self,
        token: str,
        host: str = DEFAULT_HOST,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
        max_attempts: int = 3,
        backoff: float = 0.5,
        max_retry_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        import httpx

        if not token:
            raise ValueError("A CircleCI API token is required (set CIRCLE_TOKEN).")
        insecure = transport_problem(host or DEFAULT_HOST)
        if insecure:  # refused before any connection: the token would go in clear text
            raise CircleCIInsecureHost(f"{HOST_ENV} {insecure}.")
        self.host = canonical(host or DEFAULT_HOST)
        self._token = token
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff
        self._max_retry_wait = max_retry_wait
        self._sleep = sleep
        self._projects: dict[str, Project] = {}
        self._http = httpx.Client(
            base_url=f"{self.host}/api/v2",
            auth=_token_auth(token),
            headers={"Accept": "application/json", "User-Agent": "circleci-s3-wizard"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            transport=transport,
            follow_redirects=False,
        )

    @classmethod
    def from_environment(
        cls,
        store: SecretStore | None = None,
        environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> CircleCIClient | None:
        """A client from ``CIRCLE_TOKEN``/``CIRCLE_HOST``, else the keyring's token, else None."""
        env = os.environ if environ is None else environ
        host = env.get(HOST_ENV) or DEFAULT_HOST
        token = env.get(TOKEN_ENV)
        if not token and store is not None:
            token = store.load_token(keyring_token_name(host))
        if not token:
            return None
        return cls(token, host, **kwargs)

    def __repr__(self) -> str:
        return f"CircleCIClient(host={self.host!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CircleCIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------

    def _retry_after(self, response: httpx.Response, attempt: int) -> float:
        header = response.headers.get("Retry-After", "").strip()
        wait: float | None = None
        if header:
            try:
                wait = float(header)
            except ValueError:
                try:
                    wait = parsedate_to_datetime(header).timestamp() - time.time()
                except (TypeError, ValueError, IndexError):
                    wait = None
        if wait is None:
            wait = self._backoff * 2**attempt
        return min(max(wait, 0.0), self._max_retry_wait)

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        json: Any = None,
        params: dict[str, str] | None = None,
        idempotent: bool = True,
        project_slug: str | None = None,
        refusals: Mapping[int, Callable[[str], CircleCIError]] | None = None,
    ) -> httpx.Response:
        """One API call with bounded retries; returns a 2xx response or raises a sentence.

        ``idempotent=False`` (creating a context) still retries 429 (CircleCI did not act) and
        connection failures (nothing was sent), but not 5xx or timeouts, which may have acted.
        ``refusals`` maps a status to the sentence a caller knows better than the generic one.
        """
        import httpx

        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, json=json, params=params)
            except httpx.TransportError as exc:
                retryable = idempotent or isinstance(exc, httpx.ConnectError)
                if retryable and attempt < self._max_attempts:
                    self._sleep(self._backoff * 2 ** (attempt - 1))
                    continue
                raise network_error(self.host, what, type(exc).__name__, attempt) from None
            status = response.status_code
            if 300 <= status < 400:
                # Never followed (follow_redirects=False): httpx would copy the Circle-Token
                # header onto the next request, to whatever host the Location names.
                raise redirected(self.host, what, status, response.headers.get("location", ""))
            if status < 400:
                if response.content and not _is_json(response):
                    raise not_json(self.host, what, response.headers.get("content-type", ""))
                return response
            if status == 429 and attempt < self._max_attempts:
                self._sleep(self._retry_after(response, attempt - 1))
                continue
            if status >= 500 and idempotent and attempt < self._max_attempts:
                self._sleep(self._backoff * 2 ** (attempt - 1))
                continue
            if refusals and status in refusals:
                raise refusals[status](self._server_message(response))
            raise for_status(
                status,
                host=self.host,
                what=what,
                server_message=self._server_message(response),
                attempts=attempt,
                project_slug=project_slug,
            )

    def _server_message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        message = body.get("message") or body.get("error") if isinstance(body, dict) else None
        return scrub(str(message)[:200], self._token) if message else ""

    @staticmethod
    def _project_path(slug: str, *rest: str) -> str:
        parse_slug(slug)
        tail = "".join(f"/{quote(part, safe='')}" for part in rest)
        # The slug's own slashes stay: CircleCI takes gh/org/repo in the path as it is.
        return f"/project/{quote(slug.strip().strip('/'), safe='/')}{tail}"

    def whoami(self) -> str:
        """The login of the token's user (``GET /me``): checks a pasted token before keeping it."""
        return str(self._request("GET", "/me", what="the token's user").json().get("login", ""))

    # -- projects ------------------------------------------------------------------------

    def get_project(self, slug: str, *, fresh: bool = False) -> Project:
        """The project, asked once per client (ids never change); 404 says how to fix the slug."""
        key = slug.strip().strip("/")
        if not fresh and key in self._projects:
            return self._projects[key]
        body = self._request(
            "GET", self._project_path(slug), what=f"project {key}", project_slug=key
        ).json()
        vcs = body.get("vcs_info") or {}
        project = Project(
            id=body["id"],
            organization_id=body["organization_id"],
            slug=body.get("slug", key),
            name=body.get("name", key.rsplit("/", 1)[-1]),
            vcs_url=vcs.get("vcs_url"),
        )
        self._projects[key] = project
        return project

    def list_project_envvars(self, slug: str) -> list[MaskedEnvVar]:
        """The project's variables, values masked as CircleCI masks them."""
        key = slug.strip().strip("/")
        body = self._request(
            "GET",
            self._project_path(slug, "envvar"),
            what=f"the environment variables of project {key}",
            project_slug=key,
        ).json()
        return [MaskedEnvVar(item["name"], item["value"]) for item in body.get("items", [])]

    def set_project_envvar(self, slug: str, name: str, value: str) -> MaskedEnvVar:
        """Create or overwrite a project variable; returns CircleCI's masked echo."""
        key = slug.strip().strip("/")
        body = self._request(
            "POST",
            self._project_path(slug, "envvar"),
            what=f"variable {name} of project {key}",
            json={"name": name, "value": value},
            project_slug=key,
        ).json()
        return MaskedEnvVar(body["name"], body["value"])

    def delete_project_envvar(self, slug: str, name: str) -> bool:
        """Remove a project variable; False when it was not there."""
        key = slug.strip().strip("/")
        try:
            self._request(
                "DELETE",
                self._project_path(slug, "envvar", name),
                what=f"variable {name} of project {key}",
            )
        except CircleCINotFound:
            return False
        return True

    # -- contexts ------------------------------------------------------------------------

    def _paged(self, path: str, what: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen: set[str] = set()
        while True:
            query = dict(params)
            if token:
                query["page-token"] = token
            body = self._request("GET", path, what=what, params=query).json()
            yield from body.get("items", [])
            token = body.get("next_page_token")
            if not token or token in seen:
                return
            seen.add(token)

    def list_contexts(self, owner_id: str) -> list[Context]:
        """Every context of the organisation ``owner_id``, all pages."""
        items = self._paged(
            "/context",
            f"the contexts of organisation {owner_id}",
            {"owner-id": owner_id, "owner-type": "organization"},
        )
        return [Context(item["id"], item["name"]) for item in items]

    def find_context(self, owner_id: str, name: str) -> Context | None:
        """The organisation's context called ``name``, or None."""
        return next((c for c in self.list_contexts(owner_id) if c.name == name), None)

    def create_context(self, owner_id: str, name: str) -> Context:
        """A new context owned by the organisation ``owner_id``."""
        body = self._request(
            "POST",
            "/context",
            what=f"context {name}",
            json={"name": name, "owner": {"id": owner_id, "type": "organization"}},
            idempotent=False,
        ).json()
        return Context(body["id"], body["name"])

    def delete_context(self, context_id: str) -> bool:
        """Delete a context and every variable in it; False when it was not there."""
        try:
            self._request(
                "DELETE", f"/context/{quote(context_id, safe='')}", what=f"context {context_id}"
            )
        except CircleCINotFound:
            return False
        return True

    def list_context_envvars(self, context_id: str) -> list[str]:
        """The names of the context's variables (CircleCI never returns context values)."""
        items = self._paged(
            f"/context/{quote(context_id, safe='')}/environment-variable",
            f"the variables of context {context_id}",
            {},
        )
        return [item["variable"] for item in items]

    def set_context_envvar(self, context_id: str, name: str, value: str) -> None:
        """Create or overwrite a context variable (PUT, so repeating it is harmless)."""
        self._request(
            "PUT",
            f"/context/{quote(context_id, safe='')}/environment-variable/{quote(name, safe='')}",
            what=f"variable {name} of context {context_id}",
            json={"value": value},
        )

    def delete_context_envvar(self, context_id: str, name: str) -> bool:
        """Remove a context variable; False when it was not there."""
        try:
            self._request(
                "DELETE",
                f"/context/{quote(context_id, safe='')}/environment-variable/"
                f"{quote(name, safe='')}",
                what=f"variable {name} of context {context_id}",
            )
        except CircleCINotFound:
            return False
        return True

    # -- context restrictions ------------------------------------------------------------

    @staticmethod
    def _restrictions_path(context_id: str, *rest: str) -> str:
        tail = "".join(f"/{quote(part, safe='')}" for part in rest)
        return f"/context/{quote(context_id, safe='')}/restrictions{tail}"

    def list_context_restrictions(self, context_id: str) -> list[ContextRestriction]:
        """The context's project, expression and group restrictions (members may read them)."""
        items = self._paged(
            self._restrictions_path(context_id),
            f"the restrictions of context {context_id}",
            {},
        )
        return [
            ContextRestriction(item["id"], item["restriction_type"], item["restriction_value"],
                               item.get("name") or "")
            for item in items
        ]

    def add_context_restriction(
        self, context_id: str, restriction_type: str, value: str
    ) -> ContextRestriction:
        """Restrict the context; adding one it already has returns that one (no duplicate).

        Organisation admins only: a 403 says so. CircleCI answers 409 to a restriction the
        context already has; the existing restriction is then looked up and returned, which is
        also what makes a retry after a lost answer harmless.
        """
        wanted = ContextRestriction("", restriction_type, value)
        what = f"the restrictions of context {context_id}"
        refusals: dict[int, Callable[[str], CircleCIError]] = {
            403: lambda said: restrictions_forbidden(context_id, said),
            400: lambda said: restriction_refused(context_id, wanted.describe(), said),
        }
        try:
            body = self._request(
                "POST",
                self._restrictions_path(context_id),
                what=what,
                json={"restriction_type": restriction_type, "restriction_value": value},
                refusals=refusals,
            ).json()
        except CircleCIRequestError as exc:
            if exc.status != 409:
                raise
            existing = next((r for r in self.list_context_restrictions(context_id)
                             if r.type == restriction_type and r.value == value), None)
            if existing is None:
                raise
            return existing
        return ContextRestriction(body["id"], body["restriction_type"],
                                  body["restriction_value"], body.get("name") or "")

    def delete_context_restriction(self, context_id: str, restriction_id: str) -> bool:
        """Remove one restriction; False when it was not there. Organisation admins only.

        Removing the last project restriction makes the context usable by every project again.
        """
        try:
            self._request(
                "DELETE",
                self._restrictions_path(context_id, restriction_id),
                what=f"restriction {restriction_id} of context {context_id}",
                refusals={403: lambda said: restrictions_forbidden(context_id, said)},
            )
        except CircleCINotFound:
            return False
        return True

