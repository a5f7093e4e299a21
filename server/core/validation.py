"""Input types shared by every endpoint: database ids within range, text without control characters.

Ids are refused (422) above 2**31 - 1, the largest PostgreSQL ``integer`` (SQLite's limit, 2**63 - 1, is higher),
so no id reaches the database driver out of range. Text is refused (422, with the reason) when it holds NUL or
other control characters (PostgreSQL cannot store NUL; none of them belongs in a name, a note or a login) or
lone surrogates (not encodable as UTF-8).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

DB_ID_MAX = 2**31 - 1
_CONTROL_LINE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")  # one-line text: names, logins, places
_CONTROL_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")  # text: tabs and line breaks allowed


def _describe(char: str) -> str:
    if char == "\x00":
        return "a NUL character (\\x00)"
    if "\ud800" <= char <= "\udfff":
        return f"an unpaired surrogate (\\u{ord(char):04x})"
    return f"a control character (\\x{ord(char):02x})"


def single_line(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` when it holds a control character (line breaks included)."""
    if found := _CONTROL_LINE.search(value):
        raise ValueError(f"must not contain {_describe(found.group())}")
    return value


def multi_line(value: str) -> str:
    """``value`` unchanged, or ``ValueError`` when it holds a control character other than tab or line breaks."""
    if found := _CONTROL_TEXT.search(value):
        raise ValueError(f"must not contain {_describe(found.group())}")
    return value


def id_in_range(value: int | None) -> bool:
    """Whether ``value`` can be a row id in any supported database."""
    return value is not None and 1 <= value <= DB_ID_MAX


Line = Annotated[str, AfterValidator(single_line)]  # names, usernames, passwords, places
Text = Annotated[str, AfterValidator(multi_line)]  # notes, descriptions
DbId = Annotated[int, Field(ge=1, le=DB_ID_MAX)]  # a row id in a JSON body
