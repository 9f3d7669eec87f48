"""What `roles/pbx` wants on the PBX: Asterisk (PJSIP) from the estate (pure).

One SIP account (endpoint, AOR, auth) per device: every active person with an
extension and every site phone. Passwords and voicemail PINs are derived from
the secret `pbx_secret` (HKDF, one per device), so every deploy renders the
same files and nothing generated has to be stored. A file that changes reloads
only its own Asterisk module.
"""

from __future__ import annotations

import base64
import hashlib
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from roles.managed import Absent, ManagedDirectory, ManagedFile, Service, State
from roles.templates import render

PACKAGES = ("asterisk", "asterisk-modules", "asterisk-config", "nginx")
MAIL_PACKAGES = ("msmtp-mta",)
"""/usr/sbin/sendmail for voicemail mail: hands each message to the relay, queues nothing."""
MSMTP_CONF = "/etc/msmtprc"
ASTERISK_LIMITS = "/etc/systemd/system/asterisk.service.d/bimkit-limits.conf"
QUEUE_LOG = "/var/log/asterisk/queue_log"
QUEUE_LOG_FORWARD = "/etc/rsyslog.d/40-bimkit-asterisk-queue.conf"
PROVISIONING_DIR = "/srv/provisioning"
PROVISIONING_CREDENTIALS = "/etc/nginx/bimkit-provisioning"
NGINX_SITE = "/etc/nginx/sites-enabled/default"
NGINX_GROUP = "www-data"
PROVISIONING_FILES = {"yealink": "{mac}.cfg", "grandstream": "cfg{mac}.xml"}
"""Vendor family -> the file name its phones ask for."""
CONFIG_DIR = "/etc/asterisk"
APT_SOURCE = "/etc/apt/sources.list.d/bimkit-asterisk.list"
HANDOVER_FILE = "/var/lib/bimkit/handover/voicemail-pins.tsv"
VOICEMAIL_SPOOL = "/var/spool/asterisk/voicemail"
VOICEMAIL_BOXES = f"{VOICEMAIL_SPOOL}/default"
VOICEMAIL_ARCHIVE = f"{VOICEMAIL_SPOOL}/archive"
"""Boxes of people who left: kept (and backed up), out of Asterisk's reach."""
CUSTOM_SOUNDS = "/var/lib/asterisk/sounds/custom"
ASTDB = "/var/lib/asterisk/astdb.sqlite3"
ASTERISK_GROUP = "asterisk"

RELOADS = {
    "pjsip.conf": "module reload res_pjsip.so",
    "extensions.conf": "dialplan reload",
    "voicemail.conf": "module reload app_voicemail.so",
    "queues.conf": "module reload app_queue.so",
}
"""Each file Asterisk reads -> the CLI command that takes it in without a restart."""


def _derive(secret: str, purpose: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"bimkit pbx",
                info=purpose.encode()).derive(secret.encode())  # fmt: skip


def sip_password(secret: str, extension: int) -> str:
    """24 characters of base32: typed on a phone's keypad if need be, 120 bits."""
    return base64.b32encode(_derive(secret, f"sip {extension}", 15)).decode().lower()


def voicemail_pin(secret: str, extension: int) -> str:
    """Six digits, the person's initial PIN (they change it at the first call)."""
    number = int.from_bytes(_derive(secret, f"voicemail {extension}", 8), "big")
    return f"{number % 1_000_000:06d}"


@dataclass(frozen=True)
class PbxPlan:
    wanted: list[State]


UNSAFE_IN_CONFIG = str.maketrans(';,"', "  '")


def display(name: str) -> str:
    """A name as Asterisk's config files can carry it: `;` starts a comment there, `,` and
    `"` separate fields."""
    return " ".join(name.translate(UNSAFE_IN_CONFIG).split())


def contexts(device: Mapping[str, Any]) -> str:
    """Emergency numbers first for everyone; outside calls only with an outside line."""
    return "outside" if device["outside_line"] else "internal"


def pjsip_conf(pbx: Mapping[str, Any], secret: str, trunk_password: str | None) -> str:
    devices = [
        {**device, "password": sip_password(secret, device["extension"]),
         "context": contexts(device), "display": display(device["caller_name"])}
        for device in pbx["devices"]
    ]  # fmt: skip
    return render("pbx/pjsip.conf.j2", devices=devices, trunk=pbx["trunk"],
                  trunk_password=trunk_password)  # fmt: skip


def extensions_conf(pbx: Mapping[str, Any]) -> str:
    return render("pbx/extensions.conf.j2", pbx=pbx)


def voicemail_conf(pbx: Mapping[str, Any], secret: str) -> str:
    boxes = [
        {
            **device,
            "pin": voicemail_pin(secret, device["extension"]),
            "display": display(device["caller_name"]),
        }
        for device in pbx["devices"]
        if device["mailbox"]
    ]
    return render("pbx/voicemail.conf.j2", boxes=boxes, pbx=pbx)


def queues_conf(pbx: Mapping[str, Any]) -> str:
    members = {
        queue: [d["extension"] for d in pbx["devices"] if queue in d["queues"]]
        for queue in pbx["queues"]
    }
    return render("pbx/queues.conf.j2", queues=pbx["queues"], members=members)


def provisioning_password(secret: str, mac: str) -> str:
    """The phone's HTTP credential (user: its MAC). High entropy, so a salted SHA-1 in
    nginx's htpasswd is no weakness; the salt is derived, so every deploy writes the same."""
    return base64.b32encode(_derive(secret, f"provisioning {mac}", 15)).decode().lower()


def htpasswd_line(secret: str, mac: str) -> str:
    password = provisioning_password(secret, mac)
    salt = _derive(secret, f"provisioning salt {mac}", 8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return f"{plain_mac(mac)}:{{SSHA}}{base64.b64encode(digest + salt).decode()}\n"


def plain_mac(mac: str) -> str:
    return mac.replace(":", "").lower()


def provisioned_phones(pbx: Mapping[str, Any], secret: str) -> list[dict[str, Any]]:
    """Every device with a MAC, with its file name and the account it carries."""
    return [
        {
            **device,
            "mac_plain": plain_mac(device["mac"]),
            "file": PROVISIONING_FILES[device["family"]].format(mac=plain_mac(device["mac"])),
            "password": sip_password(secret, device["extension"]),
            "display": display(device["caller_name"]),
        }
        for device in pbx["devices"]
        if device["mac"]
    ]


def provisioning_file(phone: Mapping[str, Any], pbx: Mapping[str, Any]) -> str:
    return render(
        f"pbx/provisioning/{phone['family']}.{'cfg' if phone['family'] == 'yealink' else 'xml'}.j2",
        phone=phone,
        server=pbx["address"],
        voice_vlan=pbx["voice_vlan"],
        ntp=pbx["ntp_servers"],
    )


def provisioning(pbx: Mapping[str, Any], secret: str, present: list[str]) -> list[State]:
    """The files, their credentials and nginx's site; files of withdrawn phones removed.

    + present: file names found in PROVISIONING_DIR and PROVISIONING_CREDENTIALS
    """
    phones = provisioned_phones(pbx, secret)
    reload_nginx = ("systemctl reload nginx",)
    wanted: list[State] = [
        ManagedDirectory(PROVISIONING_DIR, mode="750", group=NGINX_GROUP),
        ManagedDirectory(PROVISIONING_CREDENTIALS, mode="750", group=NGINX_GROUP),
    ]
    for phone in phones:
        wanted += [
            ManagedFile(f"{PROVISIONING_DIR}/{phone['file']}", provisioning_file(phone, pbx),
                        mode="640", group=NGINX_GROUP, private=True),
            ManagedFile(f"{PROVISIONING_CREDENTIALS}/{phone['mac_plain']}",
                        htpasswd_line(secret, phone["mac"]), mode="640", group=NGINX_GROUP,
                        private=True),
        ]  # fmt: skip
    keep = {phone["file"] for phone in phones} | {phone["mac_plain"] for phone in phones}
    wanted += [Absent(path) for path in present if path.rsplit("/", 1)[1] not in keep]
    site = render("pbx/provisioning-nginx.conf.j2", phones=phones, files_dir=PROVISIONING_DIR,
                  credentials_dir=PROVISIONING_CREDENTIALS)  # fmt: skip
    wanted += [ManagedFile(NGINX_SITE, site, then=reload_nginx), Service("nginx.service")]
    return wanted


def retired_boxes(pbx: Mapping[str, Any], present: list[str]) -> list[str]:
    """Box folders on the host whose extension no longer has a mailbox in the data."""
    wanted = {str(d["extension"]) for d in pbx["devices"] if d["mailbox"]}
    return sorted(box for box in present if box.rsplit("/", 1)[1] not in wanted)


def archive_commands(boxes: list[str]) -> list[str]:
    """Move each box into the archive under its extension and the time it left."""
    archive = shlex.quote(VOICEMAIL_ARCHIVE)
    moves = [
        f"mv {shlex.quote(box)} {archive}/{shlex.quote(box.rsplit('/', 1)[1])}-$(date +%Y%m%d)"
        for box in boxes
    ]
    return [f"install -d -m 750 -o {ASTERISK_GROUP} -g {ASTERISK_GROUP} {archive}", *moves]


def packages(pbx: Mapping[str, Any]) -> list[str]:
    return [*PACKAGES, *(MAIL_PACKAGES if pbx["mail_relay"] else ())]


def mail(pbx: Mapping[str, Any]) -> list[State]:
    """msmtp's configuration, when the data names a relay for voicemail mail."""
    if not pbx["mail_relay"]:
        return []
    conf = render("pbx/msmtprc.j2", relay=pbx["mail_relay"], domain=pbx["domain"])
    return [ManagedFile(MSMTP_CONF, conf, mode="644")]


def handover(pbx: Mapping[str, Any], secret: str) -> str:
    """Extension, owner and initial voicemail PIN, for the admins to hand over (0600)."""
    lines = ["# extension\towner\tinitial voicemail PIN\n"]
    lines += [
        f"{d['extension']}\t{d['owner']}\t{voicemail_pin(secret, d['extension'])}\n"
        for d in pbx["devices"]
        if d["mailbox"]
    ]
    return "".join(lines)


def plan_pbx(
    pbx: Mapping[str, Any],
    secret: str,
    trunk_password: str | None,
    present: tuple[str, ...] = (),
) -> PbxPlan:
    """+ present: the provisioning files and credentials on the host now (for withdrawal)"""

    def config(name: str, content: str, private: bool = False) -> ManagedFile:
        return ManagedFile(f"{CONFIG_DIR}/{name}", content, mode="640", group=ASTERISK_GROUP,
                           private=private, then=(f"asterisk -rx '{RELOADS[name]}'",))  # fmt: skip

    wanted: list[State] = [
        ManagedFile(
            ASTERISK_LIMITS,
            render("pbx/asterisk-limits.conf.j2"),
            then=("systemctl daemon-reload", "systemctl restart asterisk"),
        ),
        # First: which modules load (a restart), then each module's own file (a reload).
        ManagedFile(
            f"{CONFIG_DIR}/modules.conf",
            render("pbx/modules.conf.j2"),
            mode="640",
            group=ASTERISK_GROUP,
            then=("systemctl restart asterisk",),
        ),
        config("pjsip.conf", pjsip_conf(pbx, secret, trunk_password), private=True),
        config("extensions.conf", extensions_conf(pbx)),
        config("voicemail.conf", voicemail_conf(pbx, secret), private=True),
        config("queues.conf", queues_conf(pbx)),
        *mail(pbx),
        ManagedFile(
            QUEUE_LOG_FORWARD,
            render("pbx/rsyslog-queue-log.conf.j2", queue_log=QUEUE_LOG),
            then=("systemctl restart rsyslog",),
        ),
        ManagedFile(HANDOVER_FILE, handover(pbx, secret), mode="600", private=True),
        # What the `pbx` backup policy protects exists from the start.
        *(
            ManagedDirectory(folder, mode="750", user=ASTERISK_GROUP, group=ASTERISK_GROUP)
            for folder in (VOICEMAIL_SPOOL, CUSTOM_SOUNDS)
        ),
        Service("asterisk.service"),
        *provisioning(pbx, secret, list(present)),
    ]
    return PbxPlan(wanted)
