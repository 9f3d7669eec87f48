"""TÜBİTAK Kamu SM's `identity` header, made anew for every time stamp request.

Kamu SM's TSA answers only requests that carry this header. It follows a
public description of the protocol (the kamusm-zd-rs project, whose author
checked it against Kamu SM's own Java client); bimkit has not met Kamu SM
itself. The header is the hexadecimal form of one big integer, the DER
encoding of

    SEQUENCE {
      userid          INTEGER        the customer number
      salt            OCTET STRING   16 random bytes, new for every request
      iterationCount  INTEGER        100
      iv              OCTET STRING   the same 16 bytes
      encrypted       OCTET STRING   AES-256-CBC (PKCS#7 padding) of the request's
                                     message imprint (its SHA-256 digest), under the key
                                     PBKDF2-HMAC-SHA256(password, salt, iterationCount, 32)
    }

so a header proves the password without carrying it, and is good for one
imprint only. The lab's TSA checks it the same way (`identity_imprint`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from dr.logs.der import (
    INTEGER,
    OCTET_STRING,
    SEQUENCE,
    DerInvalid,
    integer,
    octets,
    read,
    sequence,
)

HEADER = "identity"
ITERATIONS = 100
SALT_BYTES = 16


class IdentityInvalid(ValueError):
    """A header that is not Kamu SM's identity structure, or does not open with the password."""


def identity(customer_id: int, password: str, imprint: bytes, salt: bytes | None = None) -> str:
    """The header's value for a request whose message imprint is `imprint`.

    + salt: 16 bytes; random unless given (a test's fixed vector)
    """
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    if not 0 < customer_id < 2**63:
        raise ValueError("the customer number must be a positive number")
    if len(salt) != SALT_BYTES:
        raise ValueError(f"the salt must be {SALT_BYTES} bytes")
    encryptor = _cipher(password, salt, ITERATIONS).encryptor()
    padder = padding.PKCS7(128).padder()
    encrypted = encryptor.update(padder.update(imprint) + padder.finalize()) + encryptor.finalize()
    der = sequence(
        integer(customer_id), octets(salt), integer(ITERATIONS), octets(salt), octets(encrypted)
    )
    return format(int.from_bytes(der, "big"), "x")


@dataclass(frozen=True)
class Identity:
    customer_id: int
    salt: bytes
    iterations: int
    iv: bytes
    encrypted: bytes


def parse_identity(header: str) -> Identity:
    """The structure inside a header; IdentityInvalid when it is not one."""
    text = header.strip()
    if not re.fullmatch(r"[0-9a-fA-F]{1,4096}", text):
        raise IdentityInvalid("not a hexadecimal number")
    number = int(text, 16)
    der = number.to_bytes((number.bit_length() + 7) // 8, "big")
    try:
        tag, body, rest = read(der)
        if tag != SEQUENCE or rest:
            raise IdentityInvalid("not one DER SEQUENCE")
        fields = []
        while body:
            tag, value, body = read(body)
            fields.append((tag, value))
    except DerInvalid as error:
        raise IdentityInvalid(str(error)) from None
    if [tag for tag, _ in fields] != [INTEGER, OCTET_STRING, INTEGER, OCTET_STRING, OCTET_STRING]:
        raise IdentityInvalid(
            "not SEQUENCE {INTEGER, OCTET STRING, INTEGER, OCTET STRING, OCTET STRING}"
        )
    (_, userid), (_, salt), (_, count), (_, iv), (_, encrypted) = fields
    return Identity(
        int.from_bytes(userid, "big"), salt, int.from_bytes(count, "big"), iv, encrypted
    )


def identity_imprint(header: str, password: str) -> tuple[int, bytes]:
    """(customer number, the imprint it was made for): what the TSA checks against the request.

    IdentityInvalid when the header is malformed or the password does not open it.
    """
    found = parse_identity(header)
    if len(found.salt) != SALT_BYTES or found.iv != found.salt:
        raise IdentityInvalid("salt and iv must be the same 16 bytes")
    if not 0 < found.iterations <= 100_000:
        raise IdentityInvalid(f"iteration count {found.iterations} is out of range")
    decryptor = _cipher(password, found.salt, found.iterations).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    try:
        padded = decryptor.update(found.encrypted) + decryptor.finalize()
        imprint = unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise IdentityInvalid("the password does not open it") from None
    return found.customer_id, imprint


def _cipher(password: str, salt: bytes, iterations: int) -> Cipher[modes.CBC]:
    key = PBKDF2HMAC(hashes.SHA256(), 32, salt, iterations).derive(password.encode())
    return Cipher(algorithms.AES(key), modes.CBC(salt))
