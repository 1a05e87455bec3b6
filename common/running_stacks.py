"""Where each running `invex up` says how to reach its embedded servers, so that an `invex`
command in another terminal finds them whatever its directory or INVEX_DATA_DIR.

Each `invex up` writes `<pid>.json` (its data directory and server URLs) into a directory
of the user's own: $XDG_RUNTIME_DIR/invex, else /tmp/invex-<uid>, created 0700 and used
only while it belongs to this user and no one else may write it, so no other user can
point a command at a server of theirs.
An entry whose process is gone is dropped when read.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunningStack:
    pid: int
    data_dir: str
    database_url: str
    redis_url: str


def registry_dir() -> Path | None:
    """The user's registry directory, or None when it is not safely ours."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = (
        Path(runtime) / "invex" if runtime else Path(tempfile.gettempdir()) / f"invex-{os.getuid()}"
    )
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = base.stat()
    except OSError:
        return None
    if info.st_uid != os.getuid() or stat.S_IMODE(info.st_mode) & 0o077:
        return None
    return base


def register(stack: RunningStack) -> Path | None:
    """Announce `stack`; the path to remove when it stops (None: no registry)."""
    directory = registry_dir()
    if directory is None:
        return None
    path = directory / f"{stack.pid}.json"
    path.write_text(
        json.dumps(
            {
                "data_dir": stack.data_dir,
                "database_url": stack.database_url,
                "redis_url": stack.redis_url,
            }
        )
    )
    path.chmod(0o600)
    return path


def running_stacks() -> list[RunningStack]:
    """Every announced stack whose process is alive, oldest process ID first."""
    directory = registry_dir()
    if directory is None:
        return []
    found = []
    for path in sorted(directory.glob("*.json")):
        if not path.stem.isdigit():
            continue
        pid = int(path.stem)
        if not _alive(pid):
            path.unlink(missing_ok=True)
            continue
        try:
            entry = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found.append(
            RunningStack(pid, entry["data_dir"], entry["database_url"], entry["redis_url"])
        )
    return sorted(found, key=lambda stack: stack.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
