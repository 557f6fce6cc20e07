"""Reading text data files safely: every problem becomes a :class:`DataFormatError` naming file and line.

A file is read whole as bytes and checked before parsing: empty files, binary content (NUL bytes),
invalid UTF-8 and absurdly long lines are refused with the line they occur on. A UTF-8 byte-order
mark, CRLF line ends and blank lines are accepted (blank lines are skipped, line numbers are kept).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mimea_core.errors import DataFormatError

MAX_LINE_CHARS = 1_000_000  # a line longer than this is not a data line (binary or broken file)
MAX_ERRORS_SHOWN = 5


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def is_present(path: str | Path, what: str) -> bool:
    """Whether an optional input file is there: False when nothing has that name, True for a
    regular file; anything else under the name (a folder, a socket, ...) is an error naming it,
    so a misplaced folder is never mistaken for a missing file."""
    path = Path(path)
    if not path.exists():
        return False
    if not path.is_file():
        kind = "a folder" if path.is_dir() else "not a regular file"
        raise DataFormatError(path, None, f"is {kind}; expected a file with {what}")
    return True


def read_text(path: str | Path, what: str) -> str:
    """The decoded text of ``path`` (``what`` says what the file should hold, for messages)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(path, None, f"file not found; expected {what}") from None
    except IsADirectoryError:
        raise DataFormatError(path, None, f"is a folder; expected a file with {what}") from None
    except OSError as err:
        raise DataFormatError(path, None, f"cannot read file ({err.strerror}); expected {what}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if not data.strip():
        raise DataFormatError(path, None, f"file is empty; expected {what}")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataFormatError(
            path, _line_of(data, nul), f"binary content (NUL byte); expected UTF-8 text with {what}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataFormatError(
            path,
            _line_of(data, err.start),
            f"not valid UTF-8 (byte 0x{data[err.start]:02x}); expected UTF-8 text with {what}",
        ) from None


def read_lines(path: str | Path, what: str) -> list[str]:
    """All lines of ``path`` without line ends (``lines[i]`` is line ``i + 1``); blank lines stay as ``""``."""
    text = read_text(path, what)
    lines = text.split("\n")
    if "\r" in text:
        lines = [line.rstrip("\r") for line in lines]
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    if len(lines[longest]) > MAX_LINE_CHARS:
        raise DataFormatError(
            path,
            longest + 1,
            f"line is {len(lines[longest]):,} characters long (limit {MAX_LINE_CHARS:,}); expected {what}",
        )
    return lines


def data_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` for every non-blank line."""
    for i, line in enumerate(lines):
        if line and not line.isspace():
            yield i + 1, line
