"""What is left for the operator after a run, decided once for both views.

The headless ``apply`` prints these and the TUI's Done page lists them: the same sentences, from
the same report. Nothing here promises what a view cannot give: the values to paste and the
config file are given in full, not pointed at on a screen the CLI does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from wizard.model import Action, NextStep, Report, StepResult

if TYPE_CHECKING:
    from wizard.context import RunContext

DELIVERED = (Action.CREATE, Action.UPDATE, Action.EXISTS, Action.REPAIR)


def delivered(results: Mapping[str, StepResult]) -> bool:
    """Did CircleCI get its values through the API in this run (or have them already)?"""
    result = results.get("circleci")
    return result is not None and result.action in DELIVERED


def by_hand(ctx: RunContext, results: Mapping[str, StepResult], *,
            secret_from: str = "cli") -> NextStep | None:
    """Where to paste each value, when the wizard could not deliver them itself.

    ``secret_from`` says where the operator gets the secret: ``cli`` (credential-process prints
    it from the keyring) or ``screen`` (the TUI's copy-once button beside these lines).
    """
    from wizard.circleci.delivery_step import manual_instructions

    if delivered(results) or not all(r.ok for r in results.values()):
        return None
    outputs: dict[str, object] = {}
    for result in results.values():
        outputs.update({k: v for k, v in result.outputs.items() if v is not None})
    text = manual_instructions(ctx.config, outputs.get("access_key_id"), region=ctx.region,
                               role_arn=outputs.get("role_arn"), secret_from=secret_from,
                               sandbox=bool(ctx.sandbox))
    why = ("no CircleCI project was given" if not ctx.config.circleci_project
           else "no CircleCI token was available")
    return NextStep(f"Give CircleCI its values by hand ({why}; or set CIRCLE_TOKEN and run apply "
                    "again):", tuple(text.splitlines()))


def config_file(ctx: RunContext, role_arn: str | None = None) -> str:
    """The ``.circleci/config.yml`` for this setup, as both views show it.

    With OIDC the session length is checked against the role's own maximum (read from IAM when
    the role exists), so the file never asks for a session the role would refuse.
    """
    from wizard.circleci.config_snippet import config_yml

    if not ctx.config.oidc:
        return config_yml(ctx.config)
    from wizard.circleci.oidc_steps import max_session_duration
    from wizard.circleci.oidc_steps import role_arn as wanted_role

    return config_yml(ctx.config, role_arn or wanted_role(ctx),
                      max_session_duration=max_session_duration(ctx))


def next_steps(ctx: RunContext, results: Mapping[str, StepResult] | Report, *,
               secret_from: str = "cli") -> tuple[NextStep, ...]:
    """What is left to do after the steps in ``results`` (a report, or results by step key)."""
    from wizard.sandbox import PER_PROCESS

    if isinstance(results, Report):
        results = {r.key: r for r in results.results}

    c = ctx.config
    steps: list[NextStep] = []
    if ctx.sandbox:
        lasts = ("it lasted for this command only, so nothing of it exists any more"
                 if ctx.sandbox == PER_PROCESS else "it lasts while `circleci-s3-wizard sandbox` "
                 "runs")
        steps.append(NextStep(f"This was the sandbox: nothing exists in AWS, and {lasts}. Run "
                              "without --sandbox to do it for real."))
    manual = by_hand(ctx, results, secret_from=secret_from)
    if manual is not None:
        steps.append(manual)
    if all(r.ok for r in results.values()):
        outputs = {k: v for r in results.values() for k, v in r.outputs.items()}
        steps.append(NextStep("Add this to your repository as .circleci/config.yml (or merge it "
                              "into the one you have):",
                              tuple(config_file(ctx, outputs.get("role_arn")).splitlines())))
    key = results.get("access_key")
    if c.keys and (key is None or key.ok):  # never after the keyring failed, or no key was made
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


def keys_left_behind(ctx: RunContext) -> NextStep | None:
    """With OIDC chosen: an access key the access-key setup left active, said plainly, or None.

    Choosing OIDC does not touch the access-key setup: its user's active keys stay active in IAM
    (and in the keyring, and in CircleCI if they were delivered). Reads the user's keys (one
    ``iam:ListAccessKeys``, asked once per run).
    """
    from wizard.steps import iam_reads

    c = ctx.config
    if not c.oidc:
        return None
    active = [k["AccessKeyId"] for k in iam_reads.access_keys(ctx, c.user)
              if k.get("Status", "Active") == "Active"]
    if not active:
        return None
    keys = ", ".join(active)
    return NextStep(
        f"Access key {keys} of IAM user {c.user}, from the access-key setup, stays active: "
        "choosing OIDC does not delete it, and CircleCI may still hold it as AWS_ACCESS_KEY_ID. "
        "Once a pipeline has run with OIDC, remove AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        f"from CircleCI, then deactivate and delete the key in the IAM console (Users > {c.user} "
        "> Security credentials).")
