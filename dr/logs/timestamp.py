"""RFC 3161 time stamps: ask the TSA for a token on a record, and check one, with openssl.

`openssl ts` builds the query and checks a token against the TSA's certificate
chain at the moment it was stamped; the standard library posts the query. A
TSA that wants Kamu SM's `identity` header gets one made for this request
(dr.logs.kamusm) from a root-only file, so the password never appears in a
command line or a log.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from dr.config import TimeStampAuthority
from dr.errors import DrError
from dr.logs import kamusm
from dr.logs.token import TokenUnreadable, read_reply, refusal
from dr.process import CommandFailed, run

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TsaUnreachable(DrError):
    """The TSA did not answer with a token (network, HTTP status, or refusal)."""


class TokenInvalid(DrError):
    """A token does not match its record or does not chain to the TSA certificates."""


def query(path: Path) -> bytes:
    """A DER time stamp query for `path` (SHA-256, with a nonce, asking for the signer)."""
    return _openssl_bytes(
        ["openssl", "ts", "-query", "-data", str(path), "-sha256", "-cert"],
        context=f"time stamp query for {path}",
    )


def request_headers(authority: TimeStampAuthority, imprint: bytes) -> dict[str, str]:
    """HTTP headers of one query; with Kamu SM's, an identity made for this imprint."""
    headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
    if authority.identity_file:
        try:
            account = json.loads(Path(authority.identity_file).read_text())
            customer, password = int(account["customer_id"]), str(account["password"])
            header = kamusm.identity(customer, password, imprint)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise TsaUnreachable(
                f"TSA {authority.url}: cannot read its credentials in {authority.identity_file}"
                f" ({type(error).__name__})"
            ) from None
        headers[kamusm.HEADER] = header
    return headers


def fetch_token(authority: TimeStampAuthority, request: bytes, imprint: bytes) -> bytes:
    """POST the query; the reply's DER. Any failure is TsaUnreachable, naming the TSA."""
    post = urllib.request.Request(
        authority.url, data=request, headers=request_headers(authority, imprint), method="POST"
    )
    try:
        with urllib.request.urlopen(post, timeout=authority.timeout_seconds) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as error:
        said = readable_text(error.read() if error.fp else b"")
        raise TsaUnreachable(
            f"TSA {authority.url} answered HTTP {error.code}" + (f": {said}" if said else "")
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TsaUnreachable(f"TSA {authority.url} unreachable: {reason}") from None
    if not body:
        raise TsaUnreachable(f"TSA {authority.url} answered with an empty body")
    try:
        read_reply(body)
    except TokenUnreadable as error:
        # Kamu SM answers a refusal with HTTP 200 and words inside the ASN.1.
        said = refusal(body) or readable_text(body) or str(error)
        raise TsaUnreachable(f"TSA {authority.url} refused: {said}") from None
    return body


def readable_text(body: bytes) -> str:
    """The human words in a TSA's refusal (runs of printable ASCII), at most 200 characters."""
    runs = re.findall(rb"[ -~]{6,}", body)
    return " ".join(run.decode().strip() for run in runs)[:200]


def stamp(authority: TimeStampAuthority, path: Path) -> bytes:
    """A checked token on the file at `path`: it answers this query and chains to the CA."""
    with tempfile.TemporaryDirectory(prefix="bimkit-stamp-") as work:
        request, reply = Path(work) / "request.tsq", Path(work) / "reply.tsr"
        request.write_bytes(query(path))
        imprint = hashlib.sha256(path.read_bytes()).digest()
        reply.write_bytes(fetch_token(authority, request.read_bytes(), imprint))
        _verify(
            ["-queryfile", str(request), "-in", str(reply)], authority.ca_file, f"reply {reply}"
        )
        return reply.read_bytes()


def check_token(token: Path, data: Path, ca_file: str, at: datetime.datetime) -> None:
    """The token stamps exactly `data` and chained to the CA at `at` (when it was stamped):
    a TSA certificate that expired since, or a CA the data no longer names, fails nothing."""
    _verify(
        ["-data", str(data), "-in", str(token), "-attime", str(int(at.timestamp()))],
        ca_file,
        f"token {token}",
    )


def _verify(arguments: list[str], ca_file: str, what: str) -> None:
    try:
        run(["openssl", "ts", "-verify", *arguments, "-CAfile", ca_file], context=what)
    except CommandFailed as failed:
        reason = _openssl_reason(failed.output)
        raise TokenInvalid(f"{what} does not verify: {reason}") from None


def _openssl_reason(output: str) -> str:
    """openssl's own words, e.g. `message imprint mismatch`, without its error codes."""
    for line in output.splitlines():
        match = re.search(r"error:[0-9A-F]+:[^:]*:[^:]*:([^:]+)", line)
        if match:
            return match[1].strip()
    lines = [line for line in output.splitlines() if line.strip()]
    return lines[-1] if lines else "openssl gave no reason"


def _openssl_bytes(argv: list[str], context: str) -> bytes:
    with tempfile.TemporaryDirectory(prefix="bimkit-ts-") as folder:
        out = Path(folder) / "out"
        run([*argv, "-out", str(out)], context=context)
        return out.read_bytes()
