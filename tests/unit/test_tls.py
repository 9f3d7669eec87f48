"""bimkit.tls: the DR repository's CA and server certificate, derived from one secret."""

from __future__ import annotations

from ipaddress import IPv4Address

from cryptography import x509

from bimkit.tls import ca_certificate, server_tls

ORG = "Kayapınar Belediyesi"
DR1 = ("dr1", "dr1.ad.kayapinar.bel.tr", IPv4Address("10.21.33.20"))


def test_the_same_secret_gives_byte_identical_files_so_deploys_stay_idempotent() -> None:
    assert server_tls("s3cret", ORG, *DR1) == server_tls("s3cret", ORG, *DR1)
    assert ca_certificate("s3cret", ORG) == server_tls("s3cret", ORG, *DR1).ca_pem


def test_the_server_certificate_is_signed_by_the_ca_for_every_name_of_the_host() -> None:
    tls = server_tls("s3cret", ORG, *DR1)
    ca = x509.load_pem_x509_certificate(tls.ca_pem.encode())
    server = x509.load_pem_x509_certificate(tls.certificate_pem.encode())
    server.verify_directly_issued_by(ca)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["dr1.ad.kayapinar.bel.tr", "dr1"]
    assert names.get_values_for_type(x509.IPAddress) == [IPv4Address("10.21.33.20")]
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_another_secret_is_another_ca() -> None:
    assert ca_certificate("s3cret", ORG) != ca_certificate("other", ORG)
    assert server_tls("s3cret", ORG, *DR1).key_pem != server_tls("other", ORG, *DR1).key_pem
