"""What every AWS step needs: error codes, look-up-or-None, ARNs, ownership marks, client settings.

One module, so "not found", "denied" or "the answer was lost" mean the same thing in every step,
in verification and in rotation. botocore itself is imported lazily: the CLI imports this module
before it knows whether it will talk to AWS at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from .config import IAM_PATH, MANAGED_BY_TAG
from .errors import ConflictError, error_code, explain

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import TagTypeDef

T = TypeVar("T")

#: Error codes meaning "there is no such thing" (IAM, S3 REST and S3 HEAD answers).
NOT_FOUND = frozenset({"NoSuchEntity", "NoSuchBucket", "NoSuchKey", "404", "NotFound",
                       "NoSuchPublicAccessBlockConfiguration", "NoSuchTagSet",
                       "NoSuchTagSetError"})
#: Error codes meaning "you may not": the identity lacks a permission.
DENIED = frozenset({"AccessDenied", "AccessDeniedException", "403", "Forbidden",
                    "UnauthorizedOperation", "AllAccessDisabled"})
#: A brand-new access key is not accepted everywhere yet (IAM is eventually consistent).
NOT_YET_VALID = frozenset({"InvalidAccessKeyId", "InvalidClientTokenId", "SignatureDoesNotMatch"})
#: The thing to be created is already there.
ALREADY_EXISTS = frozenset({"EntityAlreadyExists", "BucketAlreadyOwnedByYou"})
#: AWS definitely did not act: the request was refused as it stood.
_REFUSED_PREFIXES = ("AccessDenied", "Invalid", "Malformed", "NoSuch", "Limit", "Unauthorized",
                     "Validation", "Throttl", "RequestLimit", "SlowDown", "Expired")


def is_not_found(exc: BaseException) -> bool:
    return error_code(exc) in NOT_FOUND


def is_denied(exc: BaseException) -> bool:
    return error_code(exc) in DENIED


def already_exists(exc: BaseException) -> bool:
    return error_code(exc) in ALREADY_EXISTS


def is_aws_error(exc: BaseException) -> bool:
    """An error from AWS or from reaching it (botocore), as opposed to a bug in the wizard."""
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.parsers import ResponseParserError  # an answer that was not AWS's format

    return isinstance(exc, ClientError | BotoCoreError | ResponseParserError)


def outcome_unknown(exc: BaseException) -> bool:
    """True when AWS may have acted although the call failed: a 5xx, or the answer was lost.

    After such a failure a create must not be repeated blindly; the caller looks again.
    """
    from botocore.exceptions import ConnectionClosedError, ReadTimeoutError

    if isinstance(exc, ConnectionClosedError | ReadTimeoutError):
        return True
    code = error_code(exc)
    if code is None:
        return False
    if code.startswith(_REFUSED_PREFIXES) or code in NOT_FOUND or code in DENIED:
        return False
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or code in {"ServiceFailure", "InternalError", "ServiceUnavailable"}


#: Throttling means AWS did not act, so trying again is safe even for a create.
NOT_ACTED = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "SlowDown"})
ONCE_ATTEMPTS = 4


def once_unless_throttled(call: Callable[[], T], *, attempts: int = ONCE_ATTEMPTS,
                          sleep: Callable[[float], None] | None = None) -> T:
    """``call()`` through a client that does not retry (a create AWS must not repeat), tried
    again only while AWS says it did not act (throttling), with a short backoff.

    Any other failure is raised at once, for the caller to reconcile when the outcome is
    unknown (:func:`outcome_unknown`).
    """
    import time

    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as exc:
            if error_code(exc) not in NOT_ACTED or attempt == attempts:
                raise
            (sleep or time.sleep)(0.5 * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def aws_call(doing: str, action: str | None = None) -> Iterator[None]:
    """Run boto3 calls, turning any failure into a :class:`~wizard.errors.WizardError`."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence
        raise explain(exc, doing, action) from exc


def lookup(call: Callable[[], T], doing: str, action: str) -> T | None:
    """``call()``, or None when AWS says the thing does not exist; other errors as sentences."""
    try:
        return call()
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise explain(exc, doing, action) from exc


def delete(call: Callable[[], object], doing: str, action: str) -> bool:
    """Run a delete; "no such thing" counts as done (a retried delete whose first answer was
    lost finds nothing left). Returns False when there was nothing to delete."""
    try:
        call()
    except Exception as exc:
        if is_not_found(exc):
            return False
        raise explain(exc, doing, action) from exc
    return True


def policy_document(document: object) -> dict[str, Any]:
    """A policy document as AWS gave it: botocore decodes it into a dictionary; IAM itself
    sends URL-encoded JSON, which is decoded here; nothing at all is an empty document."""
    if isinstance(document, str):
        import json
        from urllib.parse import unquote

        decoded: dict[str, Any] = json.loads(unquote(document))
        return decoded
    return dict(document) if isinstance(document, Mapping) else {}


# --- ownership ---------------------------------------------------------------------------------


def managed_tags() -> list[TagTypeDef]:
    """The tag every taggable thing the wizard creates carries."""
    key, value = MANAGED_BY_TAG
    return [{"Key": key, "Value": value}]


def has_managed_tag(tags: Sequence[Mapping[str, object]] | None) -> bool:
    key, value = MANAGED_BY_TAG
    return any(t.get("Key") == key and t.get("Value") == value for t in tags or [])


def is_managed(resource: Mapping[str, Any] | None) -> bool:
    """True when an IAM entity was made by the wizard: under its path or carrying its tag."""
    if not resource:
        return False
    return resource.get("Path") == IAM_PATH or has_managed_tag(resource.get("Tags"))


#: What AWS answered about an IAM entity (a group, a user, a role).
Found = TypeVar("Found", bound=Mapping[str, Any])


def adopt_own(kind: str, name: str, found: Found | None, exc: BaseException) -> Found:
    """After "already exists" on a create the plan did not expect: ours, or a conflict.

    The wizard's own create whose answer was lost (and which botocore then retried) leaves the
    thing under the wizard's path: that is recognised and the run goes on. Anything else was made
    by someone else in the meantime, and is not touched.
    """
    if found is not None and is_managed(found):
        return found
    raise ConflictError(f"{kind} {name} appeared while the wizard was creating it, and it was "
                        "not made by the wizard.",
                        hint="Choose another name, or look at who made it.") from exc


# --- names ---------------------------------------------------------------------------------------


def iam_arn(partition: str, account: str, kind: str, name: str, path: str = "/") -> str:
    """``arn:<partition>:iam::<account>:<kind><path><name>``."""
    return f"arn:{partition}:iam::{account}:{kind}{path}{name}"


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


# --- clients -------------------------------------------------------------------------------------


def client_config(*, attempts: int = 5) -> Any:
    """botocore's settings for the wizard's clients.

    ``attempts`` counts the first try. Creates that cannot be repeated safely (an access key) go
    through a client with ``attempts=1``: botocore would otherwise retry a call whose answer was
    lost, and AWS would make a second key.
    """
    from botocore.config import Config

    return Config(retries={"mode": "standard", "total_max_attempts": attempts},
                  connect_timeout=10, read_timeout=60, max_pool_connections=20)


def share_connections(client: Any, pool_of: Any) -> bool:
    """Send ``client``'s requests over ``pool_of``'s kept-alive connections; False (nothing
    changed) unless both speak to the same endpoint.

    botocore gives every client a connection pool of its own, so the IAM client that never
    retries (the access key's create) opened a new connection for its one request, in the
    middle of the writes: against a real endpoint a TCP and a TLS handshake, two round trips on
    the critical path (tests/benchmarks/bench_apply.py, "+80 ms per request, +2 round trips per
    new connection"). The two clients differ only in retries (:func:`client_config`), which
    botocore decides above the pool, so one pool serves both. botocore has no public way to
    share a pool: the endpoint's ``http_session`` is handed over, and should botocore move it,
    each client keeps its own pool again (a handshake slower, never wrong).
    """
    mine, theirs = getattr(client, "_endpoint", None), getattr(pool_of, "_endpoint", None)
    if mine is None or theirs is None or mine is theirs:
        return False
    own, shared = getattr(mine, "http_session", None), getattr(theirs, "http_session", None)
    if own is None or shared is None or getattr(mine, "host", None) != theirs.host:
        return False
    mine.http_session = shared
    own.close()  # new, so it never opened a connection
    return True
