"""The least-privilege IAM policy: S3 access to one prefix of one bucket, and nothing else.

This is the tutorial's policy done right. Listing is allowed on the bucket only for keys under the
prefix (an ``s3:prefix`` condition); object actions only on ``bucket/prefix*``. There is no ``*``
action, no ``*`` resource, no bucket-level write and no ACL action. The partition comes from the
caller's identity so the same code works in aws, aws-cn and aws-us-gov.
"""

from __future__ import annotations

import json
from typing import Any

from .config import AccessLevel

#: Object actions per access level. Multipart-upload actions go with writing: ``aws s3 cp`` uses
#: multipart for large files and must be able to clean up an aborted upload.
OBJECT_ACTIONS: dict[AccessLevel, tuple[str, ...]] = {
    AccessLevel.READ_WRITE: (
        "s3:GetObject",
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ),
    AccessLevel.UPLOAD_ONLY: (
        "s3:PutObject",
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
    ),
    AccessLevel.READ_ONLY: ("s3:GetObject",),
}

POLICY_VERSION = "2012-10-17"


def bucket_arn(bucket: str, partition: str = "aws") -> str:
    return f"arn:{partition}:s3:::{bucket}"


def objects_arn(bucket: str, prefix: str, partition: str = "aws") -> str:
    """``arn:<partition>:s3:::bucket/prefix*``: every object under the prefix, nothing else."""
    return f"{bucket_arn(bucket, partition)}/{prefix}*"


def build_policy(
    bucket: str,
    prefix: str,
    access: AccessLevel = AccessLevel.READ_WRITE,
    partition: str = "aws",
) -> dict[str, Any]:
    """The policy document for ``bucket``/``prefix``.

    The prefix must end in ``/``: ``bucket/builds*`` would also grant ``bucket/builds-secret/``,
    so a prefix that was not normalised is refused here, whichever entry point it came from.
    """
    if not prefix.endswith("/") or prefix == "/":
        raise ValueError(f"the prefix must name a folder ending in '/' (got {prefix!r})")
    return {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "ListOnlyUnderPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn(bucket, partition),
                "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
            },
            {
                "Sid": _object_sid(access),
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS[access]),
                "Resource": objects_arn(bucket, prefix, partition),
            },
        ],
    }


def _object_sid(access: AccessLevel) -> str:
    return {
        AccessLevel.READ_WRITE: "ReadWriteObjectsUnderPrefix",
        AccessLevel.UPLOAD_ONLY: "UploadObjectsUnderPrefix",
        AccessLevel.READ_ONLY: "ReadObjectsUnderPrefix",
    }[access]


def policy_json(document: dict[str, Any]) -> str:
    """The document as the operator sees it and IAM stores it: stable key order, indented."""
    return json.dumps(document, indent=2)


def canonical(document: dict[str, Any] | str) -> dict[str, Any]:
    """A form of a policy fit for comparing: single values become one-item lists, sorted.

    IAM may reorder or collapse lists, so two documents that mean the same thing must compare
    equal here, or every re-run would report a conflict. (IAM's URL-encoding is undone by
    botocore itself, which hands policy documents back as dictionaries.)
    """
    if isinstance(document, str):
        document = dict(json.loads(document))

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [norm(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return value

    statements = document.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    out = []
    for st in statements:
        st = dict(st)
        for key in ("Action", "NotAction", "Resource", "NotResource"):
            if isinstance(st.get(key), str):
                st[key] = [st[key]]
        out.append(norm(st))
    return {"Version": document.get("Version"), "Statement": sorted(out, key=json.dumps)}


def same_policy(a: dict[str, Any] | str, b: dict[str, Any] | str) -> bool:
    return canonical(a) == canonical(b)


def summarise(bucket: str, prefix: str, access: AccessLevel = AccessLevel.READ_WRITE,
              identity_checked: bool | None = None) -> list[str]:
    """The policy in words, for the screen and the plan: what it allows and what it does not.

    ``identity_checked`` says what reading the identity's effective grants found: True when it
    holds nothing but this policy, False when it holds more, None when nothing was read. Only
    True earns the sentence "cannot use any other AWS service": a document cannot promise what
    a group or another policy gives the identity besides it.
    """
    where = f"s3://{bucket}/{prefix}"
    can = {
        AccessLevel.READ_WRITE: [
            f"can list, download, upload and delete files under {where}",
        ],
        AccessLevel.UPLOAD_ONLY: [
            f"can upload files to {where} (and clean up its own unfinished uploads)",
            "can list names under the prefix, but cannot download or delete anything",
        ],
        AccessLevel.READ_ONLY: [
            f"can list and download files under {where}",
            "cannot upload or delete anything",
        ],
    }[access]
    return [
        *can,
        f"cannot see or touch anything in {bucket} outside {prefix}",
        "cannot change the bucket, its policy, its ACLs or its public-access settings",
        {True: "cannot use any other bucket or any other AWS service (its every group and "
               "policy was read: it holds this policy and nothing else)",
         False: "gets nothing else from this policy, but holds more besides it (see the plan: "
                "it is drift, and blocks handing out a key)",
         None: "gets no other bucket or AWS service from this policy (what else the identity "
               "holds is read by plan and verify)"}[identity_checked],
    ]
