"""Where media files live: an interface, and local files under the data dir (an
S3-compatible backend can implement the same four methods)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import BinaryIO, Protocol


class MediaStorage(Protocol):
    def save(self, key: str, source: BinaryIO) -> int:
        """Store ``source`` under ``key``; returns the bytes written."""
        ...

    def path(self, key: str) -> Path | None:
        """A local path to serve the file from (None when it does not exist)."""
        ...

    def delete(self, key: str) -> None: ...


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _resolve(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError("key escapes the media root")
        return path

    def save(self, key: str, source: BinaryIO) -> int:
        target = self._resolve(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        with tmp.open("wb") as out:
            shutil.copyfileobj(source, out, 1024 * 1024)
        os.replace(tmp, target)
        return target.stat().st_size

    def path(self, key: str) -> Path | None:
        try:
            target = self._resolve(key)
            return target if target.is_file() else None
        except (ValueError, OSError):  # not a key we made (too long, odd bytes)
            return None

    def delete(self, key: str) -> None:
        try:
            self._resolve(key).unlink(missing_ok=True)
        except ValueError:
            return
