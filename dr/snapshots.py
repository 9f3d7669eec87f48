"""A restic repository's snapshot list, read from its files with its master key.

restic opens a repository by deriving a key from the password (scrypt, tuned
to about half a second of CPU) to unlock the master key. On the DR host,
where the rest-server keeps every repository as local files, `bimkit-dr
status` gets each master key once (`restic cat masterkey`), keeps it in a
root-only file (the repository passwords beside it unlock the same data), and
then reads snapshot files itself, as restic's design document describes
them: the file's name is the SHA-256 of its content; the content is a
16-byte IV, AES-256-CTR ciphertext and a Poly1305-AES MAC; the plaintext is
JSON, zstd-compressed behind a version byte 2 in repository format 2.

Standard library plus python3-cryptography and python3-zstandard, so the
DR role installs this file as it is beside bimkit's restic runner.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from typing import Any

import zstandard
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.poly1305 import Poly1305

IV_BYTES = MAC_BYTES = 16
COMPRESSED = 2
"""Version byte before zstd-compressed JSON (repository format 2)."""


class Unreadable(Exception):
    """A snapshot file that does not decrypt or parse; the message names the file."""


@dataclass(frozen=True)
class MasterKey:
    encrypt: bytes
    """AES-256 key."""
    mac_k: bytes
    """AES-128 key that turns each IV into Poly1305's `s`."""
    mac_r: bytes
    """Poly1305's `r` (clamped by Poly1305 itself)."""

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> MasterKey:
        """From `restic cat masterkey`: {"mac": {"k": .., "r": ..}, "encrypt": ..}, base64."""
        return cls(
            base64.b64decode(document["encrypt"]),
            base64.b64decode(document["mac"]["k"]),
            base64.b64decode(document["mac"]["r"]),
        )

    def decrypt(self, blob: bytes) -> bytes:
        """IV + ciphertext + MAC -> plaintext; ValueError when the MAC does not match."""
        if len(blob) < IV_BYTES + MAC_BYTES:
            raise ValueError("shorter than an IV and a MAC")
        iv, ciphertext, tag = blob[:IV_BYTES], blob[IV_BYTES:-MAC_BYTES], blob[-MAC_BYTES:]
        encryptor = Cipher(algorithms.AES(self.mac_k), modes.ECB()).encryptor()
        s = encryptor.update(iv) + encryptor.finalize()
        try:
            Poly1305.verify_tag(self.mac_r + s, ciphertext, tag)
        except InvalidSignature:
            raise ValueError("MAC does not match (wrong key or damaged file)") from None
        decryptor = Cipher(algorithms.AES(self.encrypt), modes.CTR(iv)).decryptor()
        return decryptor.update(ciphertext) + decryptor.finalize()


def unpacked(plaintext: bytes) -> bytes:
    """The JSON of an unpacked file: as it is, or behind version byte 2, zstd-compressed."""
    if plaintext[:1] in (b"{", b"["):
        return plaintext
    if plaintext[:1] == bytes([COMPRESSED]):
        return zstandard.ZstdDecompressor().decompressobj().decompress(plaintext[1:])
    raise ValueError(f"unknown encoding byte {plaintext[:1]!r}")


def read_snapshot(path: str, key: MasterKey) -> dict[str, Any]:
    """One snapshot, with `id` and `short_id` as `restic snapshots --json` prints them."""
    name = os.path.basename(path)
    with open(path, "rb") as handle:
        blob = handle.read()
    if hashlib.sha256(blob).hexdigest() != name:
        raise Unreadable(f"{path}: content does not match its name (damaged file)")
    try:
        snapshot = json.loads(unpacked(key.decrypt(blob)))
    except ValueError as error:  # includes JSONDecodeError and zstd errors
        raise Unreadable(f"{path}: {error}") from None
    return {**snapshot, "id": name, "short_id": name[:8]}


def snapshots(repository: str, key: MasterKey) -> list[dict[str, Any]]:
    """Every snapshot in the repository folder, oldest first as restic lists them."""
    folder = os.path.join(repository, "snapshots")
    found = [read_snapshot(os.path.join(folder, name), key) for name in os.listdir(folder)]
    return sorted(found, key=lambda snapshot: (snapshot["time"], snapshot["id"]))
