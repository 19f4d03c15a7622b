"""Proof that the result is least privilege: the identity can write under the prefix, and no more.

Two kinds of evidence:

* **IAM's policy simulator** (``iam:SimulatePrincipalPolicy``) asked about the user or role for a
  list of actions that must be allowed and many that must be denied (outside the prefix, the
  bucket's own settings, ACLs, other services). It evaluates every policy attached, including
  ones the wizard did not write, so it catches a stray ``*`` granted elsewhere.
* **Live probes** with the new access key itself (keys mode): put, read, list and delete a probe
  object under the prefix, then try to write outside it and to list the whole bucket, which must
  be refused. A fresh key takes a few seconds to work everywhere, so the probes wait for it.

The sandbox (moto) has no simulator, but it enforces IAM on each request's Action and Resource
(wizard/sandbox.py turns that on), so there the live probes' refusals are proven too; a refusal
that rests on a condition (listing outside the prefix rests on ``s3:prefix``) is *unproven*,
saying why, and so is every refusal on a local AWS that checks nothing (found by a key it never
issued being accepted), never passed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlparse

from .aws import DENIED, NOT_YET_VALID, is_aws_error
from .config import AuthMode
from .context import RunContext
from .errors import error_code
from .policy import OBJECT_ACTIONS

Outcome = Literal["pass", "fail", "unproven"]
#: A probe expects its call "allowed" or "denied"; a fact about the setup (the bucket locked down,
#: one key, nothing granted beyond the policy) "holds".
Expectation = Literal["allowed", "denied", "holds"]
_DENIED_CODES = DENIED
_NOT_YET_CODES = NOT_YET_VALID


@dataclass(frozen=True, slots=True)
class VerifyCheck:
    name: str
    expectation: Expectation
    outcome: Outcome
    detail: str = ""

    def sentence(self) -> str:
        """The check as both views name it: a probe says what it should be, a fact is its name."""
        if self.expectation == "holds":
            return self.name
        return f"{self.name}: should be {self.expectation}"


@dataclass
class VerifyReport:
    checks: list[VerifyCheck] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No check failed (unproven ones are not failures, but are shown as such)."""
        return all(c.outcome != "fail" for c in self.checks)

    @property
    def proven(self) -> bool:
        return self.ok and all(c.outcome == "pass" for c in self.checks)

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "fail": 0, "unproven": 0}
        for c in self.checks:
            out[c.outcome] += 1
        return out

    def verdict(self) -> str:
        """One sentence for the whole report, the same in the TUI and the CLI."""
        if self.proven:
            return "Least privilege confirmed."
        if self.ok:
            return "Nothing failed, but some checks could not be proven here."
        return "Something is allowed that should not be, or the reverse."

    def tally(self) -> str:
        """``6 proven, 0 failed, 2 unproven``: a passed check is one that was proven."""
        n = self.counts()
        return f"{n['pass']} proven, {n['fail']} failed, {n['unproven']} unproven"


@dataclass(frozen=True, slots=True)
class _Case:
    name: str
    action: str
    resource: str
    expect: Expectation
    prefix_context: str | None = None


def is_local_endpoint(ctx: RunContext) -> bool:
    """True when AWS is the sandbox or another local stand-in (no IAM enforcement to rely on)."""
    host = urlparse(ctx.client("s3").meta.endpoint_url).hostname or ""
    return host in {"127.0.0.1", "localhost", "::1"} or host.startswith("127.")


#: What a local AWS answers a key it never issued, when it checks requests at all.
_UNKNOWN_KEY_CODES = frozenset({"InvalidAccessKeyId", "InvalidClientTokenId",
                                "SignatureDoesNotMatch", "AccessDenied", "AuthFailure"})


def enforces_iam(ctx: RunContext) -> bool:
    """Whether AWS here judges requests: real AWS always; a local one only if it refuses a call
    signed with a key nobody was given (moto with its checks off accepts any key)."""
    if not is_local_endpoint(ctx):
        return True
    import boto3

    from .aws import client_config

    stranger = boto3.Session(aws_access_key_id="AKIACIRCLECIS3WIZARD0",
                             aws_secret_access_key="circleci-s3-wizard-key-nobody-was-given",
                             region_name=ctx.region)
    s3 = stranger.client("s3", endpoint_url=ctx.client("s3").meta.endpoint_url,
                         config=client_config(attempts=1))
    try:
        s3.list_buckets()
    except Exception as exc:
        if error_code(exc) in _UNKNOWN_KEY_CODES:
            return True
        raise
    return False


def principal_arn(ctx: RunContext) -> str:
    c = ctx.config
    if c.auth is AuthMode.OIDC:
        from .steps.iam_reads import read_role

        role = read_role(ctx)
        return role["Arn"] if role else ctx.managed_arn("role", c.role_name)
    from .steps import iam_reads

    user = iam_reads.user(ctx, c.user)
    return user["Arn"] if user else ctx.managed_arn("user", c.user)


def invariant_checks(ctx: RunContext) -> list[VerifyCheck]:
    """What must hold besides the policy: the bucket locked down, and (keys mode) exactly one
    active access key, the one the keyring holds: an orphaned key fails verification."""
    from .steps.bucket_step import read_bucket

    checks: list[VerifyCheck] = []
    c = ctx.config
    bucket = read_bucket(ctx)
    if bucket.state == "missing":
        checks.append(VerifyCheck(
            f"the bucket {c.bucket} exists", "holds", "fail",
            "it does not exist: check --bucket, or run apply with "
            "--create-bucket to make it"))
    if bucket.state == "exists" and (bucket.managed or c.create_bucket):
        if not bucket.block_readable:
            checks.append(VerifyCheck(
                "Block Public Access on the bucket", "holds", "unproven",
                "your identity cannot read it (s3:GetBucketPublicAccessBlock)"))
        else:
            checks.append(VerifyCheck(
                "Block Public Access on the bucket", "holds",
                "pass" if bucket.blocked else "fail",
                "fully on" if bucket.blocked else "not fully on: run apply to turn it back on"))
    from .grants import effective

    held = effective(ctx)
    if held is not None:
        name = f"{held.identity} holds only policy {c.policy_name}"
        if held.clean:
            checks.append(VerifyCheck(name, "holds", "pass",
                                      "every group, attached and inline policy was read"
                                      + (f"; permission boundary {held.boundary} narrows it"
                                         if held.boundary else "")))
        else:
            checks.append(VerifyCheck(name, "holds", "fail", "; ".join(held.drift_lines())
                                      + ". Run apply to take it away where the wizard owns "
                                      "it."))
    if c.keys and ctx.secrets is not None:
        from .keys import read_keys
        from .steps.access_key_step import stored_key

        state = read_keys(ctx, stored_key(ctx))
        active = [k for k in state.keys if k.active]
        name = ("one active access key, held by your keyring" if not state.elsewhere else
                "each active access key held by the keyring its record names")
        if state.each_held and len(active) == 1 and not state.elsewhere:
            checks.append(VerifyCheck(name, "holds", "pass", f"{active[0].key_id}"))
        elif state.each_held:  # other machines hold keys of their own, as recorded
            checks.append(VerifyCheck(name, "holds", "pass",
                                      "; ".join(k.describe() for k in active)))
        else:
            found = "; ".join(k.describe() for k in state.keys) or "none"
            checks.append(VerifyCheck(
                name, "holds", "fail",
                f"found: {found}. Run apply (it deletes orphaned keys and makes one if needed)."))
    return checks


def simulation_cases(ctx: RunContext) -> list[_Case]:
    """Every question put to the simulator, with the answer least privilege requires."""
    c, p = ctx.config, ctx.partition
    bucket = f"arn:{p}:s3:::{c.bucket}"
    inside = f"{bucket}/{c.prefix}circleci-s3-wizard-probe"
    outside = f"{bucket}/outside-{c.prefix}probe"
    allowed = set(OBJECT_ACTIONS[c.access])
    cases = [
        _Case(f"list {c.prefix}", "s3:ListBucket", bucket, "allowed", c.prefix),
        _Case("list the whole bucket", "s3:ListBucket", bucket, "denied", ""),
    ]
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
        verb = action.split(":")[1]
        cases.append(_Case(f"{verb} under {c.prefix}", action, inside,
                           "allowed" if action in allowed else "denied"))
        cases.append(_Case(f"{verb} outside {c.prefix}", action, outside, "denied"))
    cases += [
        _Case("change object ACLs", "s3:PutObjectAcl", inside, "denied"),
        _Case("change the bucket policy", "s3:PutBucketPolicy", bucket, "denied"),
        _Case("turn off Block Public Access", "s3:PutBucketPublicAccessBlock", bucket, "denied"),
        _Case("delete the bucket", "s3:DeleteBucket", bucket, "denied"),
        _Case("list all buckets", "s3:ListAllMyBuckets", "*", "denied"),
        _Case("create IAM users", "iam:CreateUser", "*", "denied"),
        _Case("start EC2 instances", "ec2:RunInstances", "*", "denied"),
    ]
    return cases


def _simulate(ctx: RunContext, arn: str, cases: list[_Case]) -> list[VerifyCheck]:
    iam = ctx.client("iam")
    groups: dict[tuple[str, str | None], list[_Case]] = {}
    for case in cases:
        groups.setdefault((case.resource, case.prefix_context), []).append(case)
    results: list[VerifyCheck] = []
    for (resource, prefix), members in groups.items():
        params: dict[str, Any] = {
            "PolicySourceArn": arn,
            "ActionNames": [m.action for m in members],
            "ResourceArns": [resource],
        }
        if prefix is not None:
            params["ContextEntries"] = [{"ContextKeyName": "s3:prefix",
                                         "ContextKeyValues": [prefix],
                                         "ContextKeyType": "string"}]
        answer = iam.simulate_principal_policy(**params)
        decisions = {r["EvalActionName"]: r["EvalDecision"] for r in answer["EvaluationResults"]}
        for m in members:
            decision = decisions.get(m.action, "missing")
            got = "allowed" if decision == "allowed" else "denied"
            results.append(VerifyCheck(
                f"{m.name} (simulator)", m.expect, "pass" if got == m.expect else "fail",
                f"IAM's simulator says {decision} for {m.action} on {resource}",
            ))
    return results


def _probe_session(ctx: RunContext, key: Any) -> Any:
    import boto3

    return boto3.Session(aws_access_key_id=key.access_key_id,
                         aws_secret_access_key=key.secret_access_key, region_name=ctx.region)


def _attempt(call: Any, *, wait_seconds: float) -> tuple[bool, str]:
    """Run ``call``; (True, '') if allowed, (False, code) if refused. Waits for a new key."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            call()
            return True, ""
        except Exception as exc:
            code = error_code(exc) or type(exc).__name__
            if code in _NOT_YET_CODES and time.monotonic() < deadline:
                time.sleep(1.0)
                continue
            if code in _DENIED_CODES:
                return False, code
            raise


#: Why a local AWS that enforces IAM may still allow what real AWS refuses.
_MOTO_SKIPS_CONDITIONS = ("moto, the sandbox's AWS, does not evaluate policy conditions, so it "
                          "allowed this; real AWS refuses it under this policy (the {} condition)")


def _live_probes(ctx: RunContext, key: Any, local: bool, enforced: bool,
                 wait_seconds: float) -> list[VerifyCheck]:
    c = ctx.config
    s3 = _probe_session(ctx, key).client("s3", region_name=ctx.region)
    token = uuid.uuid4().hex[:12]
    inside = f"{c.prefix}circleci-s3-wizard-probe-{token}.txt"
    outside = f"circleci-s3-wizard-probe-outside-{token}.txt"
    can_put = "s3:PutObject" in OBJECT_ACTIONS[c.access]
    can_get = "s3:GetObject" in OBJECT_ACTIONS[c.access]
    can_delete = "s3:DeleteObject" in OBJECT_ACTIONS[c.access]
    checks: list[VerifyCheck] = []

    def record(name: str, expect: Expectation, allowed: bool, code: str,
               condition: str | None = None) -> None:
        got = "allowed" if allowed else "denied"
        if got == expect:
            outcome: Outcome = "pass"
            detail = f"{got} as expected" + (f" ({code})" if code else "")
        elif expect == "denied" and local and not enforced:
            outcome = "unproven"
            detail = ("this local AWS does not enforce IAM, so it allowed this; real AWS "
                      "refuses it under this policy")
        elif expect == "denied" and local and condition:
            outcome, detail = "unproven", _MOTO_SKIPS_CONDITIONS.format(condition)
        else:
            outcome, detail = "fail", f"expected {expect} but it was {got}" + (
                f" ({code})" if code else "")
        checks.append(VerifyCheck(f"{name} (with the new key)", expect, outcome, detail))

    ok, code = _attempt(lambda: s3.put_object(Bucket=c.bucket, Key=inside, Body=b"probe"),
                        wait_seconds=wait_seconds)
    record(f"upload to {c.prefix}", "allowed" if can_put else "denied", ok, code)
    if ok and can_get:
        got, code = _attempt(lambda: s3.get_object(Bucket=c.bucket, Key=inside)["Body"].read(),
                             wait_seconds=0)
        record(f"download from {c.prefix}", "allowed", got, code)
    listed, code = _attempt(lambda: s3.list_objects_v2(Bucket=c.bucket, Prefix=c.prefix),
                            wait_seconds=wait_seconds)
    record(f"list {c.prefix}", "allowed", listed, code)
    if ok:
        gone, code = _attempt(lambda: s3.delete_object(Bucket=c.bucket, Key=inside),
                              wait_seconds=0)
        record(f"delete in {c.prefix}", "allowed" if can_delete else "denied", gone, code)
        if not gone:  # upload-only: the operator's own identity tidies the probe away
            ctx.client("s3").delete_object(Bucket=c.bucket, Key=inside)
    wrote, code = _attempt(lambda: s3.put_object(Bucket=c.bucket, Key=outside, Body=b"probe"),
                           wait_seconds=0)
    record("upload outside the prefix", "denied", wrote, code)
    if wrote:  # never leave the probe behind, whoever can delete it
        ctx.client("s3").delete_object(Bucket=c.bucket, Key=outside)
    listed_all, code = _attempt(lambda: s3.list_objects_v2(Bucket=c.bucket), wait_seconds=0)
    # Only the s3:prefix condition keeps the key from listing the whole bucket.
    record("list the whole bucket", "denied", listed_all, code, condition="s3:prefix")
    return checks


def verify(ctx: RunContext, *, wait_seconds: float = 20.0) -> VerifyReport:
    """Run every check the setup allows and say what was proven."""
    report = VerifyReport()
    local = is_local_endpoint(ctx)
    enforced = enforces_iam(ctx)
    arn = principal_arn(ctx)
    cases = simulation_cases(ctx)
    report.checks += invariant_checks(ctx)
    try:
        report.checks += _simulate(ctx, arn, cases)
    except Exception as exc:
        if not is_aws_error(exc):
            raise  # a bug in the wizard must not pass for "unproven"
        code = error_code(exc) or type(exc).__name__
        reason = ("the sandbox has no IAM policy simulator" if local else
                  f"the simulator could not be used ({code}); grant iam:SimulatePrincipalPolicy "
                  "to get this proof")
        report.notes.append(f"Policy simulation skipped: {reason}.")
        report.checks += [VerifyCheck(f"{c.name} (simulator)", c.expect, "unproven", reason)
                          for c in cases]
    from .steps.bucket_step import read_bucket

    if read_bucket(ctx).state == "missing":
        report.notes.append(f"No live probe was made: the bucket {ctx.config.bucket} does not "
                            "exist, so there is nothing to write to.")
    elif ctx.config.auth is AuthMode.KEYS:
        key = ctx.secrets.load_access_key(ctx.config.user) if ctx.secrets else None
        if key is None:
            report.notes.append("No access key in the keyring, so no live probe was made.")
        else:
            report.checks += _live_probes(ctx, key, local, enforced, wait_seconds)
    else:
        report.notes.append("OIDC: a live probe needs a CircleCI job's token; run the pipeline "
                            "once and watch the upload step.")
    if local and enforced:
        report.notes.append("Sandbox: moto enforces IAM on each request's action and resource, "
                            "so the new key's refusals were tried for real; it evaluates no "
                            "conditions or permission boundaries, so a refusal that rests on "
                            "one stays unproven here.")
    elif local:
        report.notes.append("Local AWS: it does not enforce IAM (it accepted a key it never "
                            "issued), so the refusals cannot be proven here; against real AWS "
                            "they are checked for real.")
    return report

