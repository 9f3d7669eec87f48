"""bimkit's host runtime: what backup agents, the DR host and restore drills run.

Installed on those hosts as one package (`roles/dr_runtime`), versioned and
replaced as a whole, with its commands as entry points. It imports nothing
from `bimkit` (the control side) and only what Debian 13's python3 packages
provide. The JSON files it reads in /etc/bimkit are defined once, in
`dr.config`: the control side builds them, the hosts load them.
"""

__version__ = "0.2.0"

ENTRY_POINTS = {
    "bimkit-backup": "dr.backup:main",
    "bimkit-backup-notify": "dr.notify:main",
    "bimkit-manifest": "dr.manifest:main",
    "bimkit-dr": "dr.jobs:main",
    "bimkit-drill": "dr.drill.runner:main",
    "bimkit-logs": "dr.logs.cli:main",
    "bimkit-pbx-counts": "dr.asterisk:main",
    "bimkit-log-store": "dr.logs.store:main",
}
"""Command -> `module:function`, installed in /usr/local/sbin on the hosts."""
