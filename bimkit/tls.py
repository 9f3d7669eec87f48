"""The DR repository's TLS: a private CA and the DR host's certificate, derived from one secret.

Pure and deterministic. Ed25519 keys come from HKDF over the secret
`dr_ca_secret`, Ed25519 signatures are deterministic, and serial numbers
and validity are fixed, so every deploy renders byte-identical files: the
deploy stays idempotent and no generated key has to be stored anywhere.
Rotating the secret rotates the CA and every certificate with it.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from ipaddress import IPv4Address

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID

NOT_BEFORE = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC)
"""Fixed validity, so that certificates are reproducible; rotate by changing the secret."""


CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)


def _key(secret: str, purpose: str) -> Ed25519PrivateKey:
    seed = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=b"bimkit dr tls", info=purpose.encode()
    ).derive(secret.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def _serial(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("\0".join(parts).encode()).digest()[:16], "big") >> 1


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


@dataclass(frozen=True)
class ServerTls:
    key_pem: str
    certificate_pem: str
    ca_pem: str


def ca_certificate(secret: str, organisation: str) -> str:
    """The CA every backup client trusts for the DR repository (PEM)."""
    return _pem(_ca(secret, organisation))


def _ca(secret: str, organisation: str) -> x509.Certificate:
    key = _key(secret, "ca")
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} DR CA"),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(_serial("ca", organisation))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .sign(key, None)
    )


def server_tls(
    secret: str, organisation: str, host: str, fqdn: str, address: IPv4Address
) -> ServerTls:
    """A server's key and certificate (names: host, fqdn, address), signed by the CA.

    The DR repository and the log collector present one.
    """
    names: list[x509.GeneralName] = [
        x509.DNSName(fqdn),
        x509.DNSName(host),
        x509.IPAddress(address),
    ]
    return _leaf(secret, organisation, f"server {fqdn}", fqdn, names,
                 x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, (fqdn, str(address)))  # fmt: skip


def client_tls(secret: str, organisation: str, fqdn: str) -> ServerTls:
    """A host's client certificate (e.g. rsyslog forwarding to the collector), signed by the CA."""
    return _leaf(secret, organisation, f"client {fqdn}", fqdn, [x509.DNSName(fqdn)],
                 x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH, (fqdn,))  # fmt: skip


def _leaf(
    secret: str,
    organisation: str,
    purpose: str,
    common_name: str,
    names: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    serial_parts: tuple[str, ...],
) -> ServerTls:
    ca = _ca(secret, organisation)
    key = _key(secret, purpose)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(_serial(purpose.split()[0], *serial_parts))
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .sign(_key(secret, "ca"), None)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return ServerTls(key_pem, _pem(certificate), _pem(ca))


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class SshKey:
    private_pem: str
    """OpenSSH reads this PEM (Ed25519 keys it reads only in its own format, which holds
    random bytes: this key renders the same on every deploy)."""
    public: str
    """`ecdsa-sha2-nistp256 AAAA...`, for authorized_keys."""


def ssh_client_key(secret: str, purpose: str) -> SshKey:
    """An SSH client key (ECDSA P-256) for `purpose`, derived from the secret like the CA's."""
    seed = HKDF(
        algorithm=hashes.SHA256(), length=40, salt=b"bimkit ssh", info=purpose.encode()
    ).derive(secret.encode())
    key = ec.derive_private_key(int.from_bytes(seed, "big") % (P256_ORDER - 1) + 1,
                                ec.SECP256R1())  # fmt: skip
    private = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()  # fmt: skip
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()  # fmt: skip
    return SshKey(private, public)
