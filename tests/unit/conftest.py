"""Unit-test fixtures: real RFC 3161 time stamp authorities on loopback.

Each is bimkit's lab responder (`openssl ts -reply` behind HTTP), as on the
lab's box; one may run its clock ahead or behind with libfaketime, another
check Kamu SM's identity header. Nothing is mocked: tokens are real and
`openssl ts -verify` checks them.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import HTTPServer
from pathlib import Path

import pytest

from bimkit.lab.tsa import Account, make_tsa, server
from dr.config import TimeStampAuthority


class Authorities:
    """Starts lab TSAs on loopback and stops them all at the end of the session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.servers: list[HTTPServer] = []

    def __call__(
        self,
        name: str = "tsa",
        clock: str | None = None,
        signer_lifetime: datetime.timedelta = datetime.timedelta(days=3650),
        account: Account | None = None,
    ) -> TimeStampAuthority:
        """A running TSA; the same `name` is the same CA and certificate.

        + clock: libfaketime's offset for the TSA's clock (`+3d`)
        """
        tsa = replace(make_tsa(self.folder / name, signer_lifetime=signer_lifetime), clock=clock)
        http = server(tsa, "127.0.0.1", 0, account=account)
        threading.Thread(target=http.serve_forever, daemon=True).start()
        self.servers.append(http)
        return TimeStampAuthority(
            f"http://127.0.0.1:{http.server_address[1]}/", str(tsa.ca_file), timeout_seconds=10
        )

    def close(self) -> None:
        for http in self.servers:
            http.shutdown()
            http.server_close()


@pytest.fixture(scope="session")
def authorities(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Authorities]:
    running = Authorities(tmp_path_factory.mktemp("tsas"))
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="session")
def authority(authorities: Authorities) -> TimeStampAuthority:
    """The usual TSA, on time."""
    return authorities()
