"""Step 2: the prefix "folder" (a zero-byte ``prefix/`` object, as the S3 console makes)."""

from __future__ import annotations

from wizard.context import RunContext
from wizard.errors import error_code
from wizard.steps.aws_calls import aws_call
from wizard.steps.base import Action, Step, StepCheck, StepResult


class FolderStep(Step):
    key = "folder"
    title = "Builds folder"
    why = (
        "S3 has no real folders: the console shows a zero-byte object named after the prefix. "
        "Making it lets people find the prefix in the console; the permissions are about the "
        "prefix itself, so everything under it is covered whether or not the marker exists."
    )

    def describe_calls(self, ctx: RunContext) -> tuple[str, ...]:
        return ("s3:HeadObject", "s3:PutObject")

    def check(self, ctx: RunContext) -> StepCheck:
        bucket, prefix = ctx.config.bucket, ctx.config.prefix
        try:
            ctx.client("s3").head_object(Bucket=bucket, Key=prefix)
        except Exception as exc:
            if error_code(exc) in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
                return StepCheck(
                    Action.CREATE, f"Create the folder s3://{bucket}/{prefix}.",
                    calls=("s3:PutObject",),
                )
            if error_code(exc) in {"403", "AccessDenied"}:
                # No s3:GetObject on an existing bucket: creating the marker is still harmless.
                return StepCheck(
                    Action.CREATE, f"Create the folder s3://{bucket}/{prefix} (could not check "
                    "whether it exists: no read permission).", calls=("s3:PutObject",),
                )
            with aws_call(f"looking for s3://{bucket}/{prefix}", "s3:GetObject"):
                raise
        return StepCheck(Action.EXISTS, f"Folder s3://{bucket}/{prefix} exists.")

    def apply(self, ctx: RunContext, *, allow_update: bool = False) -> StepResult:
        check = self.check(ctx)
        bucket, prefix = ctx.config.bucket, ctx.config.prefix
        if check.action is Action.EXISTS:
            return StepResult(Action.EXISTS, check.detail, {"folder": f"s3://{bucket}/{prefix}"})
        with aws_call(f"creating folder s3://{bucket}/{prefix}", "s3:PutObject"):
            ctx.client("s3").put_object(Bucket=bucket, Key=prefix, Body=b"")
        return StepResult(
            Action.CREATE, f"Created folder s3://{bucket}/{prefix}.",
            {"folder": f"s3://{bucket}/{prefix}"},
        )

    def plan_destroy(self, ctx: RunContext) -> StepCheck:
        return StepCheck(Action.KEEP, "The folder and the builds in it are kept.")

    def undo(self, ctx: RunContext) -> StepResult:
        return StepResult(Action.KEEP, "The folder and the builds in it were kept.")
