"""Small I/O helpers every stage shares: atomic writes, JSONL with located errors, run metadata, progress.

Writes go to a temporary file in the target directory and are renamed into place, so an interrupted
run never leaves a half-written artifact behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sashimi.errors import DataError, Location


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write via a temporary file and rename; an unwritable path is a one-line `DataError`."""
    path = Path(path)
    if path.is_dir():
        raise DataError("is a directory; give a file path", Location(str(path)))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise DataError(f"cannot write: {err.strerror or err}", Location(str(path))) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600; give the file ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return atomic_write_text(path, text)


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError("file not found", Location(str(path))) from None
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read: {err}", Location(str(path))) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(f"invalid JSON: {err.msg}", Location(str(path), err.lineno, err.colno)) from None


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSONL file; a bad line raises `DataError` located at `file:line:col`. Blank lines are skipped."""
    path = Path(path)
    rows: list[dict] = []
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise DataError("file not found", Location(str(path))) from None
    except OSError as err:
        raise DataError(f"cannot read: {err.strerror or err}", Location(str(path))) from None
    with fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:  # located like every other bad line
                raise DataError(
                    f"not UTF-8 text: {err.reason}", Location(str(path), lineno, err.start + 1)
                ) from None
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataError(f"invalid JSON: {err.msg}", Location(str(path), lineno, err.colno)) from None
            if not isinstance(row, dict):
                raise DataError("expected a JSON object on each line", Location(str(path), lineno, 1))
            rows.append(row)
    return rows


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in blocks; an unreadable file is a DataError at the path."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except OSError as err:
        raise DataError(f"cannot read: {err}", Location(str(path))) from None
    return digest.hexdigest()


def progress(
    iterable: Iterable | None = None,
    *,
    desc: str,
    total: int | None = None,
    enabled: bool | None = None,
    **kw,
) -> tqdm:
    """A progress bar on stderr for long work. `enabled` None: only when stderr is a terminal, so logs
    and pipes stay clean; commands pass False for `--quiet`."""
    show = sys.stderr.isatty() if enabled is None else enabled
    return tqdm(iterable, desc=desc, total=total, file=sys.stderr, disable=not show, leave=False, **kw)


def git_commit(cwd: str | os.PathLike | None = None) -> str | None:
    """The current git commit (with `+dirty` if the tree has changes), or None outside a checkout."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=5,
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def run_metadata(config: dict, *, started: float, metrics: dict | None = None) -> dict:
    """What every run folder records: resolved config, git commit, wall time, versions, metrics."""
    import numpy

    meta = {
        "config": config,
        "git_commit": git_commit(Path(__file__).parent),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "wall_seconds": round(time.time() - started, 3),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
    }
    try:
        import torch

        meta["torch"] = torch.__version__
    except ImportError:
        pass
    if metrics is not None:
        meta["metrics"] = metrics
    return meta
