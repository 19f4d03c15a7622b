"""Step 2: the prefix "folder" (a zero-byte ``prefix/`` object, as the S3 console makes)."""

from __future__ import annotations

from typing import Any

from ..aws import aws_call, is_denied, is_not_found
from ..context import RunContext
from ..graph import Work
from ..model import Action, StepPlan, StepResult
from .base import Step


def read_folder(ctx: RunContext) -> str:
    """exists, missing, or unknown (no read permission), asked once per run."""
    bucket, prefix = ctx.config.bucket, ctx.config.prefix

    def ask() -> str:
        try:
            ctx.client("s3").head_object(Bucket=bucket, Key=prefix)
        except Exception as exc:
            if is_not_found(exc):
                return "missing"
            if is_denied(exc):
                return "unknown"
            with aws_call(f"looking for s3://{bucket}/{prefix}", "s3:GetObject"):
                raise
        return "exists"

    return ctx.reads.once(("folder", bucket, prefix), ask)


class FolderStep(Step):
    key = "folder"

    def plan(self, ctx: RunContext) -> StepPlan:
        where = f"s3://{ctx.config.bucket}/{ctx.config.prefix}"
        state = read_folder(ctx)
        if state == "exists":
            return self.planned(Action.EXISTS, f"Folder {where} exists.")
        unknown = (" (could not check whether it exists: no read permission)"
                   if state == "unknown" else "")
        return self.planned(Action.CREATE, f"Create the folder {where}{unknown}.",
                            calls=("s3:PutObject",))

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        bucket, prefix = ctx.config.bucket, ctx.config.prefix
        work.need("bucket")
        work.checkpoint()
        with aws_call(f"creating folder s3://{bucket}/{prefix}", "s3:PutObject"):
            ctx.client("s3").put_object(Bucket=bucket, Key=prefix, Body=b"")
        ctx.reads.forget(("folder", bucket, prefix))
        return self.result(Action.CREATE, f"Created folder s3://{bucket}/{prefix}.",
                           **self.outputs(ctx, plan))

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        return {"folder": f"s3://{ctx.config.bucket}/{ctx.config.prefix}"}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        return self.planned(Action.KEEP, "The folder and the builds in it are kept.")
