"""Shared test set-up: hide the developer's own AWS config, HOME and keyring from every test.

Fixtures that start real services (moto's server, GNOME Keyring on D-Bus, Xvfb, the CircleCI
stand-in), shared by every folder, live in ``tests/fixtures/`` and are loaded here as plugins.
The tests are laid out as the code is: ``unit/`` (no service), ``engine/`` (the engine on the
real parts), ``tui/`` (the app under Pilot) and ``e2e/`` (the command as a process); a folder's
own fixtures are in its ``conftest.py``.
"""

from __future__ import annotations

import signal

import pytest

pytest_plugins = [
    "tests.fixtures.aws",
    "tests.fixtures.keyring_service",
    "tests.fixtures.display",
    "tests.fixtures.circleci_standin",
    "tests.fixtures.faults",
    "tests.fixtures.wizard_runs",
    "tests.fixtures.fault_table",
    "tests.fixtures.iam_simulator",
    "tests.fixtures.machines",
]



def pytest_configure(config: pytest.Config) -> None:
    """ctrl+c reaches the wizards the tests start, however the suite itself was started.

    A shell script's background job (``pytest &``, ``nohup``) starts with SIGINT ignored, and an
    ignored signal stays ignored in every child: the wizard processes would then shrug off the
    SIGINT that the tests send to model an operator's ctrl+c, and time out. (The wizard honours
    an inherited ignore on purpose, as every Unix tool does.) A handler set here is reset to the
    default in each child, so each one gets its own KeyboardInterrupt again. Runs in every
    xdist worker too."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


_AWS_VARS = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_ENDPOINT_URL",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "CIRCLE_TOKEN",
    "CIRCLE_HOST",
)


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch,
                         tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test may read the developer's ~/.aws, AWS_* variables or CircleCI token."""
    for name in _AWS_VARS:
        monkeypatch.delenv(name, raising=False)
    aws_dir = tmp_path_factory.mktemp("aws-config")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_dir / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(aws_dir / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # The wizard's own state (run locks, the shared sandbox's note) stays inside the test.
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
