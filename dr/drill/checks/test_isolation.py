"""Every drill's first check, whatever the procedure: the sandbox cannot reach production.

testinfra's `host` is the sandbox (`--hosts=local://`); /drill/run/params.json
lists the production addresses (the DCs, the protected hosts, the DR host).
A restored DC or PBX that could reach them would answer, register or
replicate as if it were the real one.
"""

from __future__ import annotations

import json

import pytest

with open("/drill/run/params.json", encoding="utf-8") as params:
    PARAMS = json.load(params)

PROBE = """
import socket, sys
try:
    socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
except OSError as error:
    print(error)
    sys.exit(0)
sys.exit(1)
"""


@pytest.mark.parametrize("address", PARAMS["production_addresses"])
def test_isolation(host, address):
    """No way to any production address: the network is unreachable, not merely closed."""
    result = host.run("python3 -c %s %s 22", PROBE, address)
    assert result.rc == 0, f"the sandbox reached {address}:22"
    assert "unreachable" in result.stdout.lower(), result.stdout
