"""The IAM role CircleCI assumes with its OIDC token (OIDC mode): its name, a branch if any, and
how long a job's session lasts (the engine refuses more than the role's MaxSessionDuration)."""

from __future__ import annotations

from .step_screen import StepScreen


class OidcRoleScreen(StepScreen):
    KEY = "oidc_role"
    ANSWERS = ("role_name", "circleci_branch", "session_duration")
    HELP = ("The role trusts only tokens of your CircleCI organisation for the chosen project "
            "(and only for that branch when one is given), and carries the same least-privilege "
            "policy. Leave the branch empty to allow every branch of the project. The session "
            "duration is what the config.yml asks the aws-cli orb for (3600 s by default); it may "
            "not exceed the role's MaxSessionDuration.")
