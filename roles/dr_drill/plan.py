"""What the DR host gets to run restore drills, from its inventory data (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dr.config import DrillConfig, DrillService, Notify, to_json
from dr.paths import (
    DR_CONFIG,
    DRILL_CHECKS,
    DRILL_CONFIG,
    DRILL_REPORTS_DIR,
    DRILL_TOOL,
    DRILL_WORK_DIR,
    IMAGE_CACHE,
    NOTIFIER,
    SEAL_STORES,
    TSA_CA_FILE,
)
from roles.templates import render

PACKAGES = ("systemd-container", "debootstrap", "iproute2", "restic")
"""nspawn and debootstrap for the sandbox and its image (the runner: roles/dr_runtime)."""
SANDBOX_ADDRESS = "192.0.2.10/24"
"""TEST-NET-1 (RFC 5737): no production network uses it."""
SCHEDULE = "*-01,04,07,10-01 02:00"
"""Quarterly: the first of January, April, July and October."""
MIRROR = "http://deb.debian.org/debian"


def drill_config(hostname: str, data: Mapping[str, Any]) -> str:
    drill = data["drill"]
    config = DrillConfig(
        dr_host=hostname,
        municipality=drill["municipality"],
        realm=data["realm"],
        timezone=data["timezone"],
        services={
            host: {service: DrillService(**policy) for service, policy in services.items()}
            for host, services in drill["services"].items()
        },
        production_addresses=drill["production_addresses"],
        dr_config=DR_CONFIG,
        work_dir=DRILL_WORK_DIR,
        reports_dir=DRILL_REPORTS_DIR,
        image_cache=IMAGE_CACHE,
        specs_dir=DRILL_CHECKS,
        mirror=MIRROR,
        http_proxy=data.get("apt_proxy"),
        sandbox_address=SANDBOX_ADDRESS,
        notify=Notify(**drill["notify"]),
        # The log archive's drill checks it against the chain's copy kept here.
        seal_stores=SEAL_STORES if data.get("seal_store") else None,
        tsa_ca_file=TSA_CA_FILE if drill["tsa_certificates"] else None,
        pbx_release=drill["pbx_release"],
    )
    return to_json(config)


def drill_units() -> dict[str, str]:
    return {
        "bimkit-drill.service": render(
            "dr_drill/bimkit-drill.service.j2", tool=DRILL_TOOL, config=DRILL_CONFIG
        ),
        "bimkit-drill.timer": render("dr_drill/bimkit-drill.timer.j2", schedule=SCHEDULE),
        "bimkit-drill-failed.service": render(
            "dr_drill/bimkit-drill-failed.service.j2", notifier=NOTIFIER, config=DRILL_CONFIG
        ),
    }
