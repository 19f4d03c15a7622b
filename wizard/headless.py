"""The headless commands (plan, apply, destroy, verify, rotate): the engine's results as text/JSON.

The same plans and results the TUI shows, printed instead. Progress goes to stderr and the result
to stdout, so ``--json`` output can be piped straight into ``jq``. Nothing is decided here: what
to do next, whether a key is an orphan, whether the plan can be applied all come from the engine.

A secret the keyring could not keep (:class:`~wizard.model.SecretHandoff`) is printed once, to
the terminal's stderr (or in ``--json``'s ``secret_handoff``), with what to do with it, and the
command exits 1: it is never dropped silently.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from typing import Any, TextIO

from .answers import build_from_options
from .connect import open_run
from .context import RunContext
from .engine import Engine, NeedsConsent, PlanRefused
from .errors import EXIT_FAILED, EXIT_OK, BadInput, WizardError
from .model import Action, Plan, Report, SecretHandoff, StepResult
from .policy import build_policy, policy_json, summarise


def _err(text: str = "") -> None:
    print(text, file=sys.stderr)


def _who(ctx: RunContext) -> dict[str, str]:
    ident = ctx.identity
    return {"account": ident.account, "arn": ident.arn, "partition": ident.partition,
            "region": ctx.region}


def plan_json(ctx: RunContext, plan: Plan) -> dict[str, Any]:
    c = ctx.config
    data: dict[str, Any] = {
        "ok": plan.ok,
        "kind": "plan" if plan.kind == "setup" else "destroy-plan",
        "identity": _who(ctx),
        "steps": [{"key": s.key, "title": s.title, "action": s.action.value,
                   "detail": s.detail, "calls": list(s.calls),
                   "differences": list(s.differences), "warnings": list(s.warnings)}
                  for s in plan.steps],
        "warnings": list(plan.warnings),
    }
    if plan.kind == "setup":
        data["policy"] = build_policy(c.bucket, c.prefix, c.access, ctx.partition)
        data["policy_summary"] = summarise(c.bucket, c.prefix, c.access, plan.least_privilege)
        data["least_privilege"] = plan.least_privilege
    return data


def print_plan(ctx: RunContext, plan: Plan, out: TextIO) -> None:
    c = ctx.config
    title = "Plan" if plan.kind == "setup" else "Removal plan"
    print(f"{title} for s3://{c.bucket}/{c.prefix} ({c.auth.value} mode)", file=out)
    print(f"  as {plan.identity.arn} in {plan.region} ({plan.identity.partition})", file=out)
    for warning in plan.warnings:
        print(f"  warning: {warning}", file=out)
    print(file=out)
    width = max(len(s.title) for s in plan.steps)
    for s in plan.steps:
        print(f"  {s.action.mark} {s.action.value:<8} {s.title:<{width}}  {s.detail}", file=out)
        for difference in s.differences:
            print(f"      {difference}", file=out)
        for warning in s.warnings:
            print(f"      warning: {warning}", file=out)


def _print_policy(ctx: RunContext, plan: Plan, out: TextIO) -> None:
    c = ctx.config
    print("\nThe policy, in words:", file=out)
    for line in summarise(c.bucket, c.prefix, c.access, plan.least_privilege):
        print(f"  - {line}", file=out)
    print("\nThe policy document:", file=out)
    print(policy_json(build_policy(c.bucket, c.prefix, c.access, ctx.partition)), file=out)


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        raise BadInput("--yes: this would change AWS and there is no terminal to ask: pass --yes")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in {"y", "yes"}


def _progress(json_mode: bool) -> Any:
    def report(result: StepResult) -> None:
        if not json_mode:
            _err(f"  {result.action.mark} {result.title}")
    return report


def _line(result: StepResult) -> str:
    return f"  {result.action.mark} {result.action.value:<8} {result.detail}"


def report_json(ctx: RunContext, report: Report, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "ok": report.ok, "kind": kind, "identity": _who(ctx),
        "steps": [{"key": r.key, "title": r.title, "action": r.action.value,
                   "detail": r.detail} for r in report.results],
        "outputs": report.outputs,
        "next_steps": [{"text": n.text, "lines": list(n.lines)} for n in report.next_steps],
    }
    if report.handoff is not None:
        data["secret_handoff"] = _handoff_json(report.handoff)
    return data


def _handoff_json(handoff: SecretHandoff) -> dict[str, str]:
    return {"user": handoff.user, "access_key_id": handoff.access_key_id,
            "secret_access_key": handoff.secret_access_key, "reason": handoff.reason,
            "instruction": handoff.instruction}


def _print_handoff(handoff: SecretHandoff) -> None:
    """The one time this secret is shown: on the terminal (stderr), never in stdout's pipe."""
    _err("\n" + "=" * 72)
    _err(f"The keyring could not keep the new secret ({handoff.reason}),")
    _err(f"and access key {handoff.access_key_id} could not be deleted again.")
    _err("This is the only time the secret is shown:")
    _err(f"\n  AWS_ACCESS_KEY_ID      {handoff.access_key_id}")
    _err(f"  AWS_SECRET_ACCESS_KEY  {handoff.secret_access_key}\n")
    _err(handoff.instruction)
    _err("=" * 72)


def print_report(report: Report, heading: str, out: TextIO) -> None:
    print(heading, file=out)
    for result in report.results:
        print(_line(result), file=out)
    for note in report.notes:
        print(f"  note: {note}", file=out)
    if report.next_steps:
        print("\nNext:", file=out)
        for step in report.next_steps:
            print(f"  - {step.text}", file=out)
            for line in step.lines:
                print(f"      {line}", file=out)


def _stop_on_signals() -> None:
    """SIGTERM and SIGHUP (a CI job cancelled, an SSH session dropped) end a headless command
    the way ctrl+c does: a rotation then rolls back instead of dying half-way."""
    import signal

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)


def run_command(args: argparse.Namespace, out: TextIO) -> int:
    _stop_on_signals()
    # Rotation replaces the user's key and needs no bucket (the hand-over's instruction names
    # only the user).
    built = build_from_options(vars(args), bucket_required=args.command != "rotate")
    json_mode = bool(args.json)
    with ExitStack() as stack:
        opened = open_run(built.config, sandbox=bool(getattr(args, "sandbox", False)),
                          stack=stack)
        ctx = opened.ctx
        if opened.sandbox is not None:
            _err(opened.sandbox.banner())
        ctx.propagation.on_wait = _err  # "Waiting for AWS to show the new user …"
        stack.callback(_say_waits, ctx)
        try:
            return _COMMANDS[args.command](ctx, args, out, json_mode, built.warning_lines())
        except (PlanRefused, NeedsConsent) as refused:
            if json_mode:
                data = plan_json(ctx, refused.plan)
                data.update(ok=False, error=str(refused))
                print(json.dumps(data, indent=2), file=out)
            else:
                print_plan(ctx, refused.plan, sys.stderr)
                _err(f"\ncircleci-s3-wizard: {refused}")
            return EXIT_FAILED
        except BadInput:
            raise
        except WizardError as failed:
            if json_mode:
                print(json.dumps({"ok": False, "error": str(failed), "code": failed.code}),
                      file=out)
            else:
                _err(f"circleci-s3-wizard: error: {failed}")
            return EXIT_FAILED


def _say_waits(ctx: RunContext) -> None:
    """What met AWS's propagation delay, and how long it waited (on stderr, after the run)."""
    for wait in ctx.propagation.waits:
        _err(f"  {wait.sentence()}")


def _plan(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool,
          warnings: list[str]) -> int:
    plan = Engine(ctx).plan(warnings=tuple(warnings))
    if json_mode:
        print(json.dumps(plan_json(ctx, plan), indent=2), file=out)
    else:
        print_plan(ctx, plan, out)
        _print_policy(ctx, plan, out)
    return EXIT_OK if plan.ok else EXIT_FAILED


def _finish(ctx: RunContext, report: Report, kind: str, heading: str, out: TextIO,
            json_mode: bool) -> int:
    if json_mode:
        print(json.dumps(report_json(ctx, report, kind), indent=2), file=out)
    else:
        print_report(report, heading, out)
    if report.handoff is not None and not json_mode:
        _print_handoff(report.handoff)
    if not report.ok:
        failure = report.failure
        if failure is not None and not json_mode:
            _err(f"\ncircleci-s3-wizard: {failure.title} failed: {failure.detail}")
        return EXIT_FAILED
    return EXIT_OK


def _apply(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool,
           warnings: list[str]) -> int:
    engine = Engine(ctx)
    with engine.lock(command="apply", on_wait=_err):
        plan = engine.plan(warnings=tuple(warnings))
        consent = bool(args.yes)
        if plan.ok and plan.changes and not consent:
            print_plan(ctx, plan, sys.stderr)
            if not _confirm("\nApply these changes?"):
                _err("Nothing was changed.")
                return EXIT_FAILED
            consent = True
        report = engine.apply(plan, consent=consent, progress=_progress(json_mode))
    c = ctx.config
    return _finish(ctx, report, "apply", f"Applied s3://{c.bucket}/{c.prefix}:", out, json_mode)


def _destroy(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool,
             warnings: list[str]) -> int:
    engine = Engine(ctx)
    with engine.lock(command="destroy", on_wait=_err):
        plan = engine.plan_destroy()
        if not args.yes and any(s.action is Action.DELETE for s in plan.steps):
            print_plan(ctx, plan, sys.stderr)
            if not _confirm("\nRemove these?"):
                _err("Nothing was removed.")
                return EXIT_FAILED
        report = engine.destroy(plan, progress=_progress(json_mode))
    return _finish(ctx, report, "destroy", "Removed what the wizard made (the bucket and its "
                   "objects are kept):", out, json_mode)


def _verify(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool,
            warnings: list[str]) -> int:
    from .verify import verify

    report = verify(ctx)
    if json_mode:
        print(json.dumps({"ok": report.ok, "proven": report.proven, "counts": report.counts(),
                          "checks": [{"name": c.name, "expectation": c.expectation,
                                      "outcome": c.outcome, "detail": c.detail}
                                     for c in report.checks],
                          "notes": report.notes}, indent=2), file=out)
    else:
        for c in report.checks:
            print(f"  {c.outcome:<9} {c.sentence()}; {c.detail}", file=out)
        for note in report.notes:
            print(f"  note: {note}", file=out)
        print(f"\n{report.verdict()} {report.tally()}", file=out)
    return EXIT_OK if report.ok else EXIT_FAILED


def _rotate(ctx: RunContext, args: argparse.Namespace, out: TextIO, json_mode: bool,
            warnings: list[str]) -> int:
    from .rotate import Rotation

    if ctx.config.oidc:
        raise BadInput("--auth: oidc has no access key to rotate")
    engine = Engine(ctx)
    with engine.lock(command="rotate", on_wait=_err):
        rotation = Rotation(ctx)
        preflight = rotation.check()
        if not args.yes:
            _err(preflight.summary)
            if not _confirm(f"Replace the access key of {ctx.config.user}?"):
                _err("Nothing was changed.")
                return EXIT_FAILED
        outcome = rotation.run(preflight, progress=None if json_mode else _err)
    if json_mode:
        data: dict[str, Any] = {"ok": outcome.ok, "kind": "rotate",
                                "access_key_id": outcome.active_key_id,
                                "new_access_key_id": outcome.new_key_id,
                                "deleted_access_key_id": outcome.deleted_key_id,
                                "circleci": outcome.circleci, "steps": list(outcome.steps)}
        if not outcome.ok:
            data["error"] = outcome.error
        if outcome.handoff is not None:
            data["secret_handoff"] = _handoff_json(outcome.handoff)
        print(json.dumps(data, indent=2), file=out)
    elif outcome.ok:
        where = " and CircleCI" if outcome.circleci else ""
        retired = (f"; the old key {outcome.deleted_key_id} is deleted" if outcome.deleted_key_id
                   else "")
        print(f"Rotated: access key {outcome.active_key_id} is the active key, held by your "
              f"keyring{where}{retired}.", file=out)
    if outcome.handoff is not None and not json_mode:
        _print_handoff(outcome.handoff)
    if not outcome.ok:
        if not json_mode:
            _err(f"\ncircleci-s3-wizard: rotation failed: {outcome.error}")
        return EXIT_FAILED
    return EXIT_OK


_COMMANDS = {"plan": _plan, "apply": _apply, "destroy": _destroy, "verify": _verify,
             "rotate": _rotate}
