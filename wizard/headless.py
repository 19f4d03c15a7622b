"""The headless commands (plan, apply, destroy, verify, rotate): the engine with text or JSON out.

Same steps as the TUI, printed instead of shown. Progress goes to stderr and the result to
stdout, so ``--json`` output can be piped straight into ``jq``.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any, TextIO

from wizard.cli import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    BadInput,
    config_from_args,
    config_warnings,
)
from wizard.config import AuthMode, SetupConfig
from wizard.context import RunContext, make_session
from wizard.engine import Done, Engine, NeedsConfirmation, Planned, PlanRefused
from wizard.errors import WizardError
from wizard.policy import build_policy, summarise
from wizard.steps.base import Action


def open_context(config: SetupConfig, *, sandbox: bool, stack: ExitStack) -> RunContext:
    """The RunContext for a headless run: real AWS, or the embedded sandbox."""
    from wizard.secret_store import SecretStore

    if sandbox:
        from wizard.sandbox import Sandbox

        box = stack.enter_context(Sandbox(region=config.region or "us-east-1"))
        box.activate()
        print(box.banner, file=sys.stderr)
        session = box.session()
        secrets = SecretStore(service=SANDBOX_SERVICE)
    else:
        session = make_session(config.profile, config.region)
        secrets = SecretStore()
    circleci = None
    if config.circleci_project:
        from wizard.circleci.client import CircleCIClient

        circleci = CircleCIClient.from_environment(secrets)
    return RunContext(config, session, secrets=secrets, circleci=circleci)


#: Keys made in the sandbox are fake; they live under their own keyring service so they can never
#: overwrite a real key of the same user name.
SANDBOX_SERVICE = "circleci-s3-wizard-sandbox"

_MARK = {
    Action.CREATE: "+", Action.EXISTS: "=", Action.UPDATE: "~", Action.CONFLICT: "!",
    Action.SKIP: "-", Action.DELETE: "x", Action.KEEP: "=", Action.ABSENT: "-",
    Action.BLOCKED: "!",
}


def _who(ctx: RunContext) -> dict[str, str]:
    ident = ctx.identity
    return {"account": ident.account, "arn": ident.arn, "partition": ident.partition,
            "region": ctx.region}


def _plan_json(ctx: RunContext, plan: list[Planned], kind: str) -> dict[str, Any]:
    c = ctx.config
    data: dict[str, Any] = {
        "ok": not any(p.check.action in (Action.CONFLICT, Action.BLOCKED) for p in plan),
        "kind": kind,
        "identity": _who(ctx),
        "steps": [{"key": p.step.key, "title": p.step.title, "action": p.check.action.value,
                   "detail": p.check.detail, "calls": list(p.check.calls),
                   "difference": p.check.difference} for p in plan],
        "warnings": config_warnings(c),
    }
    if kind == "plan":
        data["policy"] = build_policy(c.bucket, c.prefix, c.access, ctx.partition)
        data["policy_summary"] = summarise(c.bucket, c.prefix, c.access)
    return data


def _print_plan(ctx: RunContext, plan: list[Planned], title: str, out: TextIO) -> None:
    c = ctx.config
    ident = ctx.identity
    print(f"{title} for s3://{c.bucket}/{c.prefix} ({c.auth.value} mode)", file=out)
    print(f"  as {ident.arn} in {ctx.region} ({ident.partition})", file=out)
    for warning in config_warnings(c):
        print(f"  warning: {warning}", file=out)
    print(file=out)
    width = max(len(p.step.title) for p in plan)
    for p in plan:
        a = p.check.action
        print(f"  {_MARK[a]} {a.value:<8} {p.step.title:<{width}}  {p.check.detail}", file=out)


def _print_policy(ctx: RunContext, out: TextIO) -> None:
    from wizard.policy import policy_json

    c = ctx.config
    print("\nThe policy, in words:", file=out)
    for line in summarise(c.bucket, c.prefix, c.access):
        print(f"  - {line}", file=out)
    print("\nThe policy document:", file=out)
    print(policy_json(build_policy(c.bucket, c.prefix, c.access, ctx.partition)), file=out)


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise BadInput("this would change AWS and there is no terminal to ask: pass --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _progress(json_mode: bool):
    def report(step, state: str) -> None:
        if not json_mode and state == "running":
            print(f"  ... {step.title}", file=sys.stderr)
    return report


def _results_json(ctx: RunContext, done: list[Done], kind: str) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for d in done:
        outputs.update({k: v for k, v in d.result.outputs.items() if v is not None})
    return {"ok": True, "kind": kind, "identity": _who(ctx),
            "steps": [{"key": d.step.key, "title": d.step.title, "action": d.result.action.value,
                       "detail": d.result.detail} for d in done],
            "outputs": outputs}


def _print_results(done: list[Done], out: TextIO) -> None:
    for d in done:
        print(f"  {_MARK[d.result.action]} {d.result.action.value:<8} {d.result.detail}", file=out)


def run_command(args: argparse.Namespace, out: TextIO) -> int:
    config = config_from_args(args)
    if not config.bucket:
        raise BadInput("--bucket: is required (the S3 bucket for the builds)")
    json_mode = bool(args.json)
    with ExitStack() as stack:
        try:
            ctx = open_context(config, sandbox=bool(getattr(args, "sandbox", False)), stack=stack)
            return _COMMANDS[args.command](ctx, args, out, json_mode)
        except (PlanRefused, NeedsConfirmation) as refused:
            if json_mode:
                data = _plan_json(ctx, refused.plan, args.command)
                data.update(ok=False, error=str(refused))
                print(json.dumps(data, indent=2), file=out)
            else:
                _print_plan(ctx, refused.plan, "Plan", sys.stderr)
                print(f"\ncircleci-s3-wizard: {refused}", file=sys.stderr)
            return EXIT_FAILED
        except WizardError as failed:
            if json_mode:
                print(json.dumps({"ok": False, "error": str(failed), "code": failed.code}),
                      file=out)
            else:
                print(f"circleci-s3-wizard: error: {failed}", file=sys.stderr)
            return EXIT_FAILED


def _plan(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool) -> int:
    plan = Engine(ctx).plan()
    if json_mode:
        print(json.dumps(_plan_json(ctx, plan, "plan"), indent=2), file=out)
    else:
        _print_plan(ctx, plan, "Plan", out)
        _print_policy(ctx, out)
    blocked = any(p.check.action in (Action.CONFLICT, Action.BLOCKED) for p in plan)
    return EXIT_FAILED if blocked else EXIT_OK


def _apply(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool) -> int:
    engine = Engine(ctx)
    plan = engine.plan()
    changes = [p for p in plan if p.check.action in (Action.CREATE, Action.UPDATE)]
    confirmed = bool(args.yes)
    if not args.yes and changes and not any(
        p.check.action in (Action.CONFLICT, Action.BLOCKED) for p in plan
    ):
        _print_plan(ctx, plan, "Plan", sys.stderr)
        if not _confirm("\nApply these changes?"):
            print("Nothing was changed.", file=sys.stderr)
            return EXIT_FAILED
        confirmed = True
    done = engine.apply(allow_update=confirmed, plan=plan,
                        progress=_progress(json_mode))
    if json_mode:
        print(json.dumps(_results_json(ctx, done, "apply"), indent=2), file=out)
    else:
        print(f"Applied s3://{ctx.config.bucket}/{ctx.config.prefix}:", file=out)
        _print_results(done, out)
        _next_steps(ctx, done, out)
    return EXIT_OK


def _next_steps(ctx: RunContext, done: list[Done], out: TextIO) -> None:
    c = ctx.config
    by_key = {d.step.key: d.result for d in done}
    circleci = by_key.get("circleci")
    delivered = circleci is not None and circleci.action in (
        Action.CREATE, Action.EXISTS, Action.UPDATE)
    print("\nNext:", file=out)
    if c.circleci_project and not delivered:
        from wizard.circleci.delivery_step import manual_instructions

        key_id = by_key["access_key"].outputs.get("access_key_id") if "access_key" in by_key \
            else None
        role = by_key.get("oidc_role")
        role_arn = role.outputs.get("role_arn") if role else None
        print("  - deliver the credentials to CircleCI by hand (or set CIRCLE_TOKEN and run "
              "apply again):", file=out)
        for line in manual_instructions(c, key_id, region=ctx.region,
                                        role_arn=role_arn).splitlines():
            print(f"      {line}", file=out)
    if c.auth is AuthMode.KEYS:
        print(f"  - the secret is in your OS keyring: the wizard copies it once to the "
              f"clipboard, and `circleci-s3-wizard credential-process --user {c.user}` gives "
              "it to the AWS CLI without a credentials file.", file=out)
    print("  - `circleci-s3-wizard verify` proves the access is limited to the prefix.", file=out)


def _destroy(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool) -> int:
    engine = Engine(ctx)
    plan = engine.plan_destroy()
    if not args.yes and any(p.check.action is Action.DELETE for p in plan):
        _print_plan(ctx, plan, "Removal plan", sys.stderr)
        if not _confirm("\nRemove these?"):
            print("Nothing was removed.", file=sys.stderr)
            return EXIT_FAILED
    done = engine.destroy(progress=_progress(json_mode))
    if json_mode:
        print(json.dumps(_results_json(ctx, done, "destroy"), indent=2), file=out)
    else:
        print("Removed what the wizard made (the bucket and its objects are kept):", file=out)
        _print_results(done, out)
    return EXIT_OK


def _verify(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool) -> int:
    from wizard.verify import verify

    report = verify(ctx)
    if json_mode:
        print(json.dumps({"ok": report.ok, "proven": report.proven, "counts": report.counts(),
                          "checks": [{"name": c.name, "expectation": c.expectation,
                                      "outcome": c.outcome, "detail": c.detail}
                                     for c in report.checks],
                          "notes": report.notes}, indent=2), file=out)
    else:
        for c in report.checks:
            print(f"  {c.outcome:<9} {c.name}: expected {c.expectation}; {c.detail}", file=out)
        for note in report.notes:
            print(f"  note: {note}", file=out)
        counts = report.counts()
        print(f"\n{counts['pass']} proven, {counts['fail']} failed, {counts['unproven']} unproven",
              file=out)
    return EXIT_OK if report.ok else EXIT_FAILED


def _rotate(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool) -> int:
    from wizard.steps.access_key_step import AccessKeyStep

    if ctx.config.auth is AuthMode.OIDC:
        raise BadInput("--auth: oidc has no access key to rotate")
    if not args.yes:
        _confirm(f"Replace the access key of {ctx.config.user}?") or sys.exit(EXIT_FAILED)
    delivered: list[str] = []

    def deliver() -> None:
        if ctx.config.circleci_project and ctx.circleci is not None:
            from wizard.circleci.delivery_step import CircleCIDeliveryStep

            delivered.append(CircleCIDeliveryStep().apply(ctx, allow_update=True).detail)

    new_id, old_id = AccessKeyStep().rotate(ctx, deliver)
    if json_mode:
        print(json.dumps({"ok": True, "kind": "rotate", "access_key_id": new_id,
                          "deleted_access_key_id": old_id,
                          "circleci": delivered[0] if delivered else None}), file=out)
    else:
        print(f"New access key {new_id} is in your keyring.", file=out)
        if delivered:
            print(f"CircleCI: {delivered[0]}", file=out)
        print(f"Old key {old_id} deleted." if old_id else "There was no old key to delete.",
              file=out)
    return EXIT_OK


_COMMANDS = {"plan": _plan, "apply": _apply, "destroy": _destroy, "verify": _verify,
             "rotate": _rotate}

__all__ = ["EXIT_BAD_INPUT", "run_command"]
