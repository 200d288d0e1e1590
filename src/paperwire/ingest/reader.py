"""Stream JSON records out of a file: JSON Lines or one JSON array, plain or gzip-compressed.

Invariants:
- Constant memory: lines are read one at a time, arrays are decoded element by element.
- Every record comes with the 1-based line number it starts on, so errors can say FILE:LINE.
- For JSON Lines, ``offset`` is the byte offset (in the uncompressed stream) just after the
  record, which is where an interrupted import resumes; arrays have no resumable offset.
- A line that is not valid JSON is yielded as a ``RecordError`` (the caller reports and skips it).
"""

from __future__ import annotations

import codecs
import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from paperwire.errors import BadInput
from paperwire.ingest.items import RecordError

_GZIP_MAGIC = b"\x1f\x8b"
_ARRAY_CHUNK = 1 << 20


@dataclass
class Raw:
    line: int
    offset: int | None  # resume point after this record (JSON Lines only)
    value: Any  # the decoded JSON value, or a RecordError


class RecordFile:
    """An open input file; ``position()`` is the number of file bytes consumed (for progress)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(path)
        try:
            self._raw: BinaryIO = open(self.path, "rb")
        except FileNotFoundError:
            raise BadInput(f"{self.name}: no such file") from None
        except IsADirectoryError:
            raise BadInput(f"{self.name}: is a directory, not a file") from None
        except OSError as exc:
            raise BadInput(f"{self.name}: cannot open: {exc.strerror}") from None
        self.size = os.fstat(self._raw.fileno()).st_size
        self.compressed = self._raw.read(2) == _GZIP_MAGIC
        self._raw.seek(0)
        self._stream: BinaryIO = (
            gzip.GzipFile(fileobj=self._raw, mode="rb")  # type: ignore
            if self.compressed
            else self._raw
        )
        self.is_array = self._first_char() == b"["

    def _first_char(self) -> bytes:
        try:
            while True:
                chunk = self._stream.read(4096)
                if not chunk:
                    return b""
                stripped = chunk.lstrip()
                if stripped:
                    return stripped[:1]
        except (OSError, EOFError) as exc:
            raise BadInput(f"{self.name}: cannot read: {exc}") from None
        finally:
            self._stream.seek(0)

    def has_content(self) -> bool:
        return self._first_char() != b""

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._stream.close()
        self._raw.close()

    def __enter__(self) -> RecordFile:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def records(self, start_offset: int = 0, start_line: int = 0) -> Iterator[Raw]:
        if self.is_array:
            yield from self._array_records()
        else:
            yield from self._line_records(start_offset, start_line)

    def raw_lines(self, start_offset: int = 0, start_line: int = 0) -> Iterator[Raw]:
        """JSON Lines only: the undecoded non-empty lines (bytes) with line number and offset,
        so decoding can happen elsewhere (in worker processes)."""
        offset, line_no = 0, 0
        if start_offset:
            if self.compressed:
                # gzip cannot seek cheaply; skip the lines already imported.
                while line_no < start_line:
                    raw = self._stream.readline()
                    if not raw:
                        break
                    offset += len(raw)
                    line_no += 1
            else:
                self._stream.seek(start_offset)
                offset, line_no = start_offset, start_line
        for raw in self._stream:
            line_no += 1
            offset += len(raw)
            if raw.isspace():
                continue
            yield Raw(line_no, offset, raw)

    def first_value(self) -> Any:
        """The first decodable record (for format detection), or None; rewinds the file."""
        try:
            source = self._array_records() if self.is_array else self.raw_lines()
            for raw in source:
                value = raw.value
                if not self.is_array:
                    try:
                        value = decode(value)
                    except RecordError:
                        continue
                return value
            return None
        finally:
            self._stream.seek(0)

    def _line_records(self, start_offset: int, start_line: int) -> Iterator[Raw]:
        for raw in self.raw_lines(start_offset, start_line):
            try:
                value = decode(raw.value)
            except RecordError as exc:
                value = exc
            yield Raw(raw.line, raw.offset, value)

    def _array_records(self) -> Iterator[Raw]:
        # An incremental decoder, not a TextIOWrapper: closing a wrapper would close the file.
        utf8 = codecs.getincrementaldecoder("utf-8")()
        decoder = json.JSONDecoder()
        buf, pos, line_no, eof = "", 0, 1, False
        started = False

        def fill() -> bool:
            nonlocal buf, pos
            data = self._stream.read(_ARRAY_CHUNK)
            try:
                chunk = utf8.decode(data, final=not data)
            except UnicodeDecodeError as exc:
                raise BadInput(f"{self.name}:{line_no}: not UTF-8 text ({exc.reason})") from None
            if not chunk:
                return False
            buf = buf[pos:] + chunk
            pos = 0
            return True

        while True:
            # Skip whitespace and separators, counting lines.
            while True:
                while pos < len(buf) and buf[pos] in " \t\r\n,[]":
                    ch = buf[pos]
                    if ch == "\n":
                        line_no += 1
                    elif ch == "[":
                        if started:
                            raise BadInput(
                                f"{self.name}:{line_no}: nested array where a record was expected"
                            )
                        started = True
                    pos += 1
                if pos < len(buf) or eof:
                    break
                eof = not fill()
            if pos >= len(buf):
                return
            while True:
                try:
                    value, end = decoder.raw_decode(buf, pos)
                    break
                except ValueError as exc:
                    if eof or not fill():
                        eof = True
                        # A broken array cannot be resynchronised: report where and stop.
                        raise BadInput(
                            f"{self.name}:{line_no}: invalid JSON: {_json_reason(exc)}"
                        ) from None
            yield Raw(line_no, None, value)
            line_no += buf.count("\n", pos, end)
            pos = end


def decode(raw: bytes) -> Any:
    """One JSON Lines record; RecordError with the reason when it is not valid JSON."""
    try:
        return orjson.loads(raw)  # 2-3x json.loads on snapshot lines; same values
    except ValueError as exc:
        raise RecordError(f"invalid JSON: {_json_reason(exc)}") from None


def _json_reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} (column {exc.colno})"
    return str(exc)
