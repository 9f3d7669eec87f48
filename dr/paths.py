"""Where the host runtime and its configuration live on hosts: one place for both sides.

Roles install and write these; the CLI names them over SSH; the tools read them.
"""

from __future__ import annotations

CONFIG_DIR = "/etc/bimkit"
BACKUP_CONFIG = f"{CONFIG_DIR}/backup.json"
"""A protected host's services, hooks and repository (dr.config.BackupConfig)."""
DR_CONFIG = f"{CONFIG_DIR}/dr.json"
"""The DR host's repositories and policies (dr.config.DrConfig)."""
DRILL_CONFIG = f"{CONFIG_DIR}/drill.json"
"""The DR host's restore drills (dr.config.DrillConfig)."""
LOGS_CONFIG = f"{CONFIG_DIR}/logs.json"
"""The log server's archive, TSA and retention (dr.config.LogsConfig)."""

LIBRARY = "/usr/local/lib/bimkit"
"""Installed versions of the package (`<LIBRARY>/versions/<version>/dr`) and `current`."""
CURRENT = f"{LIBRARY}/current"
BIN = "/usr/local/sbin"
AGENT = f"{BIN}/bimkit-backup"
NOTIFIER = f"{BIN}/bimkit-backup-notify"
MANIFEST_TOOL = f"{BIN}/bimkit-manifest"
DR_TOOL = f"{BIN}/bimkit-dr"
DRILL_TOOL = f"{BIN}/bimkit-drill"
LOGS_TOOL = f"{BIN}/bimkit-logs"
PBX_COUNTS_TOOL = f"{BIN}/bimkit-pbx-counts"
LOG_STORE_TOOL = f"{BIN}/bimkit-log-store"
DRILL_CHECKS = f"{CURRENT}/dr/drill/checks"
"""The restore drill's testinfra checks, mounted read-only into each sandbox."""

# A protected host (roles/backup_agent)
PASSWORD_FILE = f"{CONFIG_DIR}/restic/password"
"""The host's repository password (encrypts its backups), root only."""
REPOSITORY_FILE = f"{CONFIG_DIR}/restic/repository"
"""The repository URL with the host's append-only credential (RESTIC_REPOSITORY_FILE)."""
S3_CREDENTIALS_FILE = f"{CONFIG_DIR}/restic/s3-credentials"
"""With S3: the host's own access key, or on the DR host the jobs' (AWS_SHARED_CREDENTIALS_FILE)."""
CA_CERTIFICATE = f"{CONFIG_DIR}/dr-ca.pem"
"""The DR CA: every host verifies the DR repository's TLS certificate with it."""
CACHE_DIR = "/var/cache/bimkit/restic"
METRICS_DIR = "/var/lib/prometheus/node-exporter"
"""node_exporter's textfile collector directory on Debian."""
MANIFESTS_DIR = "/var/lib/bimkit/manifests"
"""Checksum manifests written before each backup of a service that drills verify."""

# The DR host (roles/dr_repository, roles/dr_drill)
REPOSITORIES_DIR = "/srv/restic"
"""One restic repository per protected host on the rest-server: <dir>/<host>."""
CREDENTIALS_DIR = f"{CONFIG_DIR}/restic"
"""Per protected host: <host>.password and <host>.repository (admin URL), root only."""
DR_CACHE = "/var/cache/bimkit/restic-admin"
DRILL_WORK_DIR = "/var/lib/bimkit/drill"
DRILL_REPORTS_DIR = "/var/lib/bimkit/drills"
IMAGE_CACHE = "/var/cache/bimkit"

# The log server (roles/log_server)
LOG_ARCHIVE = "/var/log/remote"
"""Everything the collector writes: <archive>/<YYYY-MM-DD>/<source>.log, sealed by day."""
TSA_CA_FILE = f"{CONFIG_DIR}/tsa-ca.pem"
TSA_IDENTITY_FILE = f"{CONFIG_DIR}/tsa-identity.json"
"""Kamu SM's customer number and password, root only (dr.config.TimeStampAuthority)."""
SEAL_STORE_KEY = f"{CONFIG_DIR}/seal-store/id_ecdsa"
"""The log server's key for its chain's copy on the DR host, root only."""
SEAL_STORE_KNOWN_HOSTS = f"{CONFIG_DIR}/seal-store/known_hosts"
"""The DR host's pinned SSH host keys, as the log server checks them."""

# The DR host keeps each log server's chain (roles/log_seal_store)
SEAL_STORES = "/srv/log-seals"
"""<dir>/<log server>/: the chain as the log server sent it; it may add, never change."""
SEAL_STORE_USER = "bimkit-seals"
SEAL_STORE_HOME = "/var/lib/bimkit/seal-store"
"""The user's home: its authorized_keys, owned by root."""
