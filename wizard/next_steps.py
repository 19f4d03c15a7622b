"""What is left for the operator after a run, decided once for both views.

The headless ``apply`` prints these and the TUI's Done page lists them: the same sentences, from
the same report. Nothing here promises what the view cannot give: the CLI prints the values to
paste and the config file itself rather than pointing at a screen it does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wizard.model import Action, NextStep, Report

if TYPE_CHECKING:
    from wizard.context import RunContext

DELIVERED = (Action.CREATE, Action.UPDATE, Action.EXISTS, Action.REPAIR)


def delivered(report: Report) -> bool:
    """Did CircleCI get its values through the API in this run (or have them already)?"""
    result = report.result("circleci")
    return result is not None and result.action in DELIVERED


def by_hand(ctx: RunContext, report: Report) -> NextStep | None:
    """Where to paste each value, when the wizard could not deliver them itself."""
    from wizard.circleci.client import DEFAULT_HOST, HOST_ENV
    from wizard.circleci.delivery_step import manual_instructions

    if delivered(report) or not report.ok:
        return None
    import os

    outputs = report.outputs
    text = manual_instructions(ctx.config, outputs.get("access_key_id"), region=ctx.region,
                               role_arn=outputs.get("role_arn"),
                               host=os.environ.get(HOST_ENV) or DEFAULT_HOST)
    why = ("no CircleCI project was given" if not ctx.config.circleci_project
           else "no CircleCI token was available")
    return NextStep(f"Give CircleCI its values by hand ({why}; or set CIRCLE_TOKEN and run apply "
                    "again):", tuple(text.splitlines()))


def next_steps(ctx: RunContext, report: Report) -> tuple[NextStep, ...]:
    from wizard.sandbox import PER_PROCESS

    c = ctx.config
    steps: list[NextStep] = []
    if ctx.sandbox:
        lasts = ("it lasted for this command only, so nothing of it exists any more"
                 if ctx.sandbox == PER_PROCESS else "it lasts while `circleci-s3-wizard sandbox` "
                 "runs")
        steps.append(NextStep(f"This was the sandbox: nothing exists in AWS, and {lasts}. Run "
                              "without --sandbox to do it for real."))
    manual = by_hand(ctx, report)
    if manual is not None:
        steps.append(manual)
    if c.keys:
        sandbox = " --sandbox" if ctx.sandbox else ""
        steps.append(NextStep("The secret is in your OS keyring, and only there. To use the key "
                              "locally without a credentials file: `circleci-s3-wizard "
                              f"credential-process --user {c.user}{sandbox} --install-profile "
                              "circleci-builds`."))
    else:
        steps.append(NextStep("Run the pipeline once and watch its upload step: the first run "
                              "proves the role (no key exists to test with before that)."))
    steps.append(NextStep("`circleci-s3-wizard verify` proves the access is limited to the "
                          "prefix; `circleci-s3-wizard plan` shows any drift; "
                          "`circleci-s3-wizard destroy` removes what the wizard made (never the "
                          "bucket)."))
    return tuple(steps)
