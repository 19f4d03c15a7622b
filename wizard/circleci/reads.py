"""What the CircleCI steps read from CircleCI: a project, its variables, a context (each once).

Shared by the delivery step, the context restrictions, the OIDC steps, the key checks and the
rotation, so none of them reaches into another step's module for its reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import RunContext

if TYPE_CHECKING:
    from .client import Context, MaskedEnvVar, Project

REGION_VARS = ("AWS_REGION", "AWS_DEFAULT_REGION")
#: Put into a context the wizard creates: contexts cannot be tagged, and this is how ``undo``
#: later knows the context is the wizard's to delete.
CONTEXT_MARKER = "S3_WIZARD_MANAGED_BY"
CONTEXT_MARKER_VALUE = "circleci-s3-wizard"


def project(ctx: RunContext, slug: str | None = None) -> Project:
    """A project as CircleCI describes it (asked once per run); the first configured one by
    default, which is the one variables are set on."""
    circleci = ctx.circleci
    assert circleci is not None
    slug = slug or ctx.config.circleci_project
    assert slug
    return ctx.reads.once(("circleci_project", slug), lambda: circleci.get_project(slug))


def project_variables(ctx: RunContext, slug: str | None = None) -> dict[str, MaskedEnvVar]:
    """A project's variables by name, masked as CircleCI shows them (asked once per run); the
    first configured project's by default, which is the one variables are set on."""
    slug = slug or ctx.config.circleci_project
    circleci = ctx.circleci
    assert circleci is not None and slug
    return ctx.reads.once(("circleci_envvars", slug), lambda: {
        v.name: v for v in circleci.list_project_envvars(slug)})


def context(ctx: RunContext) -> Context | None:
    """The configured context of the project's organisation, or None."""
    circleci = ctx.circleci
    assert circleci is not None and ctx.config.circleci_context
    org, name = project(ctx).organization_id, ctx.config.circleci_context
    return ctx.reads.once(("circleci_context", org, name),
                          lambda: circleci.find_context(org, name))


def context_variables(ctx: RunContext, context_id: str) -> list[str]:
    circleci = ctx.circleci
    assert circleci is not None
    return ctx.reads.once(("circleci_context_vars", context_id),
                          lambda: circleci.list_context_envvars(context_id))
