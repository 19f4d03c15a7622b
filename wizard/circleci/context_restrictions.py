"""Context restrictions: a context the wizard fills is usable only by the setup's projects.

A CircleCI context is readable by every project of the organisation unless it is restricted. When
the wizard puts values into a context (``AWS_ROLE_ARN``, or the access key), the CircleCI step
first adds a ``project`` restriction for each ``--circleci-project``, and with
``--restrict-context-branch`` an ``expression`` restriction ``pipeline.git.branch == "<branch>"``,
then writes the values: a value never sits in a context other projects can read.

CircleCI's caveats, which the plan states: only organisation admins may add or remove
restrictions (anyone else gets a 403, and the step stops before writing any value); an
expression restriction fails closed (a pipeline without a branch, such as a tag pipeline, or one
the expression cannot be evaluated for, does not get the context at all); restrictions of
different types must all be met; and a context with no project restriction left is usable by every
project again.

How ``destroy`` knows which restrictions are the wizard's: contexts carry no tags, and a
restriction the operator had before must survive (removing it could open the context's other
variables to every project). So each restriction the wizard adds is recorded in the context
itself, as a variable *named* after its id (:func:`record_name`; CircleCI returns context
variable names, never values). ``destroy`` removes exactly the recorded restrictions that still
exist, and the records; one the operator added, or re-added by hand, has no record and is kept.
When the context stays with other variables in it (the operator's), the wizard's restrictions
stay too, and destroy says so: removing them would let jobs read those variables that cannot now.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..context import RunContext
from ..errors import WizardError
from .client import (
    EXPRESSION_RESTRICTION,
    PROJECT_RESTRICTION,
    Context,
    ContextRestriction,
    branch_expression,
)
from .errors import RESTRICTIONS_ADMIN_ONLY, CircleCIPermissionError
from .reads import CONTEXT_MARKER, REGION_VARS, project

#: Context variables named ``S3_WIZARD_RESTRICTION_<restriction id>`` record what the wizard added.
RECORD_PREFIX = "S3_WIZARD_RESTRICTION_"
RECORD_VALUE = "circleci-s3-wizard"

ADMIN_CAVEAT = (
    "CircleCI lets only organisation admins add or remove context restrictions: if the token's "
    "user is not one, CircleCI refuses and the wizard stops before writing any value into "
    "context {context} (ask an admin to run it, or leave out --circleci-context: project "
    "variables are readable only by that project's jobs)."
)
FAIL_CLOSED_CAVEAT = (
    "Expression restrictions fail closed: a pipeline with no git branch (a tag pipeline, or an "
    "API trigger without one), or one CircleCI cannot evaluate the expression for, does not get "
    "context {context} at all."
)


def record_name(restriction_id: str) -> str:
    """The context variable that records the wizard added restriction ``restriction_id``."""
    return RECORD_PREFIX + restriction_id.replace("-", "_")


def recorded_ids(variable_names: Iterable[str]) -> set[str]:
    """The restriction ids recorded in a context's variable names (lower case)."""
    return {name[len(RECORD_PREFIX):].replace("_", "-").lower()
            for name in variable_names if name.startswith(RECORD_PREFIX)}


def record_names(variable_names: Iterable[str]) -> list[str]:
    return [name for name in variable_names if name.startswith(RECORD_PREFIX)]


@dataclass(frozen=True, slots=True)
class Wanted:
    """A restriction the setup wants: its type and value, and how to name it to the operator."""

    type: str
    value: str
    label: str

    def matches(self, restriction: ContextRestriction) -> bool:
        return restriction.type == self.type and restriction.value == self.value


def wanted(ctx: RunContext) -> tuple[Wanted, ...]:
    """A project restriction per configured project, and the branch expression if asked for."""
    c = ctx.config
    found: list[Wanted] = [
        Wanted(PROJECT_RESTRICTION, project(ctx, slug).id,
               f"project {slug} ({project(ctx, slug).id})")
        for slug in c.circleci_projects
    ]
    if c.restrict_context_branch and c.circleci_branch:
        expression = branch_expression(c.circleci_branch)
        found.append(Wanted(EXPRESSION_RESTRICTION, expression, f"pipelines where {expression}"))
    return tuple(found)


def restrictions(ctx: RunContext, context_id: str) -> list[ContextRestriction]:
    """The context's restrictions (asked once per run; members may read them)."""
    circleci = ctx.circleci
    assert circleci is not None
    return ctx.reads.once(("circleci_restrictions", context_id),
                          lambda: circleci.list_context_restrictions(context_id))


@dataclass(frozen=True, slots=True)
class RestrictionPlan:
    """What the CircleCI step will add to a context's restrictions, and what is there already."""

    context: str
    wanted: tuple[Wanted, ...]
    #: The context's restrictions now (empty when the context does not exist yet).
    present: tuple[ContextRestriction, ...] = ()
    #: Ids of present restrictions the wizard recorded as its own.
    recorded: frozenset[str] = frozenset()
    exists: bool = False

    @property
    def to_add(self) -> tuple[Wanted, ...]:
        return tuple(w for w in self.wanted if not any(w.matches(r) for r in self.present))

    @property
    def narrows(self) -> bool:
        """True when an existing context open to every project becomes project-restricted:
        jobs of other projects that use it lose it."""
        return (self.exists and not any(r.type == PROJECT_RESTRICTION for r in self.present)
                and any(w.type == PROJECT_RESTRICTION for w in self.to_add))

    def _whose(self, restriction: ContextRestriction) -> str:
        return ("added by the wizard" if restriction.id.lower() in self.recorded
                else "not added by the wizard; destroy keeps it")

    def lines(self) -> list[str]:
        """``+`` for each restriction to add, ``=`` for each already there."""
        out = [f"+ restrict context {self.context} to {w.label}" for w in self.to_add]
        out += [f"= context {self.context} is restricted to {r.describe()} ({self._whose(r)})"
                for r in self.present]
        return out

    def warnings(self, ctx: RunContext, variables: Iterable[str]) -> list[str]:
        c = ctx.config
        found: list[str] = []
        if self.to_add:
            found.append(ADMIN_CAVEAT.format(context=self.context))
        expressions = [w for w in self.wanted if w.type == EXPRESSION_RESTRICTION]
        if expressions:
            found.append(FAIL_CLOSED_CAVEAT.format(context=self.context))
        elif c.circleci_branch:
            found.append(f"Add --restrict-context-branch to also restrict context "
                         f"{self.context} to pipelines on branch {c.circleci_branch} "
                         f"({branch_expression(c.circleci_branch)}).")
        ours = {w.value for w in self.wanted if w.type == PROJECT_RESTRICTION}
        names = ", ".join(variables)
        for r in self.present:
            if r.type == PROJECT_RESTRICTION and r.value not in ours:
                found.append(f"Context {self.context} is also open to {r.describe()} (a "
                             f"restriction the wizard did not add): its jobs can read {names} "
                             "too.")
        if self.narrows:
            projects = ", ".join(c.circleci_projects)
            found.append(f"Context {self.context} has no project restriction yet, so every "
                         "project of the organisation can use it; once restricted, only "
                         f"{projects} can, and jobs of other projects that use it lose its "
                         "variables.")
        return found


def plan_for(ctx: RunContext, found: Context | None, held: Iterable[str]) -> RestrictionPlan:
    """The restrictions plan for the configured context (``found``, None when it is to be made)
    whose variable names are ``held``."""
    name = str(ctx.config.circleci_context)
    if found is None:
        return RestrictionPlan(name, wanted(ctx))
    return RestrictionPlan(name, wanted(ctx), tuple(restrictions(ctx, found.id)),
                           frozenset(recorded_ids(held)), exists=True)


def restrict(ctx: RunContext, found: Context) -> list[str]:
    """Add the wanted restrictions the context lacks, recording each; what was added, in words.

    Asked afresh (not from the plan's reads): another run may have added some meanwhile, and
    adding one that exists is harmless anyway (the client returns the existing one).
    """
    client = ctx.circleci
    assert client is not None
    ctx.reads.forget(("circleci_restrictions", found.id))
    present = restrictions(ctx, found.id)
    added: list[str] = []
    for want in wanted(ctx):
        if any(want.matches(r) for r in present):
            continue
        try:
            made = client.add_context_restriction(found.id, want.type, want.value)
        except CircleCIPermissionError as exc:
            raise WizardError(
                f"Context {found.name} was not given any value: CircleCI refused to restrict it "
                f"to {want.label} (the token's user is not an organisation admin).",
                code="HTTP 403",
                hint=RESTRICTIONS_ADMIN_ONLY + " Or leave out --circleci-context: project "
                "variables are readable only by that project's jobs.") from exc
        client.set_context_envvar(found.id, record_name(made.id), RECORD_VALUE)
        added.append(want.label)
    ctx.reads.forget(("circleci_restrictions", found.id))
    return added


@dataclass(frozen=True, slots=True)
class Removal:
    """What destroy takes out of a context that stays: the wizard's restrictions and their
    records, or, when the context still holds other variables, why they stay."""

    restrictions: tuple[ContextRestriction, ...] = ()
    records: tuple[str, ...] = ()
    #: The wizard's restrictions left in place, and the variables they still guard.
    kept: tuple[ContextRestriction, ...] = ()
    guarding: tuple[str, ...] = ()

    def words(self) -> str:
        """The clause a destroy plan adds, or ""."""
        if self.restrictions:
            return ("and the restriction(s) the wizard added (" + "; ".join(
                r.describe() for r in self.restrictions) + ")")
        if self.kept:
            return ("keeping the restriction(s) the wizard added (" + "; ".join(
                r.describe() for r in self.kept) + "): the context still holds "
                + ", ".join(self.guarding) + ", which removing them would open to more jobs "
                "(remove them at Organization Settings > Contexts if that is what you want)")
        return ""


def removal(ctx: RunContext, found: Context, held: Iterable[str],
            removed: Iterable[str]) -> Removal:
    """What goes with the wizard's variables ``removed`` from a context that stays.

    The recorded restrictions that still exist go, with every record, unless the context keeps
    other variables (region variables aside, which are no secret): then removing them would let
    jobs read those that cannot now, so they stay, and so do their records.
    """
    names = list(held)
    mine = recorded_ids(names)
    records = record_names(names)
    present = restrictions(ctx, found.id) if mine else []
    ours = tuple(r for r in present if r.id.lower() in mine)
    gone = set(removed) | set(records) | {CONTEXT_MARKER} | set(REGION_VARS)
    others = tuple(n for n in names if n not in gone)
    if others and ours:
        return Removal(kept=ours, guarding=others)
    return Removal(ours, tuple(records))


def remove(ctx: RunContext, found: Context, what: Removal) -> None:
    """Delete the wizard's restrictions first, then the records of them."""
    client = ctx.circleci
    assert client is not None
    for restriction in what.restrictions:
        client.delete_context_restriction(found.id, restriction.id)
    for name in what.records:
        client.delete_context_envvar(found.id, name)
    ctx.reads.forget(("circleci_restrictions", found.id))
