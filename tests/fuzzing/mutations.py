"""Mutations of real samples: what damaged, hostile or just unusual input looks like.

Each mutator takes bytes and a seeded `random.Random` and returns new bytes; `mutate` applies
one to three of them. Seeded, so a failure is reproduced by its (collector, seed, index).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

_INVALID_UTF8 = (b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\xf0\x9f\x98", b"\x80\x80")
_NUMBERS = (
    b"9" * 400,
    b"300000000000",
    b"-300000000000000",
    b"1e400",
    b"-1e309",
    b"18446744073709551616",
    b"NaN",
    b"Infinity",
    b"-0",
    b"1.5",
)
_TYPES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**70,
    1.5,
    "",
    "x",
    "\ud83d",
    [],
    [1, "a", None],
    {},
    {"a": {"b": [None]}},
)
_DIGITS = re.compile(rb"-?\d{1,40}")
_KEY = re.compile(rb'"([A-Za-z_@][^"\\]{0,40})"\s*:')


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data))] if data else data


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    return bytes(out)


def invalid_utf8(data: bytes, rng: random.Random) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + rng.choice(_INVALID_UTF8) + data[at:]


def nul_run(data: bytes, rng: random.Random) -> bytes:
    at = rng.randint(0, len(data))
    return data[:at] + b"\x00" * rng.choice((1, 7, 512, 8192)) + data[at:]


def huge_line(data: bytes, rng: random.Random) -> bytes:
    """One line made 64 KB or (rarely) 256 KB long by repeating a piece of itself."""
    lines = data.split(b"\n")
    index = rng.randrange(len(lines))
    line = lines[index] or b"x"
    start = rng.randrange(len(line))
    piece = line[start : start + rng.randint(1, 64)] or b"a"
    size = 256_000 if rng.random() < 0.05 else 64_000
    lines[index] = line[:start] + piece * (size // len(piece)) + line[start:]
    return b"\n".join(lines)


def huge_number(data: bytes, rng: random.Random) -> bytes:
    found = list(_DIGITS.finditer(data))
    if not found:
        return data + rng.choice(_NUMBERS)
    match = rng.choice(found)
    return data[: match.start()] + rng.choice(_NUMBERS) + data[match.end() :]


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((64, 1000, 5000, 100_000))
    nested = (
        b"[" * depth + b"]" * depth
        if rng.random() < 0.5
        else b'{"a":' * depth + b"1" + b"}" * depth
    )
    found = list(_KEY.finditer(data))
    if not found:
        return nested + data
    match = rng.choice(found)
    # the value after this key becomes the nested one (the old value stays after a comma)
    return data[: match.end()] + nested + b"," + data[match.end() :]


def wrong_type(data: bytes, rng: random.Random) -> bytes:
    """A JSON line (or document) with one value replaced by a value of another type."""
    try:
        return _wrong_type(data, rng)
    except RecursionError:  # already nested too deep for the json module
        return flip_bytes(data, rng)


def _wrong_type(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    candidates = [i for i, line in enumerate(lines) if line.strip()[:1] in (b"{", b"[")]
    if not candidates:
        return huge_number(data, rng)
    index = rng.choice(candidates)
    try:
        value = json.loads(lines[index])
    except ValueError:
        try:
            value = json.loads(data)
        except ValueError:
            return flip_bytes(data, rng)
        return json.dumps(_replace_one(value, rng)).encode()
    lines[index] = json.dumps(_replace_one(value, rng)).encode()
    return b"\n".join(lines)


def _replace_one(value: Any, rng: random.Random, depth: int = 0) -> Any:
    if isinstance(value, dict) and value and depth < 8 and rng.random() < 0.8:
        key = rng.choice(list(value))
        return {**value, key: _replace_one(value[key], rng, depth + 1)}
    if isinstance(value, list) and value and depth < 8 and rng.random() < 0.8:
        at = rng.randrange(len(value))
        return [*value[:at], _replace_one(value[at], rng, depth + 1), *value[at + 1 :]]
    return rng.choice([t for t in _TYPES if type(t) is not type(value)])


def duplicate_key(data: bytes, rng: random.Random) -> bytes:
    found = list(_KEY.finditer(data))
    if not found:
        return data
    match = rng.choice(found)
    other = json.dumps(rng.choice(_TYPES)).encode()
    return data[: match.start()] + match.group(0) + other + b"," + data[match.start() :]


def lone_surrogate(data: bytes, rng: random.Random) -> bytes:
    """A cut emoji: a lone UTF-16 surrogate escape in a string, or its UTF-8 bytes cut."""
    quotes = [m.start() for m in re.finditer(rb'"', data)]
    text = rng.choice((b"\\ud83d", b"\\udc00", b"\\ud83d\\ud83d", b"\xf0\x9f\x98"))
    if not quotes:
        return data + text
    at = rng.choice(quotes)
    return data[:at] + text + data[at:]


def splice_lines(data: bytes, rng: random.Random) -> bytes:
    newlines = [i for i, b in enumerate(data) if b == 0x0A]
    if not newlines:
        return data
    at = rng.choice(newlines)
    return data[:at] + data[at + 1 :]


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
    action = rng.randrange(3)
    if action == 0:
        lines.insert(j, lines[i])
    elif action == 1 and len(lines) > 1:
        del lines[i]
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def poisoned_line(data: bytes, rng: random.Random) -> bytes:
    """A line an audited agent could write on purpose, inserted between two lines."""
    poison = rng.choice(
        (
            b": 300000000000:0;x",
            b"#300000000000",
            b"- cmd: x\n  when: 300000000000",
            b'{"timestamp": "99999-01-01T00:00:00Z", "type": "user"}',
            b'{"type": "assistant", "message": {"content": "\\ud83d"}}',
            b"\xef\xbb\xbf{}",
        )
    )
    lines = data.split(b"\n")
    lines.insert(rng.randint(0, len(lines)), poison)
    return b"\n".join(lines)


MUTATORS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    truncate,
    flip_bytes,
    invalid_utf8,
    nul_run,
    huge_line,
    huge_number,
    deep_nesting,
    wrong_type,
    duplicate_key,
    lone_surrogate,
    splice_lines,
    shuffle_lines,
    poisoned_line,
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    for mutator in rng.sample(MUTATORS, rng.randint(1, 3)):
        data = mutator(data, rng)
    return data
