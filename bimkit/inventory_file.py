"""pyinfra inventory: the estate's hosts, grouped by role and by site.

    pyinfra inventory.py deploys/site.py --dry --diff     (in a checkout)
    bimkit deploy site --dry --diff                       (anywhere bimkit is installed)

pyinfra runs this file and takes every public module-level list as a group
of (host, data). The data comes from BIMKIT_DATA (else the folder holding
estate.yaml, found upwards from here). Broken data stops pyinfra here,
before any connection, with the full list of problems. Hosts are trusted
only by the SSH keys pinned in `known_hosts` beside the data (`bimkit
hostkeys scan`). With BIMKIT_LAB=1 the inventory is the lab's running machines.
"""

import os as _os
import sys as _sys
from pathlib import Path as _Path

from pyinfra.api.exceptions import InventoryError as _InventoryError

from bimkit.errors import BimkitError as _BimkitError
from bimkit.inventory import estate_inventory as _estate_inventory
from bimkit.inventory import unpinned_hosts as _unpinned_hosts
from bimkit.lab.state import lab_enabled as _lab_enabled
from bimkit.model.load import find_root as _find_root
from bimkit.model.load import load_estate as _load_estate

try:
    _root = _Path(_os.environ["BIMKIT_DATA"]) if _os.environ.get("BIMKIT_DATA") else _find_root()
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

globals().update(_groups)
