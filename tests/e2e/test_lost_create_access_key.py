"""A lost answer on CreateAccessKey: the stray key is deleted, then the key is made once more.

AWS acts on ``CreateAccessKey`` and the answer never arrives (the fault proxy's ``lose_answer``:
moto makes the key, the wizard is told 500 ``ServiceFailure``). The new key's secret is then lost
for good, so the wizard must find that key (its own "create began" record and the user's key list
before the call), delete it, and only then create again: one repeat, known to be safe, never a
loop. The wizard runs as the operator runs it (the real CLI, the session's GNOME Keyring), and
what happened is read back from moto, the keyring and the proxy's request log.
"""

from __future__ import annotations

import pytest

from tests.fixtures.wizard_runs import APPLY, USER, check_output, read_world

pytestmark = pytest.mark.slow


def _made(proxy) -> list[str]:
    """The key ids moto made, from each CreateAccessKey moto acted on (lost answers included)."""
    return [c.operation for c in proxy.calls("iam:CreateAccessKey") if c.moto_status == 200]


def test_a_lost_answer_deletes_the_stray_and_the_run_finishes_with_one_key(
        wizard_cli, faulty_aws):
    faulty_aws.fail("iam:CreateAccessKey", "lose_answer", times=1)

    run = wizard_cli.run(*APPLY, timeout=120)

    assert run.code == 0, run.text
    world = read_world(faulty_aws)
    check_output(run, world)
    assert world.problems() == [], world.problems()
    held = world.keyring
    assert held is not None and [k.key_id for k in world.keys] == [held[0]]
    creates = faulty_aws.calls("iam:CreateAccessKey")
    assert [c.outcome for c in creates] == ["lose_answer", "answered"], creates
    assert len(_made(faulty_aws)) == 2
    deleted = faulty_aws.calls("iam:DeleteAccessKey")
    assert len(deleted) == 1 and deleted[0].started > creates[0].ended
    assert deleted[0].ended < creates[1].started, "the stray goes before the second create"
    told = [line for line in run.text.splitlines() if "answer to CreateAccessKey was lost" in line]
    assert len(told) == 1, run.text
    assert "was deleted and a new one created" in told[0] and held[0] in told[0]
    stray = told[0].split("the key it made (", 1)[1].split(")", 1)[0]
    assert stray.startswith("AKIA") and stray != held[0]
    tags = faulty_aws.inspector_session().client("iam").list_user_tags(UserName=USER)["Tags"]
    assert not any(stray in t["Key"] or stray in t["Value"] for t in tags), tags

    faulty_aws.clear_log()
    again = wizard_cli.run(*APPLY, timeout=120)
    assert again.code == 0, again.text
    assert [c.operation for c in faulty_aws.mutating()] == []


def test_twice_lost_deletes_both_strays_and_stops_then_the_rerun_converges(
        wizard_cli, faulty_aws):
    faulty_aws.fail("iam:CreateAccessKey", "lose_answer", times=2)

    run = wizard_cli.run(*APPLY, timeout=120)

    assert run.code == 1, run.text
    world = read_world(faulty_aws)
    check_output(run, world)
    assert world.keys == [] and world.keyring is None, world
    assert [c.outcome for c in faulty_aws.calls("iam:CreateAccessKey")] == ["lose_answer"] * 2
    assert faulty_aws.count("iam:DeleteAccessKey") == 2
    assert "was lost twice" in run.err and "Run the command again" in run.err, run.err
    assert "the wizard deleted them again" in run.err, run.err
    assert "Traceback" not in run.text

    faulty_aws.clear_log()
    again = wizard_cli.run(*APPLY, timeout=120)
    assert again.code == 0, again.text
    after = read_world(faulty_aws)
    assert after.problems() == [], after.problems()
    assert faulty_aws.count("iam:CreateAccessKey") == 1
