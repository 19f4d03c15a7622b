"""Step 1: the bucket. Use an existing one the operator can reach, or create it locked down."""

from __future__ import annotations

from wizard.context import RunContext
from wizard.errors import WizardError, error_code
from wizard.steps.aws_calls import aws_call, managed_tags
from wizard.steps.base import Action, Step, StepCheck, StepResult

_BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


class BucketStep(Step):
    key = "bucket"
    title = "S3 bucket"
    why = (
        "Builds need somewhere to land. A bucket the wizard creates has Block Public Access "
        "fully on, so nothing in it can be made public by accident. The bucket itself is never "
        "deleted by the wizard, even by destroy."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        if ctx.config.create_bucket:
            return ("s3:HeadBucket", "s3:CreateBucket", "s3:PutPublicAccessBlock",
                    "s3:PutBucketTagging")
        return ("s3:HeadBucket",)

    def _head(self, ctx: RunContext) -> tuple[str, str | None]:
        """('exists', region) / ('missing', None) / ('forbidden', None)."""
        s3 = ctx.client("s3")
        try:
            answer = s3.head_bucket(Bucket=ctx.config.bucket)
        except Exception as exc:
            code = error_code(exc)
            if code in {"404", "NoSuchBucket", "NotFound"}:
                return "missing", None
            if code in {"403", "AccessDenied", "Forbidden"}:
                return "forbidden", None
            with aws_call(f"looking up bucket {ctx.config.bucket}", "s3:ListBucket"):
                raise
        headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        return "exists", headers.get("x-amz-bucket-region") or answer.get("BucketRegion")

    def check(self, ctx: RunContext) -> StepCheck:
        bucket = ctx.config.bucket
        state, region = self._head(ctx)
        if state == "exists":
            where = f" in {region}" if region else ""
            return StepCheck(Action.EXISTS, f"Bucket {bucket} exists{where} and you can reach it.")
        if state == "forbidden":
            return StepCheck(
                Action.CONFLICT,
                f"Bucket {bucket} exists but you cannot reach it: it belongs to another account "
                "or your identity lacks s3:ListBucket on it.",
            )
        if ctx.config.create_bucket:
            return StepCheck(
                Action.CREATE,
                f"Create bucket {bucket} in {ctx.region} with Block Public Access fully on.",
                calls=self.describe_calls(ctx),
            )
        return StepCheck(
            Action.BLOCKED,
            f"Bucket {bucket} does not exist. Choose 'create the bucket' (--create-bucket) "
            "or pick an existing bucket.",
        )

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, self._outputs(ctx))
        if check.action is not Action.CREATE:
            raise WizardError(check.detail)
        s3 = ctx.client("s3")
        bucket = ctx.config.bucket
        params: dict = {"Bucket": bucket}
        if ctx.region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
            params["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        with aws_call(f"creating bucket {bucket}", "s3:CreateBucket"):
            s3.create_bucket(**params)
        with aws_call(f"blocking public access on {bucket}", "s3:PutBucketPublicAccessBlock"):
            s3.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=dict(_BLOCK_ALL)
            )
        with aws_call(f"tagging bucket {bucket}", "s3:PutBucketTagging"):
            s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": managed_tags()})
        return StepResult(
            Action.CREATE,
            f"Created bucket {bucket} in {ctx.region} with Block Public Access fully on.",
            self._outputs(ctx),
        )

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        return StepCheck(Action.KEEP, f"Bucket {ctx.config.bucket} and its objects are kept.")

    def undo(self, ctx: RunContext) -> StepResult:
        return StepResult(Action.KEEP, f"Bucket {ctx.config.bucket} and its objects were kept.")

    def _outputs(self, ctx: RunContext) -> dict[str, str]:
        return {"bucket_arn": f"arn:{ctx.partition}:s3:::{ctx.config.bucket}"}
