"""The log server (law 5651): the collector, the archive, its chain of seals and retention;
and, on the DR host, the add-only copy of that chain, made first.

pyinfra inventory.py deploys/log_servers.py [--limit log1]
"""

from pyinfra import host

from roles import dr_runtime, log_seal_store, log_server
from roles.operations import every_host_done

if host.data.get("seal_store") or host.data.get("log_archive"):
    dr_runtime.apply()  # bimkit-log-store and bimkit-logs come with the host runtime
if host.data.get("seal_store"):
    log_seal_store.apply()
# The log server seals at once when its configuration changes: the copy must be ready.
every_host_done(name="The DR host keeps the log chain's copy", what="the seal store")
if host.data.get("log_archive"):
    log_server.apply()
