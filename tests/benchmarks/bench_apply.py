"""Benchmark: headless ``apply`` vs. the closest peer (s3-credentials) and an AWS CLI script.

All three run in the same run against one local moto server behind the fault proxy
(``tests/fixtures/faults.py``), which names and times every request, with a new bucket each time:

- ``circleci-s3-wizard apply --yes --json --create-bucket --bucket B``, storing the secret in a
  real GNOME Keyring on a private D-Bus session; then the same command again (it should change
  nothing);
- ``s3-credentials create B --prefix builds/ --create-bucket`` (simonw's tool: bucket, user,
  inline policy, access key printed to stdout);
- the tutorial's ten creating calls as a shell script, one ``aws`` process per step.

Each tool runs as a user gets it: the wizard from a wheel built here, the peers from PyPI, each
installed in its own fresh venv with compiled bytecode (``_fresh_install.py``). The proxy keeps
connections alive as AWS does; every request can be delayed (``--latency``) to turn loopback into
a realistic round trip to IAM, and every new connection can cost its TCP + TLS handshake on top
(``--latency 0.08:2``: two more round trips before its first answer). By default three
conditions: loopback, +80 ms per request, and +80 ms per request with handshakes.

    uv run --group bench python tests/benchmarks/bench_apply.py [--runs 3] [--latency 0.08[:2] ...]

It prints the targets as pass/fail and asserts nothing. Not a pytest test (no ``test_`` names).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _fresh_install import fresh_venv, locked_constraints, wizard_wheel  # noqa: E402
from _support import clean_env, private_keyring, timed  # noqa: E402

from circleci_s3_wizard.wizard.config import (  # noqa: E402
    DEFAULT_GROUP,
    DEFAULT_POLICY_NAME,
    DEFAULT_USER,
    IAM_PATH,
)
from circleci_s3_wizard.wizard.policy import build_policy, policy_json  # noqa: E402
from circleci_s3_wizard.wizard.secret_store import SERVICE  # noqa: E402
from tests.fixtures.faults import FaultProxy  # noqa: E402


@dataclass(frozen=True)
class Condition:
    """What the network costs: seconds before every answer, and round trips (of that latency)
    a new connection costs before its first answer (TCP + TLS: 2)."""

    latency: float
    handshake_rtts: float = 0.0

    @classmethod
    def parse(cls, text: str) -> Condition:
        """``0.08`` or ``0.08:2`` (seconds per request, round trips per new connection)."""
        latency, _, rtts = text.partition(":")
        try:
            return cls(float(latency), float(rtts or 0))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected SECONDS[:RTTS], not {text!r}") from None

    def __str__(self) -> str:
        if self.latency == 0:
            return "loopback"
        where = f"+{self.latency * 1000:.0f} ms per request"
        if self.handshake_rtts:
            where += f", +{self.handshake_rtts:g} round trips per new connection"
        return where


LOOPBACK, ROUND_TRIP, HANDSHAKES = Condition(0.0), Condition(0.08), Condition(0.08, 2)
#: Minimum speed-up of the wizard over each peer (peer's median / wizard's median), by condition.
TARGETS = {
    LOOPBACK: {"aws-cli": 6.0, "s3-credentials": 0.8},
    ROUND_TRIP: {"aws-cli": 4.0, "s3-credentials": 1.5},
    HANDSHAKES: {"aws-cli": 4.0, "s3-credentials": 1.5},
}
#: The wizard's first apply: the tutorial's ten writes and the access key's record on the user
#: (TagUser before and after the key); its second apply should make none.
MAX_MUTATING = 12

#: The tutorial's steps, one ``aws`` process each, doing what the wizard's apply does.
AWS_CLI_SCRIPT = """\
set -eu
aws() {{ "$AWS" --endpoint-url "$ENDPOINT" --output text "$@"; }}
aws s3api create-bucket --bucket "$BUCKET" >/dev/null
aws s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-tagging --bucket "$BUCKET" \
  --tagging 'TagSet=[{{Key=managed-by,Value=circleci-s3-wizard}}]'
aws s3api put-object --bucket "$BUCKET" --key builds/ >/dev/null
aws iam create-group --group-name {group} --path {path} >/dev/null
POLICY_ARN=$(aws iam create-policy --policy-name {policy} --path {path} \
  --policy-document "file://$POLICY_FILE" --tags Key=managed-by,Value=circleci-s3-wizard \
  --query Policy.Arn)
aws iam attach-group-policy --group-name {group} --policy-arn "$POLICY_ARN"
aws iam create-user --user-name {user} --path {path} \
  --tags Key=managed-by,Value=circleci-s3-wizard >/dev/null
aws iam add-user-to-group --user-name {user} --group-name {group}
SECRET=$(aws iam create-access-key --user-name {user} --query AccessKey.SecretAccessKey)
test -n "$SECRET"
"""


@dataclass
class Sample:
    """One timed run and the shape of its requests, from the proxy's log."""

    seconds: float
    requests: int
    mutating: int
    in_flight: int  #: the most requests in flight at once
    rounds: int  #: sequential round trips on the critical path
    connections: int  #: TCP connections the tool opened (each paid a handshake, if any)
    operations: Counter[str] = field(default_factory=Counter)
    #: connections by the service(s) whose requests they carried (``iam``, ``s3``, ``sts``)
    connections_by_service: Counter[str] = field(default_factory=Counter)


@dataclass
class Row:
    label: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)


class Bench:
    """The three tools, their venvs, one keyring, and the proxy of the latency being measured."""

    def __init__(self, bins: dict[str, Path], keyring, work: Path) -> None:
        self.bins, self.keyring, self.work = bins, keyring, work
        self.proxy: FaultProxy | None = None

    def env(self, home: str, **extra: str) -> dict[str, str]:
        assert self.proxy is not None
        return clean_env(self.work / home, AWS_ENDPOINT_URL=self.proxy.endpoint,
                         AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                         AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", **extra)

    def sample(self, seconds: float) -> Sample:
        p = self.proxy
        calls = p.calls()
        services: dict[int | None, set[str]] = {}
        for call in calls:
            services.setdefault(call.connection, set()).add(call.service)
        return Sample(seconds, len(calls), len(p.mutating()), p.max_in_flight(), p.rounds(),
                      len(p.connections()), Counter(c.operation for c in calls),
                      Counter("+".join(sorted(s)) for s in services.values()))

    def has_one_key(self, bucket: str, user: str) -> None:
        """The outcome, read through the inspector: the bucket, and one key for the user."""
        peek = self.proxy.inspector_session()
        peek.client("s3").head_bucket(Bucket=bucket)
        keys = peek.client("iam").list_access_keys(UserName=user)["AccessKeyMetadata"]
        if len(keys) != 1:
            raise SystemExit(f"{user} has {len(keys)} access keys after the run, not 1")

    # -- the tools -------------------------------------------------------------------------

    def wizard(self, bucket: str) -> tuple[Sample, Sample]:
        """First apply, then the same apply again; each must succeed and keep one secret."""
        env = self.env("home-wizard", DBUS_SESSION_BUS_ADDRESS=self.keyring.address)
        argv = [str(self.bins["wizard"] / "circleci-s3-wizard"), "apply", "--yes", "--json",
                "--create-bucket", "--bucket", bucket]
        samples = []
        for _ in range(2):
            self.proxy.clear_log()
            seconds, out = timed(argv, env)
            if not json.loads(out).get("ok"):
                raise SystemExit(f"apply did not succeed: {out}")
            samples.append(self.sample(seconds))
            self.has_one_key(bucket, DEFAULT_USER)
        if self.keyring.delete_items(SERVICE) != 1:
            raise SystemExit("apply did not leave exactly one secret in the keyring")
        return samples[0], samples[1]

    def s3_credentials(self, bucket: str) -> Sample:
        argv = [str(self.bins["s3-credentials"] / "s3-credentials"), "create", bucket,
                "--prefix", "builds/", "--create-bucket"]
        seconds, out = timed(argv, self.env("home-s3-credentials"), show_stdout=False)
        if "SecretAccessKey" not in json.loads(out):
            raise SystemExit("s3-credentials printed no secret access key")
        sample = self.sample(seconds)
        self.has_one_key(bucket, f"s3.read-write.{bucket}")
        return sample

    def aws_cli(self, bucket: str) -> Sample:
        policy_file = self.work / "policy.json"
        policy_file.write_text(policy_json(build_policy(bucket, "builds/")))
        script = self.work / "tutorial.sh"
        script.write_text(AWS_CLI_SCRIPT.format(group=DEFAULT_GROUP, policy=DEFAULT_POLICY_NAME,
                                                user=DEFAULT_USER, path=IAM_PATH))
        env = self.env("home-aws-cli", AWS=str(self.bins["aws-cli"] / "aws"),
                       ENDPOINT=self.proxy.endpoint, BUCKET=bucket,
                       POLICY_FILE=str(policy_file))
        seconds, _ = timed(["bash", str(script)], env)
        sample = self.sample(seconds)
        self.has_one_key(bucket, DEFAULT_USER)
        return sample

    def measure(self, condition: Condition, runs: int) -> dict[str, Row]:
        rows = {key: Row(label) for key, label in (
            ("wizard", "circleci-s3-wizard apply"), ("wizard-again", "  the same apply again"),
            ("s3-credentials", "s3-credentials create"),
            ("aws-cli", "AWS CLI script (1 aws per step)"))}

        def wizard(bucket: str) -> None:
            first, again = self.wizard(bucket)
            rows["wizard"].samples.append(first)
            rows["wizard-again"].samples.append(again)

        def peer(key: str, run: Callable[[str], Sample]) -> Callable[[str], None]:
            return lambda bucket: rows[key].samples.append(run(bucket))

        order = [("wizard", wizard), ("s3c", peer("s3-credentials", self.s3_credentials)),
                 ("cli", peer("aws-cli", self.aws_cli))]
        with FaultProxy(latency=condition.latency, handshake_rtts=condition.handshake_rtts,
                        keep_alive=True) as self.proxy:
            for key, run in order:  # one unmeasured round each: warm disk caches alike
                self.proxy.reset()
                run(f"bench-warm-{key}")
            for row in rows.values():
                row.samples.clear()
            for i in range(runs):
                for key, run in order[i % 3:] + order[:i % 3]:  # rotate who goes first
                    self.proxy.reset()
                    run(f"bench-{key}-{i}")
        self.proxy = None
        return rows


def report(results: dict[Condition, dict[str, Row]], runs: int) -> None:
    verdicts: list[str] = []
    for condition, rows in results.items():
        where = str(condition)
        print(f"\n## apply against moto, {where}, {runs} run(s) of each\n")
        print(f"| {'tool':34} | {'median':>8} | {'min':>8} | requests | mutating "
              f"| connections | max in flight | rounds |")
        print(f"|{'-' * 36}|{'-' * 9}:|{'-' * 9}:|{'-' * 9}:|{'-' * 9}:|{'-' * 12}:"
              f"|{'-' * 14}:|{'-' * 7}:|")
        for row in rows.values():
            last, fastest = row.samples[-1], min(s.seconds for s in row.samples)
            print(f"| {row.label:34} | {row.median:6.3f} s | {fastest:6.3f} s "
                  f"| {last.requests:8} | {last.mutating:8} | {last.connections:11} "
                  f"| {last.in_flight:13} | {last.rounds:6} |")
        wizard = rows["wizard"].median
        print()
        for key in ("aws-cli", "s3-credentials"):
            ratio = rows[key].median / wizard
            target = TARGETS.get(condition, {}).get(key)
            line = f"wizard vs {rows[key].label.split(' (')[0]}: {ratio:.2f}x"
            if target is not None:
                verdict = "pass" if ratio >= target else "FAIL"
                line += f" (target >= {target}x: {verdict})"
                verdicts.append(f"{where}: {line}")
            print(line)
        first = max(s.mutating for s in rows["wizard"].samples)
        again = max(s.mutating for s in rows["wizard-again"].samples)
        for text, ok in ((f"wizard fresh apply: {first} mutating requests (target <= "
                          f"{MAX_MUTATING})", first <= MAX_MUTATING),
                         (f"wizard second apply: {again} mutating requests (target 0)",
                          again == 0)):
            line = f"{text}: {'pass' if ok else 'FAIL'}"
            print(line)
            verdicts.append(f"{where}: {line}")
        print("\nconnections by the services they carried (last run):")
        for row in rows.values():
            shares = ", ".join(f"{n} {name}" for name, n in
                               sorted(row.samples[-1].connections_by_service.items()))
            print(f"  {row.label.strip()}: {shares}")

    rows = next(iter(results.values()))
    print("\n## requests made by circleci-s3-wizard apply (first apply, then the second)\n")
    for key in ("wizard", "wizard-again"):
        print(f"{rows[key].label.strip()}:")
        for name, count in sorted(rows[key].samples[-1].operations.items()):
            print(f"  {count} x {name}")
    print("\n## targets\n")
    for line in verdicts:
        print(f"- {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
    parser.add_argument("--latency", type=Condition.parse, action="append",
                        metavar="SECONDS[:RTTS]",
                        help="added before every answer, and RTTS round trips of it before a "
                             "new connection's first answer; repeatable (default: 0, 0.08 and "
                             "0.08:2)")
    args = parser.parse_args(argv)
    conditions = args.latency or [LOOPBACK, ROUND_TRIP, HANDSHAKES]

    with tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp, private_keyring() as keyring:
        work = Path(tmp)
        print("installing each tool in a fresh venv (wheel, PyPI, compiled bytecode)...",
              file=sys.stderr, flush=True)
        constraints = locked_constraints(work)
        bins = {
            "wizard": fresh_venv(work / "venv-wizard", wizard_wheel(work), constraints),
            "s3-credentials": fresh_venv(work / "venv-s3-credentials", "s3-credentials",
                                         constraints),
            "aws-cli": fresh_venv(work / "venv-aws-cli", "awscli", constraints),
        }
        bench = Bench(bins, keyring, work)
        results = {}
        for condition in conditions:
            print(f"measuring: {condition}...", file=sys.stderr, flush=True)
            results[condition] = bench.measure(condition, args.runs)
    report(results, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
