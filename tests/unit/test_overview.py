"""The whole plan summed up for Welcome: the verdict (complete or not) and its words."""

from __future__ import annotations

from circleci_s3_wizard.wizard.config import SetupConfig
from circleci_s3_wizard.wizard.context import Identity
from circleci_s3_wizard.wizard.model import Action, Plan, StepPlan
from circleci_s3_wizard.wizard.overview import Overview

WHO = Identity("123456789012", "arn:aws:iam::123456789012:user/ops", "AIDAOPS")


def overview_of(steps: tuple[StepPlan, ...]) -> Overview:
    return Overview(Plan("setup", SetupConfig(), WHO, "us-east-1", steps))


def plan(key: str, action: Action) -> StepPlan:
    return StepPlan(key, action, f"{key} detail", title=key.replace("_", " ").title())


def test_nothing_to_change_and_nothing_in_the_way_is_complete() -> None:
    done = overview_of((plan("bucket", Action.EXISTS), plan("circleci", Action.SKIP)))
    assert done.complete
    assert done.headline() == "This setup is complete: all 2 steps are done, nothing to change."
    assert done.lines() == ["= exists   Bucket", "- skip     Circleci"]


def test_a_refusal_is_never_complete_and_the_headline_says_where_a_run_stops() -> None:
    refused = overview_of((plan("bucket", Action.EXISTS), plan("group", Action.CONFLICT)))
    assert not refused.complete and not refused.plan.changes
    assert refused.headline() == ("0 of 2 steps will change something; Group cannot run as it "
                                  "stands (a run stops there).")


def test_the_headline_counts_changes_and_names_what_asks_first() -> None:
    mixed = overview_of((plan("bucket", Action.CREATE), plan("policy", Action.UPDATE),
                      plan("user", Action.REPAIR), plan("folder", Action.EXISTS)))
    assert [p.key for p in mixed.plan.changes] == ["bucket", "policy", "user"]
    assert mixed.headline() == "3 of 4 steps will change something; Policy asks first."
    assert mixed.lines()[1] == "~ update   Policy"


def test_no_plans_is_not_complete() -> None:
    assert not overview_of(()).complete
