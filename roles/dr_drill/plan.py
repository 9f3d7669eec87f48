"""What the DR host gets to run restore drills, from its inventory data (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bimkit.templates import render
from roles.dr_repository.plan import DR_CONFIG

PACKAGES = ("systemd-container", "debootstrap", "iproute2", "python3-jinja2", "restic")
"""nspawn and debootstrap for the sandbox and its image; Jinja2 for the HTML report."""
LIBRARY = "/usr/local/lib/bimkit/pkg"
"""The part of the bimkit package the drill runs with (see MODULES)."""
MODULES = (
    "bimkit/__init__.py",
    "bimkit/errors.py",
    "bimkit/process.py",
    "bimkit/restic.py",
    "bimkit/file_manifest.py",
    "bimkit/sandbox/__init__.py",
    "bimkit/sandbox/image.py",
    "bimkit/sandbox/machine.py",
    "bimkit/sandbox/network.py",
    "bimkit/drill/__init__.py",
    "bimkit/drill/plan.py",
    "bimkit/drill/sandbox.py",
    "bimkit/drill/active_directory.py",
    "bimkit/drill/files.py",
    "bimkit/drill/messages.py",
    "bimkit/drill/report.py",
    "bimkit/drill/report.html.j2",
    "bimkit/drill/runner.py",
)
SPECS_DIR = "/usr/local/share/bimkit/drills"
"""drills/*.py: the checks, readable and extensible by the admins."""
DRILL_TOOL = "/usr/local/sbin/bimkit-drill"
NOTIFIER = "/usr/local/sbin/bimkit-backup-notify"
CONFIG = "/etc/bimkit/drill.json"
WORK_DIR = "/var/lib/bimkit/drill"
REPORTS_DIR = "/var/lib/bimkit/drills"
IMAGE_CACHE = "/var/cache/bimkit"
SANDBOX_ADDRESS = "192.0.2.10/24"
"""TEST-NET-1 (RFC 5737): no production network uses it."""
SCHEDULE = "*-01,04,07,10-01 02:00"
"""Quarterly: the first of January, April, July and October."""
MIRROR = "http://deb.debian.org/debian"


def drill_config(hostname: str, data: Mapping[str, Any]) -> str:
    drill = data["drill"]
    config = {
        "dr_host": hostname,
        "municipality": drill["municipality"],
        "realm": data["realm"],
        "timezone": data["timezone"],
        "services": drill["services"],
        "production_addresses": drill["production_addresses"],
        "dr_config": DR_CONFIG,
        "work_dir": WORK_DIR,
        "reports_dir": REPORTS_DIR,
        "image_cache": IMAGE_CACHE,
        "specs_dir": SPECS_DIR,
        "mirror": MIRROR,
        "http_proxy": data.get("apt_proxy"),
        "sandbox_address": SANDBOX_ADDRESS,
        "sample_percent": 100,
        "tolerance_percent": 0,
        "lang": "tr",
        "notify": drill["notify"],
    }
    return json.dumps(config, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def drill_units() -> dict[str, str]:
    return {
        "bimkit-drill.service": render(
            "dr_drill/bimkit-drill.service.j2", tool=DRILL_TOOL, config=CONFIG
        ),
        "bimkit-drill.timer": render("dr_drill/bimkit-drill.timer.j2", schedule=SCHEDULE),
        "bimkit-drill-failed.service": render(
            "dr_drill/bimkit-drill-failed.service.j2", notifier=NOTIFIER, config=CONFIG
        ),
    }
