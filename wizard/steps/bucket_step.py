"""Step 1: the bucket. Use an existing one the operator can reach, or create it locked down.

A bucket the wizard creates must stay locked down: Block Public Access fully on, and the
wizard's tag so later runs know it is theirs to keep that way. Both are checked on every run, not
only at creation: if one of those two calls failed once, the next ``apply`` repairs it (and
``verify`` says so) instead of calling the bucket fine because it exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..aws import (
    already_exists,
    aws_call,
    bucket_arn,
    has_managed_tag,
    is_denied,
    is_not_found,
    managed_tags,
)
from ..context import RunContext
from ..errors import error_code, explain
from ..graph import Work, at_once, each_at_once
from ..model import Action, StepPlan, StepResult
from .base import Step

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import PublicAccessBlockConfigurationTypeDef, TagTypeDef

BLOCK_ALL: PublicAccessBlockConfigurationTypeDef = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


@dataclass(frozen=True, slots=True)
class BucketFacts:
    """What the plan found: ``state`` is exists, missing or forbidden."""

    state: str
    region: str | None = None
    #: The public access block as set (None: none set, or it could not be read).
    block: PublicAccessBlockConfigurationTypeDef | None = None
    #: The bucket's tags (None when they could not be read).
    tags: list[TagTypeDef] | None = None
    block_readable: bool = True

    @property
    def managed(self) -> bool:
        return has_managed_tag(self.tags)

    @property
    def blocked(self) -> bool:
        block = self.block
        return block is not None and all(block.get(k) for k in BLOCK_ALL)


def read_bucket(ctx: RunContext) -> BucketFacts:
    """Does the bucket exist, is it locked down, is it the wizard's? (asked once per run)."""
    return ctx.reads.once(("bucket", ctx.config.bucket), lambda: _read(ctx))


def _read(ctx: RunContext) -> BucketFacts:
    s3, bucket = ctx.client("s3"), ctx.config.bucket
    try:
        answer = s3.head_bucket(Bucket=bucket)
    except Exception as exc:
        if is_not_found(exc):
            return BucketFacts("missing")
        if is_denied(exc):
            return BucketFacts("forbidden")
        with aws_call(f"looking up bucket {bucket}", "s3:ListBucket"):
            raise
    headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = headers.get("x-amz-bucket-region") or answer.get("BucketRegion")

    def block() -> tuple[PublicAccessBlockConfigurationTypeDef | None, bool]:
        try:
            found = s3.get_public_access_block(Bucket=bucket)
        except Exception as exc:
            code = error_code(exc)
            if code == "NoSuchPublicAccessBlockConfiguration":
                return None, True
            if is_denied(exc):
                return None, False
            with aws_call(f"reading Block Public Access of {bucket}",
                          "s3:GetBucketPublicAccessBlock"):
                raise
        return found["PublicAccessBlockConfiguration"], True

    def tags() -> list[TagTypeDef] | None:
        try:
            return list(s3.get_bucket_tagging(Bucket=bucket)["TagSet"])
        except Exception as exc:
            code = error_code(exc)
            if code in ("NoSuchTagSet", "NoSuchTagSetError"):
                return []
            if is_denied(exc):
                return None
            with aws_call(f"reading the tags of {bucket}", "s3:GetBucketTagging"):
                raise

    (found_block, readable), found_tags = at_once(block, tags)
    return BucketFacts("exists", region, found_block, found_tags, readable)


class BucketStep(Step):
    key = "bucket"

    def plan(self, ctx: RunContext) -> StepPlan:
        bucket = ctx.config.bucket
        facts = read_bucket(ctx)
        if facts.state == "forbidden":
            return self.planned(
                Action.CONFLICT,
                f"Bucket {bucket} exists but you cannot reach it: it belongs to another account "
                "or your identity lacks s3:ListBucket on it.", facts=facts)
        if facts.state == "missing":
            if ctx.config.create_bucket:
                return self.planned(
                    Action.CREATE,
                    f"Create bucket {bucket} in {ctx.region} with Block Public Access fully on.",
                    calls=("s3:CreateBucket", "s3:PutPublicAccessBlock", "s3:PutBucketTagging"),
                    facts=facts)
            return self.planned(
                Action.BLOCKED,
                f"Bucket {bucket} does not exist. Choose 'create the bucket' (--create-bucket) "
                "or pick an existing bucket.", facts=facts)
        where = f" in {facts.region}" if facts.region else ""
        ours = facts.managed or ctx.config.create_bucket
        differences = []
        if ours and not facts.blocked and facts.block_readable:
            differences.append("Block Public Access is not fully on")
        if ours and facts.tags is not None and not facts.managed:
            differences.append("the managed-by tag is missing")
        if differences:
            calls = tuple(c for c, d in (("s3:PutPublicAccessBlock", "Block"),
                                         ("s3:PutBucketTagging", "tag"))
                          if any(d in x for x in differences))
            said = "; ".join(differences)
            if facts.managed:
                return self.planned(
                    Action.REPAIR, f"Bucket {bucket}{where} was made by the wizard, but {said}; "
                    "apply puts it right.", calls=calls, differences=tuple(differences),
                    facts=facts)
            return self.planned(
                Action.UPDATE, f"Bucket {bucket}{where} exists (not tagged as the wizard's) and "
                f"--create-bucket asks for it locked down, but {said}; updating turns Block "
                "Public Access fully on and tags it.", calls=calls,
                differences=tuple(differences), facts=facts)
        warnings: tuple[str, ...] = ()
        if not ours and not facts.blocked and facts.block_readable:
            warnings = (f"Block Public Access is not fully on for bucket {bucket}: objects in it "
                        "could be made public. Turn it on in the S3 console unless the bucket "
                        "must serve public files.",)
        mine = " (made by the wizard, locked down)" if facts.managed else ""
        return self.planned(Action.EXISTS,
                            f"Bucket {bucket} exists{where}{mine} and you can reach it.",
                            warnings=warnings, facts=facts)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        s3, bucket = ctx.client("s3"), ctx.config.bucket
        facts: BucketFacts = plan.facts
        if plan.action is Action.CREATE:
            params: dict[str, Any] = {"Bucket": bucket}
            if ctx.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
                params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
            work.checkpoint()
            try:
                s3.create_bucket(**params)
            except Exception as exc:
                # The plan saw no bucket; "already yours" means our own first try got through
                # and its answer was lost (botocore then retried).
                if not already_exists(exc):
                    raise explain(exc, f"creating bucket {bucket}", "s3:CreateBucket") from exc
            work.did(f"Created bucket {bucket} in {ctx.region}.")
            ctx.reads.forget(("bucket", bucket))
            work.ready()  # the folder can be made while the bucket is locked down
            tags: list[TagTypeDef] = []
            fix_block = fix_tags = True
        else:
            tags = list(facts.tags or [])
            fix_block = any("Block" in d for d in plan.differences)
            fix_tags = any("tag" in d for d in plan.differences)

        # The two writes run at once; what they did is said in this order, whichever AWS
        # answered first (the page and the CLI show the same sentence on every run).
        finished: dict[int, str] = {}

        def block() -> None:
            work.checkpoint()
            with aws_call(f"blocking public access on {bucket}", "s3:PutBucketPublicAccessBlock"):
                s3.put_public_access_block(Bucket=bucket,
                                           PublicAccessBlockConfiguration=BLOCK_ALL)
            finished[0] = "Turned Block Public Access fully on."

        def tag() -> None:
            work.checkpoint()
            # PutBucketTagging replaces the whole set: keep the operator's own tags.
            ours = managed_tags()
            wanted: list[TagTypeDef] = [t for t in tags if t["Key"] != ours[0]["Key"]] + ours
            with aws_call(f"tagging bucket {bucket}", "s3:PutBucketTagging"):
                s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": wanted})
            finished[1] = "Tagged it managed-by=circleci-s3-wizard."

        try:
            each_at_once([*([block] if fix_block else []), *([tag] if fix_tags else [])])
        finally:  # a write that failed says nothing; one that went through is said either way
            for _, sentence in sorted(finished.items()):
                work.did(sentence)
        ctx.reads.forget(("bucket", bucket))
        if plan.action is not Action.CREATE:
            work.done.insert(0, f"Bucket {bucket}:")
        return self.result(plan.action, " ".join(work.done),
                           bucket_arn=bucket_arn(bucket, ctx.partition))

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"bucket_arn": bucket_arn(ctx.config.bucket, ctx.partition)}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        return self.planned(Action.KEEP, f"Bucket {ctx.config.bucket} and its objects are kept.")


def list_buckets(ctx: RunContext) -> list[str]:
    """The names of the buckets the operator can see, for picking one (s3:ListAllMyBuckets)."""
    with aws_call("listing your buckets", "s3:ListAllMyBuckets"):
        return [b["Name"] for b in ctx.client("s3").list_buckets().get("Buckets", [])]


def suggested_bucket(ctx: RunContext) -> str:
    """A name to offer when the operator has not given one: it says what the bucket is for, and
    the account id makes it likely to be free (bucket names are global across all accounts)."""
    return f"circleci-builds-{ctx.identity.account}"
