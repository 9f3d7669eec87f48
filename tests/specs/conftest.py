"""testinfra specs: the state a deploy promises, checked on real hosts or lab machines.

    pytest tests/specs --hosts=ssh://root@10.21.17.10             # a real host
    pytest tests/specs --ssh-config=/var/lib/bimkit/lab/ssh/config --hosts=ssh://dc1,ssh://fs1

Expected values come from the same estate data (and, with BIMKIT_LAB set,
the same lab overrides) that the deploy used, so a spec can fail only when a
host differs from what bimkit said it would be.
"""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import pytest

from bimkit.inventory import plan_inventory
from bimkit.model.load import find_root, load_estate


@cache
def _inventory_data() -> dict[str, dict[str, Any]]:
    groups = plan_inventory(load_estate(find_root()))
    if os.environ.get("BIMKIT_LAB"):
        from bimkit.lab.inventory import lab_groups
        from bimkit.lab.state import LabPaths

        groups = lab_groups(groups, LabPaths.from_env())
    return {name: data for entries in groups.values() for name, data in entries}


@pytest.fixture
def estate_host(host: Any) -> tuple[str, dict[str, Any]]:
    """The estate's name and inventory data for the host under test (found by its hostname)."""
    name = host.check_output("hostname")
    data = _inventory_data()
    if name not in data:
        pytest.fail(f"host `{name}` is not in the estate (or not up in the lab)")
    return name, data[name]
