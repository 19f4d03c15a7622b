"""Two operators' machines on one AWS account, through the real command line (issue #14).

Machine A and machine B (:mod:`tests.fixtures.machines`) each have their own HOME, state
folder (so install id) and GNOME Keyring on a D-Bus session of their own; both talk to the
session's moto server, as two laptops talk to one account. Every test uses fresh names, so the
server is never reset. The outcome is read back without the wizard's code: the user's keys from
moto, each keyring with ``secretstorage`` on its own bus, and what each run said.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.fixtures.machines import Machine
from tests.fixtures.wizard_runs import Run

pytestmark = pytest.mark.slow

KEY_CHECK = "one active access key, held by your keyring"
EACH_KEY_CHECK = "each active access key held by the keyring its record names"


@dataclass(frozen=True)
class Setup:
    """Fresh names for one test's setup, and a client to read the account back."""

    bucket: str
    user: str
    group: str
    policy: str
    iam: Any

    @property
    def options(self) -> tuple[str, ...]:
        return ("--bucket", self.bucket, "--user", self.user, "--group", self.group,
                "--policy-name", self.policy)

    def keys(self) -> dict[str, str]:
        """Key id -> status, as moto lists them."""
        listed = self.iam.list_access_keys(UserName=self.user)["AccessKeyMetadata"]
        return {k["AccessKeyId"]: k["Status"] for k in listed}

    def secret_of(self, key_id: str) -> str:
        """moto's own record of a key's secret (moto runs in this process)."""
        from moto.iam.models import iam_backends

        user = iam_backends["123456789012"]["global"].users[self.user]
        return next(k.secret_access_key for k in user.access_keys if k.access_key_id == key_id)


@pytest.fixture
def setup(moto_server: str) -> Setup:
    import boto3

    tag = uuid.uuid4().hex[:10]
    iam = boto3.client("iam", endpoint_url=moto_server, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    return Setup(f"two-{tag}", f"user_{tag}", f"group_{tag}", f"policy_{tag}", iam)


def _ok(run: Run) -> Run:
    assert run.code == 0, run.text
    return run


def _check(run: Run, name: str) -> str:
    """The outcome verify gave the check ``name`` ("pass", "fail", ...)."""
    line = next((line for line in run.out.splitlines() if name in line), None)
    assert line is not None, run.text
    return line.split()[0]


def _holds_its_own(machine: Machine, setup: Setup, key_id: str) -> None:
    """``machine``'s keyring holds ``key_id`` with its real secret."""
    assert machine.held_key(setup.user) == (key_id, setup.secret_of(key_id))


def test_a_key_held_on_another_machine_is_never_deleted(machines: tuple[Machine, Machine],
                                                       setup: Setup) -> None:
    a, b = machines
    _ok(a.run("apply", "--auth", "keys", "--yes", "--create-bucket", *setup.options))
    (key_a,) = setup.keys()
    _holds_its_own(a, setup, key_a)
    assert b.held_key(setup.user) is None
    install_a = a.install_id()
    assert install_a

    # B's plan names where A's key lives, and makes no second key.
    plan = _ok(b.run("plan", *setup.options))
    assert f"{key_a} (active, held in the keyring of install {install_a} (another machine)" \
        in plan.out, plan.out
    assert "No key is made here" in plan.out
    assert "rotate --yes" in plan.out
    assert "+ create   Access key" not in plan.out

    # B's apply leaves A's key alone, and A's setup is still whole.
    applied = _ok(b.run("apply", "--yes", *setup.options))
    assert "Deleted" not in applied.out, applied.out
    assert setup.keys() == {key_a: "Active"}
    _holds_its_own(a, setup, key_a)
    assert b.held_key(setup.user) is None
    assert _check(a.run("verify", *setup.options), KEY_CHECK) == "pass"
    # ...and B, holding no key, finds the setup's key where its record says.
    assert _check(b.run("verify", *setup.options), EACH_KEY_CHECK) == "pass"

    # B rotates, with consent: a key of its own in its keyring; A's key stays, and says so.
    rotated = _ok(b.run("rotate", "--yes", *setup.options))
    keys = setup.keys()
    (key_b,) = set(keys) - {key_a}
    assert keys == {key_a: "Active", key_b: "Active"}
    _holds_its_own(b, setup, key_b)
    _holds_its_own(a, setup, key_a)
    assert f"Left access key {key_a} alone (held in the keyring of install {install_a}" \
        in rotated.text, rotated.text
    install_b = b.install_id()
    assert install_b and install_b != install_a

    # A's next apply does not delete B's key, and names where it lives.
    again = _ok(a.run("apply", "--yes", *setup.options))
    assert "Deleted" not in again.out, again.out
    assert setup.keys() == {key_a: "Active", key_b: "Active"}
    assert f"held in the keyring of install {install_b} (another machine)" in \
        a.run("plan", *setup.options).out
    _holds_its_own(a, setup, key_a)
    _holds_its_own(b, setup, key_b)

    # Each machine's verify passes: each key is held where its record says.
    for machine in (a, b):
        assert _check(machine.run("verify", *setup.options), EACH_KEY_CHECK) == "pass"


def test_a_key_made_by_hand_is_never_touched_by_either_machine(
        machines: tuple[Machine, Machine], setup: Setup) -> None:
    a, b = machines
    _ok(a.run("apply", "--auth", "keys", "--yes", "--create-bucket", *setup.options))
    (key_a,) = setup.keys()
    by_hand = setup.iam.create_access_key(UserName=setup.user)["AccessKey"]["AccessKeyId"]
    both = {key_a: "Active", by_hand: "Active"}

    for machine in (a, b):
        plan = _ok(machine.run("plan", *setup.options))
        assert f"Access key {by_hand} (active, not made by the wizard" in plan.out, plan.out
        assert "never touches it" in plan.out

    for machine in (b, a):
        applied = _ok(machine.run("apply", "--yes", *setup.options))
        assert "Deleted" not in applied.out, applied.out
        assert setup.keys() == both
    _holds_its_own(a, setup, key_a)

    # Rotate needs a free slot, and the hand-made key takes one: both machines refuse, and
    # say so, rather than make room by deleting it.
    for machine in (a, b):
        rotated = machine.run("rotate", "--yes", *setup.options)
        assert rotated.code == 1, rotated.text
        assert "IAM's limit" in rotated.err and by_hand in rotated.err
        assert setup.keys() == both
    _holds_its_own(a, setup, key_a)
    assert b.held_key(setup.user) is None

    # B's destroy (it holds nothing) deletes neither key; A's deletes its own, not the other.
    for machine, left in ((b, both), (a, {by_hand: "Active"})):
        destroyed = machine.run("destroy", "--yes", *setup.options)
        assert destroyed.code in (0, 1), destroyed.text
        assert setup.keys() == left, destroyed.text
        assert f"{by_hand} (active, not made by the wizard" in destroyed.out, destroyed.out
    assert a.held_key(setup.user) is None
    assert setup.iam.get_user(UserName=setup.user)["User"]["UserName"] == setup.user


def test_destroy_on_one_machine_leaves_the_other_machines_key(
        machines: tuple[Machine, Machine], setup: Setup) -> None:
    a, b = machines
    _ok(a.run("apply", "--auth", "keys", "--yes", "--create-bucket", *setup.options))
    _ok(b.run("rotate", "--yes", *setup.options))
    key_b = b.held_key(setup.user)
    assert key_b is not None
    destroyed = a.run("destroy", "--yes", *setup.options)
    assert destroyed.code in (0, 1), destroyed.text
    assert setup.keys() == {key_b[0]: "Active"}, destroyed.text
    assert a.held_key(setup.user) is None
    _holds_its_own(b, setup, key_b[0])
    assert f"held in the keyring of install {b.install_id()}" in destroyed.out
    assert "Run destroy on that machine" in destroyed.out
    # The user is kept for B's key, but the policy goes, as the plan says: no access is left.
    policies = setup.iam.list_policies(Scope="Local")["Policies"]
    assert setup.policy not in [p["PolicyName"] for p in policies]

    # B's destroy then removes its own key and the user.
    _ok(b.run("destroy", "--yes", *setup.options))
    assert b.held_key(setup.user) is None
    with pytest.raises(setup.iam.exceptions.NoSuchEntityException):
        setup.iam.get_user(UserName=setup.user)


def test_destroy_removes_a_malformed_keyring_entry_as_its_message_promises(
        machines: tuple[Machine, Machine], setup: Setup) -> None:
    a, b = machines
    _ok(a.run("apply", "--auth", "keys", "--yes", "--create-bucket", *setup.options))
    entry = f"aws-access-key:{setup.user}"
    a.put_entry(entry, "not json at all")
    b.put_entry(entry, '{"junk": true}')

    plan = a.run("plan", *setup.options)
    assert "is not an access key written by this wizard" in plan.text
    assert "circleci-s3-wizard destroy" in plan.text

    destroyed = _ok(a.run("destroy", "--yes", *setup.options))
    assert "Deleted the malformed keyring entry" in destroyed.out, destroyed.out
    assert entry not in a.entries()
    # A's own key (recorded in A's keyring, whose entry was the junk) went with the user.
    with pytest.raises(setup.iam.exceptions.NoSuchEntityException):
        setup.iam.get_user(UserName=setup.user)
    # B's keyring is B's: its entry is untouched by A's destroy.
    assert b.entries()[entry] == {"junk": True}
