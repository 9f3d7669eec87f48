"""The lab's seed data: enough real-looking files that a drill verifies something."""

from __future__ import annotations

import datetime
from pathlib import Path

from bimkit.lab import seed
from bimkit.model.load import load_estate
from tests.conftest import REPO

ESTATE = load_estate(REPO)
TODAY = datetime.date(2026, 12, 4)


def test_the_file_server_holds_thousands_of_documents_in_department_folders() -> None:
    files = list(seed.files_for(ESTATE, ESTATE.hosts["fs1"], TODAY))
    assert len(files) >= 2000
    # Every department's folder, a unit's inside its müdürlük's share.
    for department in ESTATE.departments:
        path = ESTATE.department_path(department)
        prefix = "/srv/shares/" + "/".join(d.id for d in path) + "/"
        assert any(name.startswith(prefix) for name, _ in files), prefix
    assert all(path.startswith("/srv/shares/") for path, _ in files)
    assert sum(len(content) for _, content in files) > 10_000_000
    assert any("dilekçe" in path for path, _ in files), "Turkish file names too"


def test_the_log_server_holds_each_hosts_syslog_and_the_lease_records_by_day() -> None:
    files = dict(seed.files_for(ESTATE, ESTATE.hosts["log1"], TODAY))
    assert len(files) == seed.LOG_DAYS * (len(ESTATE.hosts) + 1)
    long = seed.long_lease(ESTATE, TODAY)
    records = files[f"/var/log/remote/{long.start.date()}/dc1.leases"].decode()
    assert (f"bimkit-dhcp: event=commit address={long.address} mac={long.mac} hostname=uzun-kira "
            f"start={int(long.start.timestamp())} valid={6 * 86400}\n") in records  # fmt: skip
    first = files["/var/log/remote/2026-10-05/dc1.log"].decode()
    assert first.startswith("2026-10-05T00:") and " dc1 " in first.splitlines()[0]
    assert "/var/log/remote/2026-12-04/dc1.log" not in files, "today is still being written"


def test_seed_data_is_the_same_in_every_lab_and_written_once(tmp_path: Path) -> None:
    first = list(seed.files_for(ESTATE, ESTATE.hosts["fs1"], TODAY))
    assert first == list(seed.files_for(ESTATE, ESTATE.hosts["fs1"], TODAY))
    assert seed.seed(tmp_path, iter(first[:10])) == 10
    assert (tmp_path / first[0][0].lstrip("/")).read_bytes() == first[0][1]
    assert seed.seed(tmp_path, iter(first)) == 0


def test_other_hosts_get_no_seed_data() -> None:
    assert list(seed.files_for(ESTATE, ESTATE.hosts["dc1"], TODAY)) == []
