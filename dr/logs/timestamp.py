"""RFC 3161 time stamps: ask the TSA for a token on a manifest, and check one, with openssl.

`openssl ts` builds the query and checks the token against the TSA's certificate
chain; the standard library posts the query. A TSA that needs its own
authentication header (TÜBİTAK Kamu SM: `identity`) gets it from a root-only
file, so the value never appears in a command line or a log.
"""

from __future__ import annotations

import re
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from dr.config import TimeStampAuthority
from dr.errors import DrError
from dr.process import CommandFailed, run

QUERY_TYPE = "application/timestamp-query"
REPLY_TYPE = "application/timestamp-reply"


class TsaUnreachable(DrError):
    """The TSA did not answer with a token (network, HTTP status, or refusal)."""


class TokenInvalid(DrError):
    """A token does not match its manifest or does not chain to the trusted TSA certificate."""


def query(manifest: Path) -> bytes:
    """A DER time stamp query for `manifest` (SHA-256, with a nonce, asking for the signer)."""
    result = _openssl_bytes(
        ["openssl", "ts", "-query", "-data", str(manifest), "-sha256", "-cert"],
        context=f"time stamp query for {manifest}",
    )
    return result


def fetch_token(authority: TimeStampAuthority, request: bytes) -> bytes:
    """POST the query; the reply's DER. Any failure is TsaUnreachable, naming the TSA."""
    headers = {"Content-Type": QUERY_TYPE, "Accept": REPLY_TYPE}
    if authority.header_name and authority.header_file:
        headers[authority.header_name] = Path(authority.header_file).read_text().strip()
    post = urllib.request.Request(authority.url, data=request, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(post, timeout=authority.timeout_seconds) as response:
            body: bytes = response.read()
    except urllib.error.HTTPError as error:
        raise TsaUnreachable(f"TSA {authority.url} answered HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise TsaUnreachable(f"TSA {authority.url} unreachable: {reason}") from None
    if not body:
        raise TsaUnreachable(f"TSA {authority.url} answered with an empty body")
    return body


def check_reply(reply: Path, request: Path, ca_file: str) -> None:
    """A fresh reply answers our query (imprint and nonce) and chains to the CA."""
    _verify(["-queryfile", str(request), "-in", str(reply)], ca_file, f"reply {reply}")


def check_token(token: Path, manifest: Path, ca_file: str) -> None:
    """The token stamps exactly this manifest and chains to the CA."""
    _verify(["-data", str(manifest), "-in", str(token)], ca_file, f"token {token}")


def stamped_at(token: Path) -> str:
    """The time the TSA put in the token, as openssl prints it (e.g. `Dec  4 00:15:02 2026 GMT`)."""
    text = run(["openssl", "ts", "-reply", "-in", str(token), "-text"],
               context=f"reading {token}").stdout  # fmt: skip
    match = re.search(r"^Time stamp: (.+)$", text, re.MULTILINE)
    if match is None:
        raise TokenInvalid(f"{token}: no time stamp in the token")
    return match[1].strip()


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
