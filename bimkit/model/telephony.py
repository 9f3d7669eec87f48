"""The PBX's accounts from the estate (pure): one SIP device per active person with an
extension, and one per site phone; the rules that span people and telephony."""

from __future__ import annotations

from dataclasses import dataclass

from bimkit.errors import Problem
from bimkit.model.estate import Estate
from bimkit.model.schema import PHONE_MODELS

ESTATE_FILE = "estate.yaml"
PEOPLE_FILE = "directory/people.yaml"


@dataclass(frozen=True)
class SipDevice:
    extension: int
    caller_name: str
    owner: str
    """`person <id>` or `phone <name>`: whose device it is, for the admins."""
    model: str
    family: str
    mac: str | None
    outside_line: bool
    mailbox: bool
    email: str | None
    queues: tuple[str, ...]
    site: str | None


def sip_devices(estate: Estate) -> list[SipDevice]:
    """Every device the PBX registers, by extension. Inactive people have none."""
    devices = [
        SipDevice(
            extension=member.person.extension,
            caller_name=member.display_name,
            owner=f"person {member.person.id}",
            model=member.person.phone_model,
            family=PHONE_MODELS[member.person.phone_model],
            mac=member.person.phone_mac,
            outside_line=member.person.outside_line,
            mailbox=member.person.mailbox,
            email=member.email,
            queues=tuple(member.person.queues),
            site=None,
        )
        for member in estate.members
        if member.person.active and member.person.extension is not None
    ]
    for site in estate.sites.values():
        for phone in estate.site_phones.get(site.name, ()):
            devices.append(
                SipDevice(
                    extension=phone.extension,
                    caller_name=phone.description or phone.name,
                    owner=f"phone {phone.name}",
                    model=phone.model,
                    family=PHONE_MODELS[phone.model],
                    mac=phone.mac,
                    outside_line=phone.outside_line,
                    mailbox=False,
                    email=None,
                    queues=(),
                    site=site.name,
                )
            )
    return sorted(devices, key=lambda device: device.extension)


def telephony_problems(estate: Estate) -> list[Problem]:
    telephony = estate.config.telephony
    problems = []
    if telephony.inbound_queue not in telephony.queues:
        missing = f"no queue `{telephony.inbound_queue}` in telephony.queues"
        problems.append(Problem(ESTATE_FILE, "telephony.inbound_queue", missing))
    for member in estate.members:
        for index, queue in enumerate(member.person.queues):
            if queue not in telephony.queues:
                problems.append(Problem(
                    PEOPLE_FILE, f"{member.source.path}.queues[{index}]",
                    f"no queue `{queue}` in estate.yaml telephony.queues "
                    f"(queues: {', '.join(sorted(telephony.queues))})",
                ))  # fmt: skip
    return problems
