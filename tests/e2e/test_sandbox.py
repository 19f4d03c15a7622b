"""The sandbox is a real moto server on loopback, with fake credentials and nothing else."""

from __future__ import annotations

import os

from circleci_s3_wizard.wizard.sandbox import Sandbox


def test_sandbox_serves_aws_on_loopback_only(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "real-production")
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                 "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)  # so teardown undoes what activate() sets
    with Sandbox(region="eu-west-1") as box:
        assert box.endpoint.startswith("http://127.0.0.1:")
        assert "Nothing touches a real AWS account" in box.banner()
        assert "vanishes when this command exits" in box.banner()
        box.activate()
        assert "AWS_PROFILE" not in os.environ  # a real profile can never leak in
        assert os.environ["AWS_ENDPOINT_URL"] == box.endpoint
        session = box.session()
        identity = session.client("sts").get_caller_identity()
        assert identity["Account"] == "123456789012"
        s3 = session.client("s3")
        s3.create_bucket(Bucket="sandbox-bucket",
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        # moto keeps its state per process, so other tests' buckets may be listed too.
        assert "sandbox-bucket" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_a_running_sandbox_is_found_and_shared_by_later_commands(monkeypatch):
    from circleci_s3_wizard.wizard.sandbox import SHARED, find_shared, open_sandbox

    assert find_shared() is None
    with Sandbox(lifetime=SHARED) as served:
        served.publish()
        try:
            found = open_sandbox("us-east-1")
            assert found.endpoint == served.endpoint and found.lifetime == SHARED
            assert "until that command is stopped" in found.banner()
        finally:
            served.withdraw()
    assert find_shared() is None  # its note is gone with it


def test_sandbox_without_its_extra_is_bad_input_that_names_the_fix(monkeypatch, capsys):
    """A real-AWS install has no moto: ``--sandbox`` says what to install, exit 2, nothing run."""
    import sys

    from circleci_s3_wizard.wizard.cli import main

    monkeypatch.setitem(sys.modules, "moto", None)  # find_spec answers None: not installed
    for argv in (["plan", "--sandbox", "--bucket", "demo-builds"], ["sandbox"], ["--sandbox"]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert "--sandbox: the local AWS is an extra this install lacks (moto not found)" in err
        assert "uv run --no-dev --extra sandbox circleci-s3-wizard --sandbox" in err
        assert "circleci-s3-wizard[sandbox]" in err
