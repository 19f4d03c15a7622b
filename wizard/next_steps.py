"""What is left for the operator after a run, decided once for both views.

The headless ``apply`` prints these and the TUI's Done page lists them: the same sentences, from
the same report. Nothing here promises what a view cannot give: the values to paste and the
config file are given in full, not pointed at on a screen the CLI does not have.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from .answers import command_line
from .model import Action, NextStep, Report, StepResult

if TYPE_CHECKING:
    from .context import RunContext

DELIVERED = (Action.CREATE, Action.UPDATE, Action.EXISTS, Action.REPAIR)


def delivered(results: Mapping[str, StepResult]) -> bool:
    """Did CircleCI get its values through the API in this run (or have them already)?"""
    result = results.get("circleci")
    return result is not None and result.action in DELIVERED


#: What the operator can do instead of pasting by hand, by what is missing and where they are:
#: ``cli`` (set a variable, run apply again) or ``screen`` (the TUI's CircleCI page, which has the
#: project slug and the token box).
_INSTEAD = {
    ("project", "cli"): "set CIRCLE_TOKEN and run apply again",
    ("token", "cli"): "set CIRCLE_TOKEN and run apply again",
    ("project", "screen"): "type the project slug on the CircleCI page, and the wizard sets them",
    ("token", "screen"): "sign in with a CircleCI token on the CircleCI page, and the wizard "
                         "sets them",
}


def by_hand(ctx: RunContext, results: Mapping[str, StepResult], *,
            secret_from: str = "cli", sign_in_from: str = "cli") -> NextStep | None:
    """Where to paste each value, when the wizard could not deliver them itself.

    ``secret_from`` says where the operator gets the secret: ``cli`` (credential-process prints
    it from the keyring) or ``screen`` (the TUI's copy-once button beside these lines).
    ``sign_in_from`` says how the operator lets the wizard deliver them instead: ``cli`` (set
    ``CIRCLE_TOKEN`` and run apply again) or ``screen`` (the TUI's CircleCI page).
    """
    from .circleci.delivery_step import manual_instructions

    if delivered(results) or not all(r.ok for r in results.values()):
        return None
    outputs: dict[str, str] = {}
    for result in results.values():
        outputs.update({k: v for k, v in result.outputs.items() if isinstance(v, str)})
    text = manual_instructions(ctx.config, outputs.get("access_key_id"), region=ctx.region,
                               role_arn=outputs.get("role_arn"), secret_from=secret_from,
                               sandbox=bool(ctx.sandbox))
    missing = "token" if ctx.config.circleci_project else "project"
    why = ("no CircleCI project was given" if missing == "project"
           else "no CircleCI token was available")
    return NextStep(f"Give CircleCI its values by hand ({why}; or "
                    f"{_INSTEAD[missing, sign_in_from]}):", tuple(text.splitlines()))


def config_file(ctx: RunContext, role_arn: str | None = None) -> str:
    """The ``.circleci/config.yml`` for this setup, as both views show it.

    With OIDC the session length is checked against the role's own maximum (read from IAM when
    the role exists), so the file never asks for a session the role would refuse.
    """
    from .circleci.config_snippet import config_yml

    if not ctx.config.oidc:
        return config_yml(ctx.config)
    from .circleci.oidc_steps import max_session_duration
    from .circleci.oidc_steps import role_arn as wanted_role

    return config_yml(ctx.config, role_arn or wanted_role(ctx),
                      max_session_duration=max_session_duration(ctx))


def next_steps(ctx: RunContext, results: Mapping[str, StepResult] | Report, *,
               secret_from: str = "cli", sign_in_from: str = "cli") -> tuple[NextStep, ...]:
    """What is left to do after the steps in ``results`` (a report, or results by step key);
    ``secret_from`` and ``sign_in_from`` word it for the view (see :func:`by_hand`)."""
    from .sandbox import PER_PROCESS

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
    manual = by_hand(ctx, results, secret_from=secret_from, sign_in_from=sign_in_from)
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
    def command(name: str) -> str:
        return command_line(c, name, sandbox=bool(ctx.sandbox))

    steps.append(NextStep(f"`{command('verify')}` proves the access is limited to the prefix; "
                          f"`{command('plan')}` shows any drift; `{command('destroy')}` removes "
                          "what the wizard made (never the bucket)."))
    return tuple(steps)

