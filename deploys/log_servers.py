"""The log server (law 5651): the collector, the archive, daily sealing and retention.

pyinfra inventory.py deploys/log_servers.py [--limit log1]
"""

from pyinfra import host

from roles import dr_runtime, log_server

if host.data.get("log_archive"):
    dr_runtime.apply()  # bimkit-logs comes with the host runtime
    log_server.apply()
