"""pyinfra inventory: the estate's hosts, grouped by role and by site.

    pyinfra inventory.py deploys/site.py --dry --diff
    pyinfra inventory.py deploys/site.py --limit site_zabita

The data comes from estate.yaml, sites/ and directory/ beside this file (or
from the folder in BIMKIT_DATA). Broken data stops pyinfra here, before any
connection, with the full list of problems. With BIMKIT_LAB=1 the inventory
is the lab's running machines (see `bimkit lab up`).
"""

import os as _os
from pathlib import Path as _Path

from pyinfra.api.exceptions import InventoryError as _InventoryError

from bimkit.errors import EstateInvalid as _EstateInvalid
from bimkit.inventory import plan_inventory as _plan_inventory
from bimkit.model.load import load_estate as _load_estate

_root = _Path(_os.environ.get("BIMKIT_DATA") or _Path(__file__).resolve().parent)
try:
    _estate = _load_estate(_root)
except _EstateInvalid as _error:
    raise _InventoryError(str(_error)) from None

_groups = _plan_inventory(_estate)
if _os.environ.get("BIMKIT_LAB"):
    # The built-in lab: only machines that are up, with the lab's key and apt proxy.
    from bimkit.lab.inventory import lab_groups as _lab_groups
    from bimkit.lab.state import LabPaths as _LabPaths

    _groups = _lab_groups(_groups, _LabPaths.from_env())

# pyinfra reads every public module-level list as a group of (host, data).
globals().update(_groups)
