"""pyinfra inventory of this checkout's estate: `pyinfra inventory.py deploys/site.py`.

The inventory itself is `bimkit/inventory_file.py`; this file points it at
the data beside it unless BIMKIT_DATA names another folder.
"""

import os as _os

_os.environ.setdefault("BIMKIT_DATA", _os.path.dirname(_os.path.abspath(__file__)))

from bimkit.inventory_file import *  # noqa: F403
