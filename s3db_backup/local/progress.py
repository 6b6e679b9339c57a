"""Progress of a running workflow, from the chunk results the handlers return, printed to stderr."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

CHUNKS = {"ExportChunk": "exported", "VerifyChunk": "verified", "ImportChunk": "restored"}


class Progress:
    """Counts records per unit as chunks report; prints a line per finished unit and a running total."""

    def __init__(self, stream: TextIO | None = None, *, quiet: bool = False) -> None:
        self.stream = stream or sys.stderr
        self.quiet = quiet
        self.started = time.monotonic()
        self.units: dict[tuple[str, str], int] = {}
        self.finished: set[tuple[str, str]] = set()
        self.invocations = 0
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = 0.0

    def __call__(self, function: str, event: dict[str, Any], result: Any, error: BaseException | None) -> None:
        self.invocations += 1
        if error is not None or function not in CHUNKS or not isinstance(result, dict):
            return
        job = event.get("job") or {}
        unit = job.get("unit") or {}
        name = unit.get("file") or f"{unit.get('resource') or '(prefix)'} {unit.get('kind')}"
        key = (function, str(name))
        if result.get("done"):
            count = int(result.get("lines", 0) or 0)
            self.units[key] = count
            self.finished.add(key)
            self._print(f"  {CHUNKS[function]:>8} {name}: {count:,} lines done", force=True)
        else:
            cursor = result.get("cursor") or {}
            counts = cursor.get("counts") or {}
            self.units[key] = int(counts.get("lines", 0) or cursor.get("lines", 0) or cursor.get("line", 0) or 0)
            total = sum(v for (f, _), v in self.units.items() if f == function)
            self._print(f"  {CHUNKS[function]:>8} {total:,} lines so far "
                        f"({len([k for k in self.finished if k[0] == function])} units done)")

    def _print(self, text: str, *, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        line = f"{text} [{now - self.started:5.1f}s]"
        if self._tty:
            # on a terminal the running total rewrites one line; finished units stay on their own lines
            self.stream.write("\r" + line + "\x1b[K" + ("\n" if force else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
