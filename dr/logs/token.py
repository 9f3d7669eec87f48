"""What an RFC 3161 time stamp reply says, read without openssl: its time and its imprint.

The signature and the certificate chain are openssl's to check
(dr.logs.timestamp); this reads the TSTInfo inside a reply so that a chain
of a thousand tokens needs one openssl process per token, not two.

    TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo }
    ContentInfo   ::= SEQUENCE { contentType OID, [0] EXPLICIT SignedData }
    SignedData    ::= SEQUENCE { version, digestAlgorithms SET,
                                 encapContentInfo SEQUENCE { eContentType, [0] EXPLICIT
                                 OCTET STRING (TSTInfo) }, ... }
    TSTInfo       ::= SEQUENCE { version, policy, messageImprint SEQUENCE { algorithm,
                                 hashedMessage OCTET STRING }, serialNumber, genTime, ... }
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dr.logs.der import (
    CONTEXT_0,
    GENERALIZED_TIME,
    INTEGER,
    OCTET_STRING,
    SEQUENCE,
    UTF8_STRING,
    DerInvalid,
    children,
    read,
)


class TokenUnreadable(ValueError):
    pass


@dataclass(frozen=True)
class TokenInfo:
    stamped_at: datetime.datetime
    """genTime, in UTC."""
    imprint: bytes
    """The digest the TSA signed (SHA-256 of the stamped file)."""
    serial: int


def read_reply(reply: bytes) -> TokenInfo:
    """The stamp time and imprint of a granted reply; TokenUnreadable for anything else."""
    try:
        tag, response, _ = read(reply)
        parts = children(response) if tag == SEQUENCE else []
        if len(parts) < 2:
            raise TokenUnreadable("not a time stamp reply with a token")
        status = children(parts[0][1])
        if not status or status[0][0] != INTEGER or int.from_bytes(status[0][1], "big") > 1:
            raise TokenUnreadable("the TSA did not grant it")
        content = children(parts[1][1])
        signed = _expect(content[1], CONTEXT_0)
        signed_data = children(_expect(children(signed)[0], SEQUENCE))
        encapsulated = children(_expect(signed_data[2], SEQUENCE))
        info_octets = _expect(children(_expect(encapsulated[1], CONTEXT_0))[0], OCTET_STRING)
        info = children(_expect(read(info_octets)[:2], SEQUENCE))
        imprint = children(_expect(info[2], SEQUENCE))
        return TokenInfo(
            stamped_at=_generalized_time(_expect(info[4], GENERALIZED_TIME)),
            imprint=_expect(imprint[1], OCTET_STRING),
            serial=int.from_bytes(_expect(info[3], INTEGER), "big"),
        )
    except (DerInvalid, IndexError, ValueError) as error:
        if isinstance(error, TokenUnreadable):
            raise
        raise TokenUnreadable(f"not a time stamp reply: {error}") from None


def _expect(element: tuple[int, bytes], tag: int) -> bytes:
    if element[0] != tag:
        raise TokenUnreadable(f"expected DER tag {tag:#04x}, found {element[0]:#04x}")
    return element[1]


def _generalized_time(value: bytes) -> datetime.datetime:
    """`YYYYMMDDHHMMSS[.fff]Z` (RFC 3161 requires UTC)."""
    text = value.decode("ascii")
    if not text.endswith("Z"):
        raise TokenUnreadable(f"genTime {text!r} is not in UTC")
    whole, _, fraction = text[:-1].partition(".")
    moment = datetime.datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=datetime.UTC)
    if not 2000 <= moment.year < 2200:
        raise TokenUnreadable(f"genTime {text!r} is no time a TSA stamped")
    return moment + datetime.timedelta(microseconds=int((fraction or "0")[:6].ljust(6, "0")))


def refusal(reply: bytes) -> str | None:
    """The words of a reply that grants nothing (PKIStatusInfo's statusString), if it has any."""
    try:
        _, response, _ = read(reply)
        status = children(children(response)[0][1])
        texts = children(status[1][1]) if len(status) > 1 and status[1][0] == SEQUENCE else []
        words = [value.decode("utf-8", "replace") for tag, value in texts if tag == UTF8_STRING]
    except (DerInvalid, IndexError):
        return None
    return "; ".join(words) or None
