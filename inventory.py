"""pyinfra inventory: the estate's hosts, grouped by role and by site.

    pyinfra inventory.py deploys/site.py --dry --diff
    pyinfra inventory.py deploys/site.py --limit site_zabita

The data comes from estate.yaml, sites/ and directory/ beside this file (or
from the folder in BIMKIT_DATA). Broken data stops pyinfra here, before any
connection, with the full list of problems. Hosts are trusted only by the SSH
keys pinned in `known_hosts` beside the data (`bimkit hostkeys scan`). With
BIMKIT_LAB=1 the inventory is the lab's running machines (see `bimkit lab up`).
"""

import os as _os
import sys as _sys
from pathlib import Path as _Path

from pyinfra.api.exceptions import InventoryError as _InventoryError

from bimkit.errors import BimkitError as _BimkitError
from bimkit.inventory import estate_inventory as _estate_inventory
from bimkit.inventory import unpinned_hosts as _unpinned_hosts
from bimkit.lab.state import lab_enabled as _lab_enabled
from bimkit.model.load import load_estate as _load_estate

_root = _Path(_os.environ.get("BIMKIT_DATA") or _Path(__file__).resolve().parent)
try:
    _estate = _load_estate(_root)
    _groups = _estate_inventory(_estate)
except _BimkitError as _error:
    raise _InventoryError(str(_error)) from None

if not _lab_enabled() and (_unpinned := _unpinned_hosts(_estate)):
    print(
        f"bimkit: no pinned SSH host key for {', '.join(_unpinned)} in {_root / 'known_hosts'}; "
        f"pyinfra will refuse them until `bimkit hostkeys scan {' '.join(_unpinned)}`",
        file=_sys.stderr,
    )

# pyinfra reads every public module-level list as a group of (host, data).
globals().update(_groups)
