"""The S3 bucket at the DR site, for estates whose `dr_repository` is `s3`.

`provision` makes the bucket hold what the policy asks, changing only what
differs: versioning on, object lock with a default retention (where the
server supports it), and a lifecycle rule that expires noncurrent versions.
`drift` lists the differences without changing anything. Both talk to any
S3 API (MinIO, Ceph, AWS) through boto3.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from bimkit.errors import BimkitError
from bimkit.model.estate import Estate

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

LIFECYCLE_RULE = "bimkit-noncurrent-versions"


@dataclass(frozen=True)
class BucketPolicy:
    bucket: str
    lock_days: int
    """Default object-lock retention: nobody, not even the admins, deletes a version sooner."""
    lock_mode: str
    noncurrent_days: int
    """Noncurrent versions (left by restic's prune) expire after this many days."""


def bucket_policy(estate: Estate) -> BucketPolicy:
    """From estate.yaml: the longest daily retention of any backup policy, at least 7 days."""
    s3 = estate.config.dr_s3
    if s3 is None:
        raise BimkitError("dr s3: estate.yaml has no `dr_s3` section (endpoint and bucket)")
    longest = max((p.retention.daily for p in estate.config.backup_policies.values()), default=7)
    lock_days = s3.lock_days or max(7, longest)
    return BucketPolicy(s3.bucket, lock_days, s3.lock_mode, lock_days + 7)


def host_policy(bucket: str, host: str) -> dict[str, Any]:
    """The IAM policy of one host's S3 user: its own prefix, add-only.

    restic needs to list, read and write its repository and to remove its
    own lock files; nothing else may be deleted. Object lock keeps every
    version for `lock_days` even from a key that could delete.
    """
    objects = f"arn:aws:s3:::{bucket}/{host}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListOwnPrefix",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{host}/*", host]}},
            },
            {
                "Sid": "ReadAndAddOwnRepository",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [f"{objects}/*"],
            },
            {
                "Sid": "RemoveOwnLocks",
                "Effect": "Allow",
                "Action": ["s3:DeleteObject"],
                "Resource": [f"{objects}/locks/*"],
            },
        ],
    }


def dr_jobs_policy(bucket: str) -> dict[str, Any]:
    """The IAM policy of the DR host's S3 user: retention and checks on every repository.

    It may delete (prune: in the versioned bucket a delete marker) and list
    versions, but neither delete a version nor lift object lock.
    """
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RetentionAndChecks",
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:ListBucketVersions",
                    "s3:GetBucketLocation",
                    "s3:GetObject",
                    "s3:PutObject",
                    "s3:DeleteObject",
                ],
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }


class S3Unavailable(BimkitError):
    pass


def _call(endpoint: str, what: str, call: Any, **arguments: Any) -> Any:
    try:
        return call(**arguments)
    except EndpointConnectionError:
        raise S3Unavailable(f"dr s3: cannot reach the S3 endpoint {endpoint} ({what})") from None
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "?")
        if code in ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"):
            raise BimkitError(
                f"dr s3: {endpoint} refused the credentials (secrets s3_access_key_id, "
                f"s3_secret_access_key) for {what}: {code}"
            ) from None
        raise
    except BotoCoreError as error:
        raise S3Unavailable(f"dr s3: {endpoint}: {what} failed: {error}") from None


def _state(client: S3Client, endpoint: str, bucket: str) -> dict[str, Any]:
    """What the bucket holds now; `exists` False when there is no such bucket."""
    try:
        _call(endpoint, f"head bucket {bucket}", client.head_bucket, Bucket=bucket)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return {"exists": False}
        raise
    versioning = client.get_bucket_versioning(Bucket=bucket).get("Status", "Off")
    try:
        lock = client.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    except ClientError:
        lock = {}
    try:
        rules = client.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    except ClientError:
        rules = []
    return {"exists": True, "versioning": versioning, "lock": lock, "rules": rules}


def _lock_matches(lock: dict[str, Any], policy: BucketPolicy) -> bool:
    retention = lock.get("Rule", {}).get("DefaultRetention", {})
    return (
        lock.get("ObjectLockEnabled") == "Enabled"
        and retention.get("Mode") == policy.lock_mode
        and retention.get("Days") == policy.lock_days
    )


def _lifecycle_matches(rules: list[dict[str, Any]], policy: BucketPolicy) -> bool:
    return any(
        rule.get("ID") == LIFECYCLE_RULE
        and rule.get("Status") == "Enabled"
        and rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays")
        == policy.noncurrent_days
        for rule in rules
    )


def drift(client: S3Client, endpoint: str, policy: BucketPolicy) -> list[str]:
    """How the bucket differs from `policy`, one line per setting; [] when it matches."""
    state = _state(client, endpoint, policy.bucket)
    name = f"bucket {policy.bucket} at {endpoint}"
    if not state["exists"]:
        return [f"{name}: does not exist"]
    found = []
    if state["versioning"] != "Enabled":
        found.append(f"{name}: versioning is {state['versioning']}, want Enabled")
    if not _lock_matches(state["lock"], policy):
        retention = state["lock"].get("Rule", {}).get("DefaultRetention", {})
        found.append(
            f"{name}: object lock is {state['lock'].get('ObjectLockEnabled', 'off')} "
            f"{retention.get('Mode', '')} {retention.get('Days', '-')} days, "
            f"want Enabled {policy.lock_mode} {policy.lock_days} days"
        )
    if not _lifecycle_matches(state["rules"], policy):
        found.append(
            f"{name}: no enabled rule {LIFECYCLE_RULE} expiring noncurrent versions after "
            f"{policy.noncurrent_days} days"
        )
    return found


def provision(client: S3Client, endpoint: str, policy: BucketPolicy) -> list[str]:
    """Make the bucket match `policy`; returns what was changed ([] when nothing was)."""
    bucket = policy.bucket
    state = _state(client, endpoint, bucket)
    done = []
    if not state["exists"]:
        # Object lock can only be switched on when the bucket is made.
        _call(
            endpoint,
            f"create bucket {bucket}",
            client.create_bucket,
            Bucket=bucket,
            ObjectLockEnabledForBucket=True,
        )
        done.append(f"created bucket {bucket} with object lock")
        state = _state(client, endpoint, bucket)
    if state["versioning"] != "Enabled":
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        done.append("versioning enabled")
    if not _lock_matches(state["lock"], policy):
        try:
            client.put_object_lock_configuration(
                Bucket=bucket,
                ObjectLockConfiguration={
                    "ObjectLockEnabled": "Enabled",
                    "Rule": {
                        "DefaultRetention": {"Mode": policy.lock_mode, "Days": policy.lock_days}  # type: ignore[typeddict-item]
                    },
                },
            )
            done.append(f"default retention {policy.lock_mode} {policy.lock_days} days")
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code")
            done.append(f"object lock not supported by {endpoint} ({code}); versioning only")
    if not _lifecycle_matches(state["rules"], policy):
        client.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": LIFECYCLE_RULE,
                        "Status": "Enabled",
                        "Filter": {"Prefix": ""},
                        "NoncurrentVersionExpiration": {"NoncurrentDays": policy.noncurrent_days},
                    }
                ]
            },
        )
        done.append(f"noncurrent versions expire after {policy.noncurrent_days} days")
    return done


def client_for(estate: Estate, access_key_id: str, secret_access_key: str) -> S3Client:
    """A boto3 S3 client for the estate's DR endpoint; fails fast when it does not answer."""
    import boto3
    from botocore.config import Config

    s3 = estate.config.dr_s3
    if s3 is None:
        raise BimkitError("dr s3: estate.yaml has no `dr_s3` section (endpoint and bucket)")
    client: S3Client = boto3.client(
        "s3",
        endpoint_url=s3.endpoint,
        region_name=s3.region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2}),
    )
    return client
