"""Backups to S3 at the DR site: the agent on fs1 and the DR jobs on dr1 with real restic.

MinIO, the S3 server a municipality would run, is not packaged in Debian,
so the test runs moto's S3 server (the one the unit tests use) in dr1's
network namespace for the length of the test; versioning, object lock and
the IAM policies are moto's emulation (it enforces signatures and policies,
not policy conditions). The
lab is deployed with the rest-server; this test renders the agent's and
the DR tool's S3 configuration with the roles' own plan functions and runs
them beside the deployed ones (BIMKIT_BACKUP_CONFIG, BIMKIT_DR_CONFIG).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from bimkit.inventory import plan_inventory
from bimkit.lab.plan import netns_name
from dr import restic
from dr.paths import S3_CREDENTIALS_FILE
from roles.backup_agent.plan import plan_agent
from roles.dr_repository.plan import plan_repository
from tests import s3_users
from tests.lab.conftest import BIN, DeployTotals
from tests.lab.test_backups import DR, ESTATE, on
from tests.s3_users import NO_AUTH_ALLOWANCE, bucket_with_users

PORT = 9000
BUCKET = "bimkit-lab-dr"
DR_ADDRESS = str(ESTATE.dr_repository_host.address)
AGENT_CONFIG = "/root/bimkit-backup-s3.json"
DR_CONFIG = "/root/bimkit-dr-s3.json"
DR_KEY_FILE = "/root/bimkit-dr-s3-credentials"
DATA = {name: data for entries in plan_inventory(ESTATE).values() for name, data in entries}


def put(host: str, path: str, content: str) -> None:
    encoded = base64.b64encode(content.encode()).decode()
    on(host, f"umask 077 && echo {encoded} | base64 -d > {path}")


@pytest.fixture
def s3_endpoint(first_deploy: DeployTotals) -> Iterator[str]:
    """moto's S3 server, run from this box's virtualenv inside dr1's network namespace."""
    server = subprocess.Popen(
        ["ip", "netns", "exec", netns_name(DR), str(BIN / "moto_server"),
         "-H", DR_ADDRESS, "-p", str(PORT)],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": str(NO_AUTH_ALLOWANCE)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        s3_users.wait_for_port(DR_ADDRESS, PORT, server, "moto's S3 server in dr1's netns")
        yield f"http://{DR_ADDRESS}:{PORT}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        on(DR, f"rm -f {DR_CONFIG} {DR_KEY_FILE}", check=False)
        on("fs1", f"rm -rf {AGENT_CONFIG} {S3_CREDENTIALS_FILE} /root/s3-metrics", check=False)


def test_the_agent_backs_up_to_s3_and_the_dr_jobs_see_it(s3_endpoint: str) -> None:
    """fs1 and dr1 each use their own key, with the policy `bimkit dr s3 policy` prints."""
    keys = bucket_with_users(s3_endpoint, BUCKET, ["fs1"])
    s3 = {"endpoint": s3_endpoint, "bucket": BUCKET}

    agent = json.loads(plan_agent("fs1", {**DATA["fs1"], "dr_s3": s3}).config)
    agent["metrics_dir"] = "/root/s3-metrics"  # leave the deployed agent's metrics alone
    put("fs1", AGENT_CONFIG, json.dumps(agent))
    put("fs1", S3_CREDENTIALS_FILE, restic.aws_credentials(*keys["fs1"]))
    on("fs1", "mkdir -p /srv/shares/s3-deneme && echo 'Kültür Merkezi' > /srv/shares/s3-deneme/a")
    output = on("fs1", f"BIMKIT_BACKUP_CONFIG={AGENT_CONFIG} bimkit-backup file-shares 2>&1")
    assert "file-shares: snapshot" in output, output
    assert keys["fs1"][1] not in output

    secrets = dict(zip(("s3_access_key_id", "s3_secret_access_key"), keys["dr"], strict=True))
    plan = plan_repository(DR, {**DATA[DR], "dr_s3": s3}, secrets)
    config = {**json.loads(plan.dr_config), "credentials_file": DR_KEY_FILE}
    put(DR, DR_CONFIG, json.dumps(config))
    put(DR, DR_KEY_FILE, plan.s3_credentials or "")
    rows = json.loads(on(DR, f"BIMKIT_DR_CONFIG={DR_CONFIG} bimkit-dr status fs1"))["services"]
    assert [(row["service"], row["status"]) for row in rows] == [("file-shares", "OK")]

    # fs1's key cannot delete its snapshot. The DR jobs' key can (prune), but in the
    # versioned, locked bucket that only hides it: the version stays until the lock expires.
    admin = s3_users.client("s3", s3_endpoint, keys["dr"])
    [snapshot] = admin.list_object_versions(Bucket=BUCKET, Prefix="fs1/snapshots/")["Versions"]
    with pytest.raises(ClientError, match="AccessDenied"):
        s3_users.client("s3", s3_endpoint, keys["fs1"]).delete_object(
            Bucket=BUCKET, Key=snapshot["Key"]
        )
    admin.delete_object(Bucket=BUCKET, Key=snapshot["Key"])
    listed = admin.list_object_versions(Bucket=BUCKET, Prefix="fs1/snapshots/")
    assert [marker["Key"] for marker in listed["DeleteMarkers"]] == [snapshot["Key"]]
    assert [version["VersionId"] for version in listed["Versions"]] == [snapshot["VersionId"]]
