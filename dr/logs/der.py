"""Just enough DER (X.690) to write Kamu SM's identity header and to read a time stamp token."""

from __future__ import annotations

INTEGER, OCTET_STRING, OID, UTF8_STRING, GENERALIZED_TIME = 0x02, 0x04, 0x06, 0x0C, 0x18
SEQUENCE, SET = 0x30, 0x31
CONTEXT_0 = 0xA0


class DerInvalid(ValueError):
    pass


def read(data: bytes) -> tuple[int, bytes, bytes]:
    """(tag, value, what follows) of the first element of `data`."""
    if len(data) < 2:
        raise DerInvalid("truncated DER")
    tag, size, offset = data[0], data[1], 2
    if size & 0x80:
        count = size & 0x7F
        if not 0 < count <= 4 or len(data) < 2 + count:
            raise DerInvalid("bad DER length")
        size, offset = int.from_bytes(data[2 : 2 + count], "big"), 2 + count
    if offset + size > len(data):
        raise DerInvalid("truncated DER")
    return tag, data[offset : offset + size], data[offset + size :]


def children(value: bytes) -> list[tuple[int, bytes]]:
    """The elements inside a constructed value, as (tag, value)."""
    found = []
    while value:
        tag, inner, value = read(value)
        found.append((tag, inner))
    return found


def _length(size: int) -> bytes:
    if size < 0x80:
        return bytes([size])
    octets_ = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(octets_)]) + octets_


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def integer(value: int) -> bytes:
    """A non-negative INTEGER: a leading zero byte keeps a set high bit positive."""
    return tlv(INTEGER, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def octets(value: bytes) -> bytes:
    return tlv(OCTET_STRING, value)


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))
