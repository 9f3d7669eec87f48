"""roles/pbx: Asterisk (PJSIP) on the PBX host, from the people and site data.

Variables: roles/pbx/README.md.
"""

from __future__ import annotations

from pyinfra.api.deploy import deploy
from pyinfra.api.exceptions import DeployError
from pyinfra.context import host
from pyinfra.operations import apt

from bimkit.model.telephony import EXTENSIONS_FILE
from roles.facts import FilesIn
from roles.managed import ManagedFile
from roles.operations import converge, script, secret_value
from roles.pbx.facts import BoxHolders, DeployedHolders
from roles.pbx.plan import (
    APT_SOURCE,
    BOX_HOLDER,
    HOLDERS,
    PROVISIONING_CREDENTIALS,
    PROVISIONING_DIR,
    VOICEMAIL_ARCHIVE,
    VOICEMAIL_BOXES,
    box_changes,
    drop_registrations,
    holders_text,
    packages,
    plan_pbx,
    rolled_back,
    stale_registrations,
)


@deploy("bimkit PBX (Asterisk)")
def apply() -> None:
    pbx = host.data.pbx
    unrecorded = [f"{d['extension']} ({d['owner']})" for d in pbx["devices"] if not d["credential"]]
    if unrecorded:
        # Credentials come from the recorded assignment: without it, a new holder would get
        # a phone that the one before could still use.
        raise DeployError(
            f"{host.name}: the PBX: extension(s) {', '.join(unrecorded)} are not recorded for "
            f"their holder in {EXTENSIONS_FILE}; run `bimkit pbx record` and commit the file"
        )
    if pbx["asterisk_apt_source"]:
        # Debian 13 has no Asterisk: production names the repository that has it.
        converge(name=f"Asterisk's apt source ({APT_SOURCE})",
                 wanted=[ManagedFile(APT_SOURCE, pbx["asterisk_apt_source"] + "\n",
                                     then=("apt-get update -qq",))])  # fmt: skip
    apt.packages(name="Asterisk", packages=packages(pbx))
    # Before the files: the box of a person who left, or of an earlier holder of the
    # extension, is archived (kept, backed up), so a new holder starts with an empty box.
    boxes = box_changes(pbx, host.get_fact(BoxHolders, boxes=VOICEMAIL_BOXES,
                                           holder_file=BOX_HOLDER))  # fmt: skip
    if boxes.commands():
        # One script, one round trip: 2,000 new boxes are not 2,000 commands.
        script(name=f"Voicemail boxes: {len(boxes.archived)} archived "
                    f"({VOICEMAIL_ARCHIVE}), {len(boxes.marked)} given to their holder",
               name_on_host="pbx-boxes.sh", text="\n".join(boxes.commands()))  # fmt: skip
    trunk_password = secret_value("sip_trunk_password") if pbx["trunk"] else None
    present = host.get_fact(FilesIn, paths=[PROVISIONING_DIR, PROVISIONING_CREDENTIALS])
    plan = plan_pbx(pbx, secret_value("pbx_secret"), trunk_password, tuple(present))
    deployed: dict[int, str] = host.get_fact(DeployedHolders, path=HOLDERS)
    older = rolled_back(pbx, deployed)
    if older:
        raise DeployError(
            f"{host.name}: the PBX: {EXTENSIONS_FILE} records an older assignment than the one "
            f"deployed for {', '.join(older)}: the holder before would get their password "
            "back. Restore the file's later entries (its history is in git)"
        )
    stale = stale_registrations(pbx, deployed)
    converge(
        name="Asterisk: endpoints, dialplan, voicemail, queues (reloading only what changed)",
        wanted=plan.wanted,
    )
    if stale:
        # After the new credentials are in place, so the phone before cannot register again.
        script(name="Registrations of reassigned extension(s) dropped: "
                    + ", ".join(map(str, stale)),
               name_on_host="pbx-registrations.sh",
               text="\n".join(drop_registrations(stale)))  # fmt: skip
    # Last: while a drop above has not run, the next deploy still sees what it owes.
    converge(name=f"Each extension's assignment, as deployed ({HOLDERS})",
             wanted=[ManagedFile(HOLDERS, holders_text(pbx), mode="644")])  # fmt: skip
