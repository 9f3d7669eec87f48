"""The PBX's accounts from the estate (pure): one SIP device per active person with an
extension, and one per site phone; who has held each extension (`directory/extensions.yaml`);
the rules that span people and telephony."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bimkit.errors import Problem
from bimkit.model.estate import Estate
from bimkit.model.schema import PHONE_MODELS

ESTATE_FILE = "estate.yaml"
PEOPLE_FILE = "directory/people.yaml"
EXTENSIONS_FILE = "directory/extensions.yaml"
EXTENSIONS_HEADER = (
    "# Who has held each extension, oldest first. Written by `bimkit pbx record`; entries\n"
    "# stay. A phone's SIP password and initial voicemail PIN come from its holder, the\n"
    "# extension and the assignment's number: a new holder (or the same one again, or\n"
    "# `--reissue` for a lost phone) gets new ones, and the phone before is refused.\n"
)


@dataclass(frozen=True)
class SipDevice:
    extension: int
    caller_name: str
    owner: str
    """`person <id>` or `phone <name>`: whose device it is, for the admins."""
    model: str
    family: str
    mac: str | None
    calls: tuple[str, ...]
    """Outside calls it may make (schema.CallKind); emergency numbers are always open."""
    max_calls: int
    """Calls at once."""
    mailbox: bool
    email: str | None
    queues: tuple[str, ...]
    site: str | None
    credential: str | None
    """`<owner> <extension> #<n>`, the n-th assignment of the extension, recorded in
    directory/extensions.yaml: what its SIP password and initial PIN are derived from.
    None while the assignment is not recorded."""


def credential(holders: Mapping[int, tuple[str, ...]], owner: str, extension: int) -> str | None:
    """The recorded assignment of `extension` to `owner`: only when they are its last holder."""
    history = holders.get(extension, ())
    if not history or history[-1] != owner:
        return None
    return f"{owner} {extension} #{len(history)}"


def recording(
    holders: Mapping[int, tuple[str, ...]],
    devices: Iterable[SipDevice],
    reissue: Iterable[int] = (),
) -> dict[int, tuple[str, ...]]:
    """The holders with every device's assignment recorded: its owner appended where they
    are not the extension's last holder, and again for each extension in `reissue`."""
    recorded = dict(holders)
    again = set(reissue)
    for device in devices:
        history = recorded.get(device.extension, ())
        if not history or history[-1] != device.owner or device.extension in again:
            recorded[device.extension] = (*history, device.owner)
    return recorded


def extensions_text(holders: Mapping[int, tuple[str, ...]]) -> str:
    lines = [EXTENSIONS_HEADER, "holders:\n"]
    lines += [f"  {number}: [{', '.join(holders[number])}]\n" for number in sorted(holders)]
    return "".join(lines)


def sip_devices(estate: Estate) -> list[SipDevice]:
    """Every device the PBX registers, by extension. Inactive people have none."""
    calls_per_phone = estate.config.telephony.calls_per_phone
    devices = [
        SipDevice(
            extension=member.person.extension,
            caller_name=member.display_name,
            owner=f"person {member.person.id}",
            model=member.person.phone_model,
            family=PHONE_MODELS[member.person.phone_model],
            mac=member.person.phone_mac,
            calls=tuple(member.person.calls),
            max_calls=member.person.max_calls or calls_per_phone,
            mailbox=member.person.mailbox,
            email=member.email,
            queues=tuple(member.person.queues),
            site=None,
            credential=credential(
                estate.extension_holders, f"person {member.person.id}", member.person.extension
            ),
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
                    calls=tuple(phone.calls),
                    max_calls=phone.max_calls or calls_per_phone,
                    mailbox=False,
                    email=None,
                    queues=(),
                    site=site.name,
                    credential=credential(
                        estate.extension_holders, f"phone {phone.name}", phone.extension
                    ),
                )
            )
    return sorted(devices, key=lambda device: device.extension)


def telephony_problems(estate: Estate) -> list[Problem]:
    telephony = estate.config.telephony
    problems = []
    short = {n: "an emergency number" for n in telephony.emergency_numbers}
    short[telephony.citizen_line] = "the citizen line"
    for member in estate.members:
        if member.person.extension in short:
            problems.append(Problem(PEOPLE_FILE, f"{member.source.path}.extension",
                                    f"{member.person.extension} is "
                                    f"{short[member.person.extension]}"))  # fmt: skip
    for site, phones in estate.site_phones.items():
        for index, phone in enumerate(phones):
            if phone.extension in short:
                said = f"{phone.extension} is {short[phone.extension]}"
                problems.append(Problem(f"sites/{site}.yaml", f"phones[{index}].extension", said))
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
