"""The lab's time stamp authority: a real RFC 3161 responder (`openssl ts -reply`) over HTTP.

Production seals each day with the TSA named in the data (TÜBİTAK Kamu SM);
the lab and the tests cannot reach it, so bimkit makes a lab CA and a TSA
certificate (extendedKeyUsage critical timeStamping) and answers queries with
openssl itself:

    python -m bimkit.lab.tsa serve FOLDER --address 10.21.17.1 --port 3180

`bimkit lab up` starts it on the central site's server gateway (`ensure_running`);
`bimkit lab down` stops it. Its CA stays in the lab's folder, so tokens made
in one lab stay verifiable after the next `lab up`.

When the estate asks for TÜBİTAK Kamu SM's `identity` header, the lab's TSA
checks it as Kamu SM would (dr.logs.kamusm): a request without it, with a
wrong password or customer number, or with a header made for another imprint
is refused with an RFC 3161 rejection (status 2 and the reason in words),
not a token.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bimkit.lab.daemon import Daemon
from bimkit.lab.state import LabPaths
from dr.logs import kamusm
from dr.logs.der import UTF8_STRING, DerInvalid, children, integer, read, sequence, tlv

PORT = 3180

TSA_CONFIG = """\
[ tsa ]
default_tsa = lab
[ lab ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.5651.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


@dataclass(frozen=True)
class LabTsa:
    folder: Path
    clock: str | None = None
    """libfaketime's offset for the TSA's clock (`+3d`, `-36h`): tests make tokens stamped
    late, or while a certificate that has since expired was valid. None: the real clock."""

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def config_file(self) -> Path:
        return self.folder / "tsa.cnf"


def make_tsa(
    folder: Path,
    organisation: str = "bimkit lab",
    signer_lifetime: datetime.timedelta = datetime.timedelta(days=3650),
) -> LabTsa:
    """A CA and a TSA certificate in `folder` (kept when present: tokens stay verifiable).

    + signer_lifetime: how long the TSA's own certificate stays valid (a test makes one
      expire within seconds)
    """
    tsa = LabTsa(folder)
    if tsa.config_file.exists():
        return tsa
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    signer_until = datetime.datetime.now(datetime.UTC) + signer_lifetime
    ca_key, tsa_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca_name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} TSA CA"),
        ]
    )
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    signer = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{organisation} TSA")]))
        .issuer_name(ca_name).public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(signer_until)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (folder / "tsa.key").write_bytes(tsa_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))  # fmt: skip
    (folder / "tsa.key").chmod(0o600)
    (folder / "tsa.pem").write_bytes(signer.public_bytes(pem))
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "serial").write_text("01\n")
    tsa.config_file.write_text(TSA_CONFIG.format(folder=folder))
    return tsa


def reply(tsa: LabTsa, query: bytes) -> bytes:
    """openssl's DER reply to a DER query."""
    with tempfile.TemporaryDirectory(prefix="bimkit-tsa-") as work:
        request, response = Path(work) / "q.tsq", Path(work) / "r.tsr"
        request.write_bytes(query)
        clock = ["faketime", "-f", tsa.clock] if tsa.clock else []
        subprocess.run(
            [*clock, "openssl", "ts", "-reply", "-config", str(tsa.config_file),
             "-queryfile", str(request), "-out", str(response)],
            check=True, capture_output=True,
        )  # fmt: skip
        return response.read_bytes()


def rejection(reason: str) -> bytes:
    """An RFC 3161 reply that grants nothing: PKIStatus rejection (2) and the reason."""
    return sequence(sequence(integer(2), sequence(tlv(UTF8_STRING, reason.encode()))))


def query_imprint(query: bytes) -> bytes:
    """The hashedMessage of a DER TimeStampReq (RFC 3161: version, messageImprint, ...)."""
    _, body, _ = read(query)
    imprint = children(children(body)[1][1])
    return imprint[1][1]


@dataclass(frozen=True)
class Account:
    """Kamu SM's customer number and password, as the lab's TSA checks them."""

    customer_id: int
    password: str


def identity_refusal(account: Account, header: str | None, query: bytes) -> str | None:
    """Why Kamu SM would refuse this request, or None when the identity holds."""
    if not header:
        return "identity header missing"
    try:
        customer, imprint = kamusm.identity_imprint(header, account.password)
        wanted = query_imprint(query)
    except (kamusm.IdentityInvalid, DerInvalid, IndexError) as error:
        return f"identity refused: {error}"
    if customer != account.customer_id:
        return f"identity refused: unknown customer {customer}"
    if imprint != wanted:
        return "identity refused: made for another request"
    return None


def handler_for(
    tsa: LabTsa, verbose: bool, account: Account | None = None
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            refused = (identity_refusal(account, self.headers.get(kamusm.HEADER), query)
                       if account else None)  # fmt: skip
            try:
                body, status = (rejection(refused), 200) if refused else (reply(tsa, query), 200)
            except subprocess.CalledProcessError as error:
                body, status = error.stderr or b"bad query", 400
            if refused and verbose:
                sys.stderr.write(f"bimkit-lab-tsa: {self.client_address[0]} refused: {refused}\n")
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            if verbose:
                sys.stderr.write(f"bimkit-lab-tsa: {self.client_address[0]} {format % args}\n")

    return Handler


def server(
    tsa: LabTsa, address: str, port: int, verbose: bool = False, account: Account | None = None
) -> http.server.HTTPServer:
    """The responder; `verbose` logs every request (the lab's, to its log file); with an
    `account`, only requests with Kamu SM's identity header for it are answered."""
    return http.server.HTTPServer((address, port), handler_for(tsa, verbose, account))


def daemon(paths: LabPaths) -> Daemon:
    return Daemon("tsa", paths.root / "tsa-run", b"bimkit.lab.tsa")


def tsa_folder(paths: LabPaths) -> Path:
    return paths.root / "tsa"


def url(address: str) -> str:
    return f"http://{address}:{PORT}/"


def lab_account(paths: LabPaths) -> Account | None:
    """Kamu SM's account as the lab's secrets hold it (`lab up` makes them), if they do."""
    customer, password = (paths.secrets / name for name in ("tsa_customer_id", "tsa_password"))
    if not (customer.exists() and password.exists()):
        return None
    return Account(int(customer.read_text().strip()), password.read_text().strip())


def ensure_running(paths: LabPaths, address: str, account: Account | None = None) -> LabTsa:
    """The lab TSA answering on `address` (restarted when it listens elsewhere or its
    account changed); with an `account`, it checks Kamu SM's identity header."""
    tsa = make_tsa(tsa_folder(paths))
    server_ = daemon(paths)
    argv = [sys.executable, "-m", "bimkit.lab.tsa", "serve", str(tsa.folder), "--address", address]
    if account is not None:
        credentials = tsa.folder / "account.json"
        text = json.dumps({"customer_id": account.customer_id, "password": account.password})
        if not credentials.exists() or credentials.read_text() != text:
            descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(text)
        argv += ["--account", str(credentials)]
    if server_.ensure(argv):
        server_.wait_listening(address, PORT)
    return tsa


def stop(paths: LabPaths) -> None:
    daemon(paths).stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bimkit.lab.tsa")
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--account", type=Path, help="JSON: Kamu SM's customer_id, password")
    arguments = parser.parse_args(argv)
    account = None
    if arguments.account:
        found = json.loads(arguments.account.read_text())
        account = Account(int(found["customer_id"]), str(found["password"]))
    server(make_tsa(arguments.folder), arguments.address, arguments.port, True,
           account).serve_forever()  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
