"""Kamu SM's identity header: a fixed vector computed here with `cryptography` alone, and the
lab's TSA refusing what Kamu SM would refuse."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from bimkit.lab.tsa import Account
from dr.config import TimeStampAuthority
from dr.logs import kamusm
from dr.logs.timestamp import TsaUnreachable, fetch_token, query, stamp
from tests.unit.conftest import Authorities

CUSTOMER, PASSWORD = 70001234, "Kamu-SM parolası 1"
SALT = bytes(range(16))
IMPRINT = hashlib.sha256(b"bimkit").digest()


def expected_identity() -> str:
    """The header built by hand from the published structure, sharing no code with bimkit."""
    key = PBKDF2HMAC(hashes.SHA256(), 32, SALT, 100).derive(PASSWORD.encode())
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(SALT)).encryptor()
    encrypted = encryptor.update(padder.update(IMPRINT) + padder.finalize()) + encryptor.finalize()
    assert len(encrypted) == 48  # 32 bytes of imprint and a whole block of padding
    body = (
        bytes([0x02, 0x04])
        + CUSTOMER.to_bytes(4, "big")  # INTEGER 70001234 (high bit clear)
        + bytes([0x04, 0x10])
        + SALT  # OCTET STRING salt
        + bytes([0x02, 0x01, 100])  # INTEGER 100
        + bytes([0x04, 0x10])
        + SALT  # OCTET STRING iv
        + bytes([0x04, 0x30])
        + encrypted  # OCTET STRING encrypted
    )
    der = bytes([0x30, len(body)]) + body
    return der.hex().lstrip("0")  # the big integer in hex: no leading zeros


def test_the_header_matches_the_vector_computed_independently() -> None:
    header = kamusm.identity(CUSTOMER, PASSWORD, IMPRINT, salt=SALT)
    assert header == expected_identity()
    assert header.startswith("30") and header == header.lower()


def test_a_header_opens_only_with_the_password_and_names_its_imprint() -> None:
    header = kamusm.identity(CUSTOMER, PASSWORD, IMPRINT)
    assert kamusm.identity_imprint(header, PASSWORD) == (CUSTOMER, IMPRINT)
    assert kamusm.identity(CUSTOMER, PASSWORD, IMPRINT) != header  # a new salt every request
    try:
        _, opened = kamusm.identity_imprint(header, "wrong password")
    except kamusm.IdentityInvalid:
        return
    assert opened != IMPRINT  # padding may happen to fit, the imprint cannot
    with pytest.raises(kamusm.IdentityInvalid):
        kamusm.identity_imprint("not hex", PASSWORD)


@pytest.fixture(scope="module")
def kamu_sm(authorities: Authorities) -> TimeStampAuthority:
    return authorities("kamusm", account=Account(CUSTOMER, PASSWORD))


def with_account(authority: TimeStampAuthority, folder: Path, password: str) -> TimeStampAuthority:
    credentials = folder / "tsa-identity.json"
    credentials.write_text(json.dumps({"customer_id": CUSTOMER, "password": password}))
    return TimeStampAuthority(authority.url, authority.ca_file, str(credentials), 10)


def test_the_lab_tsa_stamps_only_a_request_with_its_own_identity(
    kamu_sm: TimeStampAuthority, tmp_path: Path
) -> None:
    record = tmp_path / "record.txt"
    record.write_text("day: 2026-12-06\n")
    assert stamp(with_account(kamu_sm, tmp_path, PASSWORD), record)  # a checked token
    with pytest.raises(TsaUnreachable, match="refused: identity header missing"):
        stamp(kamu_sm, record)
    with pytest.raises(TsaUnreachable, match="refused: identity refused"):
        stamp(with_account(kamu_sm, tmp_path, "wrong password"), record)
    other = hashlib.sha256(b"another record").digest()
    with pytest.raises(TsaUnreachable, match="refused: identity refused: made for another request"):
        fetch_token(with_account(kamu_sm, tmp_path, PASSWORD), query(record), other)
