"""Let the AWS CLI and SDKs use the keyring's access key without it ever touching ~/.aws.

AWS tools run a ``credential_process`` command and read a small JSON document from its output
(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html). The
wizard is that command: ``circleci-s3-wizard credential-process --user NAME`` prints the key it
keeps in the OS keyring. This module makes that JSON and writes the ``[profile NAME]`` section
that points at it, so an operator can test the CircleCI identity locally (``aws --profile NAME s3
ls``) while the secret stays in the keyring: the config file only ever holds a command.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .secret_store import SecretStore

DEFAULT_EXECUTABLE = "circleci-s3-wizard"
#: What a profile name may hold: the AWS CLI writes it into ``[profile NAME]`` headers.
_PROFILE_FORBIDDEN = set("[]\n\r\t\"'=#;")


class NoStoredKey(LookupError):
    """The keyring holds no access key for the requested IAM user."""


class ProfileConflict(ValueError):
    """The AWS config already has a different profile of that name."""


def own_command() -> list[str]:
    """How to run this very installation again, wherever it was started from.

    ``circleci-s3-wizard`` on PATH is not enough: started with ``uv run`` or from a virtual
    environment, the command is not on the PATH the AWS CLI sees. The console script beside
    this interpreter is; without one, the interpreter runs the package.
    """
    script = Path(sys.executable).parent / ("circleci-s3-wizard.exe" if sys.platform == "win32"
                                            else "circleci-s3-wizard")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", __name__.rsplit(".", 1)[0]]


def profile_name_problems(name: str) -> list[str]:
    """Why ``name`` cannot be an AWS profile name (empty: it can)."""
    if not name.strip():
        return ["must not be empty; give the name of the AWS profile to write, e.g. "
                "circleci-builds"]
    problems = []
    if name != name.strip():
        problems.append("must not start or end with spaces")
    bad = sorted({c for c in name if c in _PROFILE_FORBIDDEN or not c.isprintable()})
    if bad:
        problems.append(f"may not contain {', '.join(repr(c) for c in bad)}")
    return problems


def credential_json(store: SecretStore, user: str) -> str:
    """The ``credential_process`` output (Version 1) for ``user``'s stored access key."""
    key = store.load_access_key(user)
    if key is None:
        raise NoStoredKey(
            f"No access key for IAM user '{user}' in the keyring; run "
            "`circleci-s3-wizard apply` first (with the access-key mode) to create and store one."
        )
    return json.dumps(
        {
            "Version": 1,
            "AccessKeyId": key.access_key_id,
            "SecretAccessKey": key.secret_access_key,
        }
    )


def _quote(arg: str) -> str:
    """Quote one word the way botocore splits ``credential_process`` on this platform."""
    if sys.platform == "win32":
        return f'"{arg}"' if any(c in arg for c in ' \t"') else arg
    return shlex.quote(arg)


def credential_command(user: str, executable: str | list[str] = DEFAULT_EXECUTABLE, *,
                       sandbox: bool = False) -> str:
    """The ``credential_process`` command line for ``user``."""
    head = [executable] if isinstance(executable, str) else list(executable)
    tail = ["--sandbox"] if sandbox else []
    return " ".join(_quote(part) for part in (*head, "credential-process", "--user", user, *tail))


def _section_name(profile_name: str) -> str:
    # In ~/.aws/config every profile but "default" is written "[profile NAME]".
    return "default" if profile_name == "default" else f"profile {profile_name}"


def _wanted(user: str, region: str | None, executable: str | list[str], sandbox: bool = False,
            endpoint_url: str | None = None) -> dict[str, str]:
    values = {"credential_process": credential_command(user, executable, sandbox=sandbox)}
    if region:
        values["region"] = region
    if endpoint_url:
        values["endpoint_url"] = endpoint_url
    return values


def profile_snippet(
    profile_name: str,
    user: str,
    region: str | None,
    executable: str | list[str] = DEFAULT_EXECUTABLE,
    *,
    sandbox: bool = False,
    endpoint_url: str | None = None,
) -> str:
    """The config-file section for the profile, ending in a newline. Holds no secret."""
    lines = [f"[{_section_name(profile_name)}]"]
    lines += [f"{k} = {v}" for k, v in
              _wanted(user, region, executable, sandbox, endpoint_url).items()]
    return "\n".join(lines) + "\n"


def default_config_path() -> Path:
    """``AWS_CONFIG_FILE`` if set (as the AWS CLI honours it), else ``~/.aws/config``."""
    env = os.environ.get("AWS_CONFIG_FILE")
    return Path(env).expanduser() if env else Path.home() / ".aws" / "config"


def _parse(text: str, origin: Path) -> configparser.RawConfigParser:
    parser = configparser.RawConfigParser()
    try:
        parser.read_string(text, source=str(origin))
    except configparser.Error as exc:
        raise ValueError(f"{origin} is not a valid AWS config file: {exc}") from None
    return parser


def _section_span(lines: list[str], section: str) -> tuple[int, int] | None:
    """Line indices [start, end) of ``[section]`` up to the next section header."""
    start = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            if start is not None:
                return start, i
            if " ".join(stripped[1:-1].split()) == section:
                start = i
    return (start, len(lines)) if start is not None else None


def write_profile(
    profile_name: str,
    user: str,
    region: str | None,
    config_path: Path | str | None = None,
    *,
    executable: str | list[str] | None = None,
    overwrite: bool = False,
    sandbox: bool = False,
    endpoint_url: str | None = None,
) -> Path:
    """Add or update the credential_process profile in the AWS config file; return its path.

    Only that section's lines change: other profiles, comments and layout stay as they were
    (configparser would drop comments if it wrote the file). An existing profile of the same
    name that differs is left alone unless ``overwrite`` is true. The file is replaced
    atomically and a new one is created readable by its owner only, like the AWS CLI does.
    """
    path = Path(config_path).expanduser() if config_path else default_config_path()
    section = _section_name(profile_name)
    command = own_command() if executable is None else executable
    wanted = _wanted(user, region, command, sandbox, endpoint_url)
    snippet = profile_snippet(profile_name, user, region, command, sandbox=sandbox,
                              endpoint_url=endpoint_url)

    text = path.read_text(encoding="utf-8") if path.exists() else ""
    existing = _parse(text, path)
    if existing.has_section(section):
        current = dict(existing.items(section))
        if current == wanted:
            return path
        if not overwrite:
            raise ProfileConflict(
                f"{path} already has a different [{section}] ({', '.join(sorted(current))}); "
                "choose another profile name or allow overwriting it."
            )

    lines = text.splitlines(keepends=True)
    span = _section_span(lines, section)
    if span is None:
        prefix = "".join(lines)
        if prefix and not prefix.endswith("\n"):
            prefix += "\n"
        new_text = prefix + ("\n" if prefix.strip() else "") + snippet
    else:
        start, end = span
        # Keep the blank lines that separated the old section from the next one.
        tail_blank = ""
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
            tail_blank += "\n"
        new_text = "".join(lines[:start]) + snippet + tail_blank + "".join(lines[end:])

    check = _parse(new_text, path)
    if dict(check.items(section)) != wanted:  # pragma: no cover - guards the line editing
        raise ValueError(f"could not update [{section}] in {path} cleanly; file left unchanged")
    _atomic_write(path, new_text)
    return path


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, keeping an existing file's mode."""
    if not path.parent.exists():
        path.parent.mkdir(parents=True, mode=0o700)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o600
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", text=True)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
