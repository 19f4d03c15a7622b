"""The IAM role CircleCI assumes with its OIDC token (OIDC mode): its name, and a branch if any."""

from __future__ import annotations

from screens.step_screen import StepScreen


class OidcRoleScreen(StepScreen):
    KEY = "oidc_role"
    ANSWERS = ("role_name", "circleci_branch")
    HELP = ("The role trusts only tokens of your CircleCI organisation for the chosen project "
            "(and only for that branch when one is given), and carries the same least-privilege "
            "policy. Leave the branch empty to allow every branch of the project.")
