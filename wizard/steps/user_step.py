"""Step 6: the programmatic IAM user (no console password), made a member of the group.

The user is announced as soon as it exists, so the access key is created while the membership
is still being added: the two do not depend on each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from ..aws import adopt_own, already_exists, aws_call, delete, is_managed, managed_tags
from ..config import IAM_PATH
from ..context import RunContext
from ..errors import explain
from ..graph import Work, at_once
from ..model import Action, StepPlan, StepResult
from . import iam_reads
from .base import Step

if TYPE_CHECKING:
    from mypy_boto3_iam.type_defs import UserTypeDef

    from ..grants import Removal
    from ..keys import KeyFact


def _grants_of(removals: list[Removal]) -> str:
    """What a user holds besides the setup's group, from the removals adopting it would make."""
    return "; ".join(r.held for r in removals) or "nothing"


@dataclass(frozen=True, slots=True)
class _Removal:
    """What destroy removes with the wizard's user: the user, and the keys it may delete."""

    user: UserTypeDef
    keys: frozenset[str]


def _keys_for_destroy(ctx: RunContext) -> tuple[frozenset[str], tuple[KeyFact, ...]]:
    """The user's keys destroy may delete, and those it keeps (:attr:`KeyState.untouchable`:
    another machine's, or not made by the wizard), by the wizard's records."""
    from ..keys import read_keys
    from .access_key_step import keyring_problem, stored_key

    try:
        stored = stored_key(ctx) if keyring_problem(ctx) is None else None
    except Exception:  # noqa: BLE001 - an unreadable entry holds no key of the user
        stored = None
    state = read_keys(ctx, stored)
    kept = state.untouchable
    return frozenset(k.key_id for k in state.keys if k not in kept), kept


@dataclass(frozen=True, slots=True)
class UserFacts:
    user: UserTypeDef | None
    #: Whether the user is already in the setup's group.
    member: bool = False
    #: What apply takes away from the user (its own policies, other groups).
    removals: tuple[Removal, ...] = ()
    #: True when apply adopts the user (it was not made by the wizard).
    adopt: bool = False

    @property
    def arn(self) -> str | None:
        return self.user["Arn"] if self.user else None


class UserStep(Step):
    key = "user"

    def plan(self, ctx: RunContext) -> StepPlan:
        from .. import grants

        c = ctx.config
        user = iam_reads.user(ctx, c.user)
        if user is None:
            return self.planned(Action.CREATE, f"Create programmatic IAM user {c.user} in group "
                                f"{c.group}.", calls=("iam:CreateUser", "iam:AddUserToGroup"),
                                facts=UserFacts(None))
        console, groups = at_once(lambda: iam_reads.has_console_password(ctx, c.user),
                                  lambda: iam_reads.user_groups(ctx, c.user))
        member = c.group in groups
        if console:
            return self.planned(Action.CONFLICT, f"IAM user {c.user} exists and has a console "
                                "password; a CI identity must be programmatic only. Choose "
                                "another --user or remove its console access.",
                                facts=UserFacts(user, member))
        managed = is_managed(user)
        if not managed:
            held, keys = at_once(lambda: grants.removals(ctx, "user", c.user),
                                 lambda: iam_reads.access_keys(ctx, c.user))
            key_words = ", ".join(f"{k['AccessKeyId']} ({k.get('Status', '?').lower()})"
                                  for k in keys) or "none"
            if not c.adopt:
                return self.planned(
                    Action.CONFLICT,
                    f"IAM user {c.user} exists and was not made by the wizard; nothing is "
                    "changed, and its access keys are not touched. It is in groups "
                    f"{', '.join(groups) or 'none'}; its own grants and other groups: "
                    f"{_grants_of(held)}; its access keys: {key_words}. Choose another "
                    "--user, or pass --adopt to take it over (the plan then shows what "
                    "adoption removes).", facts=UserFacts(user, member))
            if keys:
                return self.planned(
                    Action.CONFLICT,
                    f"IAM user {c.user} cannot be adopted: it has access key(s) {key_words} the "
                    "wizard did not make, and whoever holds them would get the bucket's access. "
                    "The wizard never touches them: retire them yourself once nothing uses "
                    "them, or choose another --user.", facts=UserFacts(user, member))
            removals = tuple(held)
        else:
            removals = tuple(grants.removals(ctx, "user", c.user))
        lines = tuple(r.sentence for r in removals)
        calls = tuple(dict.fromkeys(r.call for r in removals))
        join = () if member else ("iam:AddUserToGroup",)
        facts = UserFacts(user, member, removals, not managed)
        if not managed:
            return self.planned(
                Action.UPDATE,
                f"Adopt IAM user {c.user} (made outside the wizard): tag it as the wizard's"
                + (f", add it to group {c.group}" if not member else "")
                + ("; take away what else it holds." if removals else "; it holds nothing "
                   "else."),
                calls=("iam:TagUser", *calls, *join),
                differences=("not made by the wizard: adopted", *lines), facts=facts)
        if removals:
            return self.planned(
                Action.UPDATE,
                f"IAM user {c.user} (made by the wizard) holds more than the wizard's policy; "
                "apply takes the rest away" + ("" if member else f" and adds it to {c.group}")
                + ".", calls=(*calls, *join),
                differences=lines + (() if member else (f"not a member of {c.group}",)),
                facts=facts)
        if member:
            return self.planned(Action.EXISTS, f"IAM user {c.user} exists and is in {c.group}.",
                                facts=facts)
        return self.planned(Action.REPAIR, f"IAM user {c.user} exists; add it to group {c.group}.",
                            calls=join, differences=(f"not a member of {c.group}",), facts=facts)

    def apply(self, ctx: RunContext, plan: StepPlan, work: Work) -> StepResult:
        from ..grants import forget_holdings

        c, iam = ctx.config, ctx.client("iam")
        facts: UserFacts = plan.facts
        user = facts.user
        if user is None:
            work.checkpoint()
            try:
                user = iam.create_user(UserName=c.user, Path=IAM_PATH,
                                       Tags=managed_tags())["User"]
            except Exception as exc:
                if not already_exists(exc):
                    raise explain(exc, f"creating user {c.user}", "iam:CreateUser") from exc
                ctx.reads.forget(("user", c.user))
                user = adopt_own("IAM user", c.user, iam_reads.user(ctx, c.user), exc)
            ctx.reads.put(("user", c.user), user)
            ctx.reads.put(("access_keys", c.user), [])
            work.did(f"Created IAM user {c.user}.")
            work.ready()  # its access key need not wait for the membership
        if facts.adopt:
            work.checkpoint()
            with aws_call(f"adopting user {c.user}", "iam:TagUser"):
                iam.tag_user(UserName=c.user, Tags=managed_tags())
            ctx.reads.forget(("user", c.user))
            work.did(f"Adopted IAM user {c.user} (tagged as the wizard's).")
        for removal in facts.removals:
            work.checkpoint()
            removal.run(ctx)
            work.did(removal.done)
        if facts.removals:
            forget_holdings(ctx)
        if not facts.member:
            work.need("group")
            work.checkpoint()
            with aws_call(f"adding {c.user} to {c.group}", "iam:AddUserToGroup"):
                iam.add_user_to_group(UserName=c.user, GroupName=c.group)
            ctx.reads.forget(("user_groups", c.user), ("effective",))
            work.did(f"Added it to group {c.group}.")
        return self.result(plan.action, " ".join(work.done), user_arn=user["Arn"])

    def outputs(self, ctx: RunContext, plan: StepPlan) -> dict[str, Any]:
        facts: UserFacts | None = plan.facts
        return {"user_arn": facts.arn} if facts and facts.arn else {}

    def plan_destroy(self, ctx: RunContext) -> StepPlan:
        c = ctx.config
        user = iam_reads.user(ctx, c.user)
        if user is None:
            return self.planned(Action.ABSENT, f"IAM user {c.user} does not exist.")
        if is_managed(user):
            deletable, kept = _keys_for_destroy(ctx)
            if kept:
                return self.planned(
                    Action.KEEP, f"IAM user {c.user} is kept, in group {c.group}: "
                    f"{'; '.join(k.describe() for k in kept)} "
                    f"{'is' if len(kept) == 1 else 'are'} not this machine's to delete (destroy "
                    "never deletes another machine's key, or one the wizard did not make). The "
                    "policy is still removed, so no key of the user keeps access to the bucket. "
                    "Run destroy on that machine, or delete the key in the IAM console, then "
                    "destroy again.")
            return self.planned(Action.DELETE, f"Delete IAM user {c.user} (its access keys and "
                                "group memberships first).",
                                calls=("iam:DeleteAccessKey", "iam:RemoveUserFromGroup",
                                       "iam:DeleteUser"), facts=_Removal(user, deletable))
        group = iam_reads.group(ctx, c.group)
        if is_managed(group) and c.group in iam_reads.user_groups(ctx, c.user):
            return self.planned(Action.DELETE, f"Remove {c.user} (not made by the wizard, kept) "
                                f"from group {c.group}.", calls=("iam:RemoveUserFromGroup",),
                                facts=user)
        return self.planned(Action.KEEP, f"IAM user {c.user} was not made by the wizard; it is "
                            "kept.")

    def destroy(self, ctx: RunContext, plan: StepPlan) -> StepResult:
        if plan.action is not Action.DELETE:
            return self.result(plan.action, plan.detail)
        c, iam = ctx.config, ctx.client("iam")
        if not isinstance(plan.facts, _Removal):
            delete(lambda: iam.remove_user_from_group(UserName=c.user, GroupName=c.group),
                   f"removing {c.user} from {c.group}", "iam:RemoveUserFromGroup")
            return self.result(Action.DELETE, f"Removed {c.user} from group {c.group}; the user "
                               "was kept.")
        ctx.reads.forget(("access_keys", c.user), ("user_groups", c.user))
        # Only the keys the plan found to be this machine's to delete: a key that appeared
        # since (another machine's) makes DeleteUser refuse, with a sentence, rather than go.
        for key in iam_reads.access_keys(ctx, c.user):
            if key["AccessKeyId"] not in plan.facts.keys:
                continue
            delete(partial(iam.delete_access_key, UserName=c.user,
                           AccessKeyId=key["AccessKeyId"]),
                   f"deleting an access key of {c.user}", "iam:DeleteAccessKey")
        for group in iam_reads.user_groups(ctx, c.user):
            delete(partial(iam.remove_user_from_group, UserName=c.user, GroupName=group),
                   f"removing {c.user} from {group}", "iam:RemoveUserFromGroup")
        delete(lambda: iam.delete_user(UserName=c.user), f"deleting user {c.user}",
               "iam:DeleteUser")
        ctx.reads.forget(("user", c.user), ("access_keys", c.user), ("user_groups", c.user))
        return self.result(Action.DELETE, f"Deleted IAM user {c.user}.")
