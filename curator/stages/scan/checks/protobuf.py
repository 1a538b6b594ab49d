"""A bounded protobuf wire-format reader: field numbers, wire types and spans, no schema, nothing built."""

from __future__ import annotations

import mmap
from collections.abc import Iterator

Buffer = bytes | bytearray | memoryview | mmap.mmap


class ProtobufUnreadable(Exception):
    """The bytes are not protobuf wire format."""


def varint(buf: Buffer, pos: int, end: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= end or shift > 63:
            raise ProtobufUnreadable(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def fields(buf: Buffer, pos: int, end: int) -> Iterator[tuple[int, int, int, int]]:
    """``(number, wire type, value or span start, span end)`` for each field of one message."""
    while pos < end:
        tag, pos = varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0:
            raise ProtobufUnreadable(f"field number 0 at byte {pos}")
        if wire == 0:
            value, pos = varint(buf, pos, end)
            yield number, wire, value, pos
        elif wire == 1 or wire == 5:
            width = 8 if wire == 1 else 4
            if pos + width > end:
                raise ProtobufUnreadable(f"fixed field {number} runs past its message")
            yield number, wire, pos, pos + width
            pos += width
        elif wire == 2:
            length, pos = varint(buf, pos, end)
            if pos + length > end:
                raise ProtobufUnreadable(f"field {number} runs past its message at byte {pos}")
            yield number, wire, pos, pos + length
            pos += length
        else:
            raise ProtobufUnreadable(f"wire type {wire} at byte {pos}")


def message_fields(buf: Buffer, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Every field of one message, or ProtobufUnreadable."""
    return list(fields(buf, start, end))
