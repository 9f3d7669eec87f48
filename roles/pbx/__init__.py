"""roles/pbx: Asterisk (PJSIP) on the PBX host, from the people and site data.

Variables: roles/pbx/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.context import host
from pyinfra.operations import apt, server

from roles.facts import FilesIn
from roles.managed import ManagedFile
from roles.operations import converge, secret_value
from roles.pbx.plan import (
    APT_SOURCE,
    PROVISIONING_CREDENTIALS,
    PROVISIONING_DIR,
    VOICEMAIL_ARCHIVE,
    VOICEMAIL_BOXES,
    archive_commands,
    packages,
    plan_pbx,
    retired_boxes,
)


@deploy("bimkit PBX (Asterisk)")
def apply() -> None:
    pbx = host.data.pbx
    if pbx["asterisk_apt_source"]:
        # Debian 13 has no Asterisk: production names the repository that has it.
        converge(name=f"Asterisk's apt source ({APT_SOURCE})",
                 wanted=[ManagedFile(APT_SOURCE, pbx["asterisk_apt_source"] + "\n",
                                     then=("apt-get update -qq",))])  # fmt: skip
    apt.packages(name="Asterisk", packages=packages(pbx))
    trunk_password = secret_value("sip_trunk_password") if pbx["trunk"] else None
    present = host.get_fact(FilesIn, paths=[PROVISIONING_DIR, PROVISIONING_CREDENTIALS])
    plan = plan_pbx(pbx, secret_value("pbx_secret"), trunk_password, tuple(present))
    converge(
        name="Asterisk: endpoints, dialplan, voicemail, queues (reloading only what changed)",
        wanted=plan.wanted,
    )
    # A person who left loses the endpoint at once; their voicemail is kept, archived.
    retired = retired_boxes(pbx, host.get_fact(FilesIn, paths=[VOICEMAIL_BOXES], kind="d"))
    if retired:
        server.shell(name=f"Voicemail of people who left archived ({VOICEMAIL_ARCHIVE})",
                     commands=archive_commands(retired))  # fmt: skip
