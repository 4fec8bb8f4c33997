"""The filter / order_by tokenizer: keys, quoted strings, numbers, operators, keywords.

Keys are dotted runs of words, where a part may be quoted with backticks (anywhere) or
double quotes (after a dot): ``tags.`my key` ``, ``metrics."my metric"``. A quoted value
escapes its quote by doubling it (``'it''s'``) or with a backslash (``'it\\'s'``); other
backslashes are kept, so LIKE patterns can escape ``%`` and ``_``. Integer literals stay
``int`` within int64, other numbers become finite floats.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import Enum, auto
from typing import NoReturn

from service.errors import InvalidParameterValue

INT64 = 2**63


class Kind(Enum):
    KEY = auto()
    STRING = auto()
    NUMBER = auto()
    OP = auto()
    KEYWORD = auto()
    LPAREN = auto()
    RPAREN = auto()
    COMMA = auto()
    END = auto()


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str
    pos: int
    parts: tuple[str, ...] = ()
    value: str | int | float | None = None


KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL", "ASC", "DESC"})
_WORD = re.compile(r"[^\W\d][\w-]*")
_PART = re.compile(r"[\w-]+")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
INTEGER = re.compile(r"[+-]?\d+")
_OP_CHARS = "<>=!~"


def fail(message: str) -> NoReturn:
    raise InvalidParameterValue(message)


def tokenize(text: str, context: str) -> list[Token]:
    """Split ``text`` into tokens; ``context`` (e.g. "filter 'x'") prefixes error messages."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in "'\"":
            value, end = _read_quoted(text, i, context)
            tokens.append(Token(Kind.STRING, text[i:end], i, value=value))
            i = end
        elif c == "`" or _WORD.match(text, i):
            token = _read_key(text, i, context)
            tokens.append(token)
            i = token.pos + len(token.text)
        elif (m := _NUMBER.match(text, i)) and (c not in "+-" or not tokens or _value_slot(tokens)):
            end = m.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                fail(f"Invalid {context}: malformed number at position {i}")
            tokens.append(Token(Kind.NUMBER, m.group(), i, value=_number(m.group(), context)))
            i = end
        elif c in _OP_CHARS:
            j = i
            while j < n and text[j] in _OP_CHARS:
                j += 1
            tokens.append(Token(Kind.OP, text[i:j], i))
            i = j
        elif c in "(),":
            kind = {"(": Kind.LPAREN, ")": Kind.RPAREN, ",": Kind.COMMA}[c]
            tokens.append(Token(kind, c, i))
            i += 1
        else:
            fail(f"Invalid {context}: unexpected character {c!r} at position {i}")
    tokens.append(Token(Kind.END, "", n))
    return tokens


def _value_slot(tokens: list[Token]) -> bool:
    """A sign starts a number only where a value may stand (after an operator, '(' or ',')."""
    return tokens[-1].kind in (Kind.OP, Kind.KEYWORD, Kind.LPAREN, Kind.COMMA)


def _number(text: str, context: str) -> int | float:
    if INTEGER.fullmatch(text) and -INT64 <= int(text) < INT64:
        return int(text)
    value = float(text)
    if not math.isfinite(value):
        fail(f"Invalid {context}: number {text} is out of range")
    return value


def _read_quoted(text: str, start: int, context: str) -> tuple[str, int]:
    """Read a quoted run at ``start``; returns (unescaped content, end index)."""
    quote = text[start]
    out: list[str] = []
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and quote != "`" and i + 1 < n and text[i + 1] == quote:
            out.append(quote)
            i += 2
        elif c == quote:
            if i + 1 < n and text[i + 1] == quote:
                out.append(quote)
                i += 2
            else:
                return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    fail(f"Invalid {context}: unterminated {quote} quote starting at position {start}")


def _read_key(text: str, start: int, context: str) -> Token:
    """A dotted key; a single bare word that is a keyword becomes a KEYWORD token."""
    parts: list[str] = []
    i, quoted = start, False
    while True:
        if i < len(text) and (text[i] == "`" or (parts and text[i] == '"')):
            part, i = _read_quoted(text, i, context)
            quoted = True
        elif m := (_PART if parts else _WORD).match(text, i):
            part, i = m.group(), m.end()
        else:
            fail(f"Invalid {context}: expected a key name after '.' at position {i}")
        parts.append(part)
        if i < len(text) and text[i] == ".":
            i += 1
            continue
        break
    source = text[start:i]
    if len(parts) == 1 and not quoted and parts[0].upper() in KEYWORDS:
        return Token(Kind.KEYWORD, source, start, value=parts[0].upper())
    return Token(Kind.KEY, source, start, parts=tuple(parts))
