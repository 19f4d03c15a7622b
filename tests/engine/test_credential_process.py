"""credential_process: the JSON AWS tools read, and the profile that points them at the wizard."""

from __future__ import annotations

import configparser
import json
import os
import stat
import sys
from pathlib import Path

import pytest

from circleci_s3_wizard.wizard.credential_process import (
    NoStoredKey,
    ProfileConflict,
    credential_command,
    credential_json,
    own_command,
    profile_name_problems,
    profile_snippet,
    write_profile,
)
from circleci_s3_wizard.wizard.secret_store import AccessKey

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
KEY = AccessKey("AKIA_DOC_EXAMPLE_KEY", SECRET)


def _parse(path: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


def test_credential_json_is_version_1_from_the_keyring(secret_store):
    secret_store.store_access_key("circleci_service", KEY)
    document = json.loads(credential_json(secret_store, "circleci_service"))
    assert document == {
        "Version": 1,
        "AccessKeyId": "AKIA_DOC_EXAMPLE_KEY",
        "SecretAccessKey": SECRET,
    }


def test_missing_key_says_what_to_run(secret_store):
    with pytest.raises(NoStoredKey) as caught:
        credential_json(secret_store, "nobody")
    assert isinstance(caught.value, LookupError)
    assert "'nobody'" in str(caught.value) and "circleci-s3-wizard apply" in str(caught.value)


def test_profile_snippet_text():
    assert profile_snippet("circleci-s3", "circleci_service", "eu-west-1") == (
        "[profile circleci-s3]\n"
        "credential_process = circleci-s3-wizard credential-process --user circleci_service\n"
        "region = eu-west-1\n"
    )
    assert profile_snippet("default", "u", None, executable="/opt/my tools/wiz") == (
        "[default]\ncredential_process = '/opt/my tools/wiz' credential-process --user u\n"
    )


def test_write_profile_creates_a_private_file_at_aws_config_file(tmp_path, monkeypatch):
    target = tmp_path / "fresh" / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(target))
    assert write_profile("ci", "circleci_service", "us-east-2") == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    section = dict(_parse(target).items("profile ci"))
    assert section == {
        "credential_process": credential_command("circleci_service", own_command()),
        "region": "us-east-2",
    }
    # This very installation, by path: `uv run` puts nothing on the PATH the AWS CLI sees.
    assert section["credential_process"].startswith(str(Path(sys.executable).parent))
    assert "secret" not in target.read_text().lower()


EXISTING = """\
# my settings, keep this comment
[default]
region = eu-central-1
output = json

[profile ci]
aws_access_key_id = AKIAOLDOLDOLDOLD

[profile other]
role_arn = arn:aws:iam::123456789012:role/x
source_profile = default
"""


def test_write_profile_appends_and_keeps_everything_else(tmp_path):
    config = tmp_path / "config"
    config.write_text(EXISTING)
    os.chmod(config, 0o640)
    write_profile("circleci-s3", "circleci_service", "eu-west-1", config)

    text = config.read_text()
    assert text.startswith(EXISTING)
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    parsed = _parse(config)
    assert parsed.sections() == ["default", "profile ci", "profile other", "profile circleci-s3"]
    assert dict(parsed.items("profile other"))["source_profile"] == "default"
    assert dict(parsed.items("profile circleci-s3"))["region"] == "eu-west-1"

    before = config.stat().st_mtime_ns
    write_profile("circleci-s3", "circleci_service", "eu-west-1", config)  # same: no change
    assert config.read_text() == text and config.stat().st_mtime_ns == before


def test_a_different_profile_of_that_name_is_kept_unless_overwrite(tmp_path):
    config = tmp_path / "config"
    config.write_text(EXISTING)
    with pytest.raises(ProfileConflict, match=r"\[profile ci\]"):
        write_profile("ci", "circleci_service", "eu-west-1", config)
    assert config.read_text() == EXISTING

    write_profile("ci", "circleci_service", "eu-west-1", config, overwrite=True)
    text = config.read_text()
    assert "AKIAOLDOLDOLDOLD" not in text
    assert text.startswith("# my settings, keep this comment\n[default]\n")
    assert "\n\n[profile other]\n" in text
    parsed = _parse(config)
    assert parsed.sections() == ["default", "profile ci", "profile other"]
    assert dict(parsed.items("profile ci")) == {
        "credential_process": credential_command("circleci_service", own_command()),
        "region": "eu-west-1",
    }


def test_botocore_gets_the_keyring_key_through_the_profile(secret_store, tmp_path, monkeypatch):
    """End to end: the AWS SDK runs the command from the profile and gets the stored key."""
    import boto3

    secret_store.store_access_key("circleci_service", KEY)
    # Stands in for the installed ``circleci-s3-wizard`` script: same arguments, same module.
    fake_cli = tmp_path / "bin" / "circleci-s3-wizard"
    fake_cli.parent.mkdir()
    fake_cli.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "from keyring.backends.SecretService import Keyring\n"
        "from circleci_s3_wizard.wizard.credential_process import credential_json\n"
        "from circleci_s3_wizard.wizard.secret_store import SecretStore\n"
        "assert sys.argv[1:3] == ['credential-process', '--user']\n"
        "print(credential_json(SecretStore(Keyring()), sys.argv[3]))\n"
    )
    fake_cli.chmod(0o755)
    config = write_profile("ci", "circleci_service", "eu-west-1", executable=str(fake_cli))
    assert config == Path(os.environ["AWS_CONFIG_FILE"])

    session = boto3.Session(profile_name="ci")
    credentials = session.get_credentials().get_frozen_credentials()
    assert credentials.access_key == KEY.access_key_id
    assert credentials.secret_key == SECRET
    assert session.region_name == "eu-west-1"


@pytest.mark.parametrize("name", ["", "  ", "ci]x", "a b ", "x\ny"])
def test_an_unusable_profile_name_is_refused(name):
    assert profile_name_problems(name)


def test_credential_process_refuses_an_empty_profile_and_prints_no_secret(secret_store, capsys):
    """Found by a careful operator: `--install-profile ''` printed the secret and exited 0."""
    from circleci_s3_wizard.wizard.cli import main

    secret_store.store_access_key("circleci_service", AccessKey(
        "ZZTESTKEYID000000001", "not-a-real-secret-0123456789abcdefghijkl"))
    assert main(["credential-process", "--user", "circleci_service",
                 "--install-profile", ""]) == 2
    captured = capsys.readouterr()
    assert "--install-profile: must not be empty" in captured.err
    assert "not-a-real-secret" not in captured.out + captured.err


def test_sandbox_keys_come_from_the_sandbox_entry(secret_store, capsys):
    from circleci_s3_wizard.wizard.cli import main
    from circleci_s3_wizard.wizard.sandbox import SANDBOX_SERVICE
    from circleci_s3_wizard.wizard.secret_store import SecretStore

    SecretStore(service=SANDBOX_SERVICE).store_access_key("circleci_service", AccessKey(
        "ZZSANDBOXKEY00000001", "sandbox-secret-0123456789abcdefghijklmno"))
    assert main(["credential-process", "--user", "circleci_service", "--sandbox"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["AccessKeyId"] == "ZZSANDBOXKEY00000001"
    assert main(["credential-process", "--user", "circleci_service"]) == 1  # not the real one
