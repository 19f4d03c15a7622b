"""Benchmark: headless ``apply`` of the whole setup vs. the same steps as an AWS CLI script.

Both run against one local moto server (started here, behind a request counter), in the same
run, with a new bucket each time. Ours is the installed ``circleci-s3-wizard apply --yes --json
--create-bucket`` storing the secret in a real GNOME Keyring on a private D-Bus session; the
script is one ``aws`` process per step, as the tutorial would be automated by hand.

    uv run --group bench python tests/benchmarks/bench_apply.py [--runs N]

Target: ours at least 4x faster. Not a pytest test (no ``test_`` names).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _support import (  # noqa: E402
    clean_env,
    counting_moto_server,
    mutating,
    private_keyring,
    reads,
    reset_moto,
    summary,
    timed,
    venv_tool,
)

from wizard.config import DEFAULT_GROUP, DEFAULT_POLICY_NAME, DEFAULT_USER, IAM_PATH  # noqa: E402
from wizard.policy import build_policy, policy_json  # noqa: E402

TARGET = 4.0

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


def run_ours(endpoint: str, bucket: str, home: Path, bus: str) -> tuple[float, dict]:
    env = clean_env(home, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="us-east-1",
                    DBUS_SESSION_BUS_ADDRESS=bus)
    argv = [venv_tool("circleci-s3-wizard"), "apply", "--yes", "--json", "--create-bucket",
            "--bucket", bucket]
    elapsed, out = timed(argv, env)
    answer = json.loads(out)
    created = [s["key"] for s in answer["steps"] if s["action"] == "create"]
    if not answer["ok"] or len(created) != 7:
        raise SystemExit(f"apply did not create the whole setup: {answer['steps']}")
    return elapsed, answer


def run_script(endpoint: str, bucket: str, home: Path, work: Path) -> float:
    policy_file = work / "policy.json"
    policy_file.write_text(policy_json(build_policy(bucket, "builds/")))
    script = work / "tutorial.sh"
    script.write_text(AWS_CLI_SCRIPT.format(group=DEFAULT_GROUP, policy=DEFAULT_POLICY_NAME,
                                            user=DEFAULT_USER, path=IAM_PATH))
    env = clean_env(home, AWS=venv_tool("aws"), ENDPOINT=endpoint, BUCKET=bucket,
                    POLICY_FILE=str(policy_file), AWS_ACCESS_KEY_ID="testing",
                    AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    elapsed, _ = timed(["bash", str(script)], env)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of each (median reported)")
    args = parser.parse_args(argv)

    from wizard.secret_store import SERVICE

    ours: list[float] = []
    script: list[float] = []
    ours_calls: list = []
    script_calls: list = []
    with (counting_moto_server() as (endpoint, log), private_keyring() as keyring,
          tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp):
        work = Path(tmp)
        # One unmeasured round each, so disk caches are warm for both alike.
        run_ours(endpoint, "bench-warm-ours", work / "home-ours", keyring.address)
        reset_moto(endpoint)
        run_script(endpoint, "bench-warm-script", work / "home-script", work)
        for i in range(args.runs):
            reset_moto(endpoint)
            keyring.delete_items(SERVICE)
            log.clear()
            elapsed, _ = run_ours(endpoint, f"bench-ours-{i}", work / "home-ours",
                                  keyring.address)
            ours.append(elapsed)
            ours_calls = log.snapshot()

            reset_moto(endpoint)
            log.clear()
            script.append(run_script(endpoint, f"bench-script-{i}", work / "home-script", work))
            script_calls = log.snapshot()
        keyring.delete_items(SERVICE)

    ratio = statistics.median(script) / statistics.median(ours)
    ours_writes, script_writes = mutating(ours_calls), mutating(script_calls)
    print(f"\nHeadless apply vs. AWS CLI script, local moto server, {args.runs} runs each "
          "(median)\n")
    print(f"{'':34} {'wall time':>28} {'AWS requests':>13} {'mutating':>9}")
    print(f"{'circleci-s3-wizard apply':34} {summary(ours):>28} {len(ours_calls):>13} "
          f"{sum(ours_writes.values()):>9}")
    print(f"{'AWS CLI script (1 aws per step)':34} {summary(script):>28} "
          f"{len(script_calls):>13} {sum(script_writes.values()):>9}")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"\nratio: {ratio:.1f}x faster ({verdict} the {TARGET:.0f}x target)")
    print("\nmutating calls made by circleci-s3-wizard apply:")
    for name, count in sorted(ours_writes.items()):
        print(f"  {count} x {name}")
    print("read-only calls made by circleci-s3-wizard apply (the plan, then each step's check):")
    for name, count in sorted(reads(ours_calls).items()):
        print(f"  {count} x {name}")
    extra = set(ours_writes) ^ set(script_writes)
    if extra:
        print(f"\ndiffering mutating calls between the two: {sorted(extra)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
