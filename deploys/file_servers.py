"""File servers: the departments' shares on Samba member servers.

pyinfra inventory.py deploys/file_servers.py [--limit fs1]
"""

from pyinfra import host

from roles import file_server

if host.data.get("file_shares"):
    file_server.apply()
