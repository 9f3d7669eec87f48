"""The lab's time stamp authority: a real RFC 3161 responder (`openssl ts -reply`) over HTTP.

Production seals each day with the TSA named in the data (TÜBİTAK Kamu SM);
the lab and the tests cannot reach it, so bimkit makes a lab CA and a TSA
certificate (extendedKeyUsage critical timeStamping) and answers queries with
openssl itself:

    python -m bimkit.lab.tsa serve FOLDER --address 10.21.17.1 --port 3180

`bimkit lab up` starts it on the central site's server gateway (`ensure_running`);
`bimkit lab down` stops it. Its CA stays in the lab's folder, so tokens made
in one lab stay verifiable after the next `lab up`.
"""

from __future__ import annotations

import argparse
import datetime
import http.server
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

    @property
    def ca_file(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def config_file(self) -> Path:
        return self.folder / "tsa.cnf"


def make_tsa(folder: Path, organisation: str = "bimkit lab") -> LabTsa:
    """A CA and a TSA certificate in `folder` (kept when present: tokens stay verifiable)."""
    tsa = LabTsa(folder)
    if tsa.config_file.exists():
        return tsa
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
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
        .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
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
        subprocess.run(
            ["openssl", "ts", "-reply", "-config", str(tsa.config_file),
             "-queryfile", str(request), "-out", str(response)],
            check=True, capture_output=True,
        )  # fmt: skip
        return response.read_bytes()


def handler_for(tsa: LabTsa, verbose: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body, status = reply(tsa, query), 200
            except subprocess.CalledProcessError as error:
                body, status = error.stderr or b"bad query", 400
            self.send_response(status)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            if verbose:
                sys.stderr.write(f"bimkit-lab-tsa: {self.client_address[0]} {format % args}\n")

    return Handler


def server(tsa: LabTsa, address: str, port: int, verbose: bool = False) -> http.server.HTTPServer:
    """The responder; `verbose` logs every request (the lab's, to its log file)."""
    return http.server.HTTPServer((address, port), handler_for(tsa, verbose))


def daemon(paths: LabPaths) -> Daemon:
    return Daemon("tsa", paths.root / "tsa-run", b"bimkit.lab.tsa")


def tsa_folder(paths: LabPaths) -> Path:
    return paths.root / "tsa"


def url(address: str) -> str:
    return f"http://{address}:{PORT}/"


def ensure_running(paths: LabPaths, address: str) -> LabTsa:
    """The lab TSA answering on `address` (restarted when it listens elsewhere)."""
    tsa = make_tsa(tsa_folder(paths))
    server_ = daemon(paths)
    argv = [sys.executable, "-m", "bimkit.lab.tsa", "serve", str(tsa.folder), "--address", address]
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
    arguments = parser.parse_args(argv)
    server(make_tsa(arguments.folder), arguments.address, arguments.port, True).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
