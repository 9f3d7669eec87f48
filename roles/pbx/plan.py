"""What `roles/pbx` wants on the PBX: Asterisk (PJSIP) from the estate (pure).

One SIP account (endpoint, AOR, auth) per device: every active person with an
extension and every site phone. SIP passwords and initial voicemail PINs are
derived from the secret `pbx_secret` and the device's recorded assignment (its
holder, the extension and the assignment's number: `directory/extensions.yaml`),
so every deploy renders the same files, nothing generated has to be stored, and
a new holder gets new ones. A file that changes reloads only its own Asterisk
module.
"""

from __future__ import annotations

import base64
import hashlib
import posixpath
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from roles.managed import Absent, ManagedDirectory, ManagedFile, Service, State
from roles.templates import HEADER, render

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
BOX_HOLDER = "bimkit-holder"
"""In each box folder: the assignment it belongs to. A box of another assignment is archived
before the new holder's first call, with its messages and the PIN its holder chose."""
INITIAL_PINS = "bimkit-pins.conf"
"""In CONFIG_DIR: each box's initial PIN (`[pins]`, box = PIN), which the dialplan reads with
AST_CONFIG() until the holder has chosen their own (templates/extensions.conf.j2). One file:
2,000 boxes are one upload, not 2,000."""
HOLDERS = f"{CONFIG_DIR}/bimkit-holders"
"""Each extension and the assignment its credentials came from, as last deployed: an
extension whose assignment changed loses the registrations made before (stale_registrations)."""
CUSTOM_SOUNDS = "/var/lib/asterisk/sounds/custom"
ASTDB = "/var/lib/asterisk/astdb.sqlite3"
ASTERISK_GROUP = "asterisk"

RELOADS = {
    "pjsip.conf": "module reload res_pjsip.so",
    "extensions.conf": "dialplan reload",
    "voicemail.conf": "module reload app_voicemail.so",
    "queues.conf": "module reload app_queue.so",
    "logger.conf": "logger reload",
}
"""Each file Asterisk reads -> the CLI command that takes it in without a restart."""


def _derive(secret: str, purpose: str, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=b"bimkit pbx",
                info=purpose.encode()).derive(secret.encode())  # fmt: skip


def sip_password(secret: str, credential: str) -> str:
    """24 characters of base32: typed on a phone's keypad if need be, 120 bits.

    + credential: the device's recorded assignment (`SipDevice.credential`)
    """
    return base64.b32encode(_derive(secret, f"sip {credential}", 15)).decode().lower()


def voicemail_pin(secret: str, credential: str) -> str:
    """Six digits, the holder's initial PIN: they must choose their own at the first call."""
    number = int.from_bytes(_derive(secret, f"voicemail {credential}", 8), "big")
    return f"{number % 1_000_000:06d}"


OUTSIDE_NUMBERS: tuple[tuple[str, str], ...] = (
    ("local", "_0NXXXXXX"),  # a local number, and 444 numbers
    ("local", "_00800XXXXXXX"),  # free phone
    ("national", "_00[2-4]XXXXXXXXX"),  # another province's landline
    ("national", "_00850XXXXXXX"),  # 0850: nationwide numbers
    ("mobile", "_005XXXXXXXXX"),
    ("premium", "_009XXXXXXXXX"),  # 0900: premium rate
    ("premium", "_008[1-9]XXXXXXXX"),  # the rest of 08xx: value-added services
    ("premium", "_00090."),  # Turkey's own numbers dialled as international: 0090 900...
    ("international", "_000[1-8]X."),  # 00, a country code and the number
    ("international", "_0009[1-9]X."),  # ... a country code of 9x but 90
)
"""(kind, Asterisk pattern) of every outside number a phone may dial: `0` takes the line,
then the number as on a public line, which is what the operator receives. Every pattern
but those ending in `.` is digits of a fixed length; those are checked to be digits (at
most 15 after `00`) before they reach Dial()."""
OUTSIDE_CALL_SECONDS = 7200
"""An outside call ends after two hours: a line bridged to another by fraud does not run
all weekend."""
OUTSIDE_KINDS = ("local", "national", "mobile", "international", "premium")
"""The kinds in the order a context names them (schema.CallKind, less `internal`)."""


def call_context(calls: Any) -> str:
    """The dialplan context of a class of service: `calls-internal` or e.g.
    `calls-local-national-mobile`."""
    kinds = [kind for kind in OUTSIDE_KINDS if kind in calls]
    return "calls-" + "-".join(kinds or ["internal"])

@dataclass(frozen=True)
class PbxPlan:
    wanted: list[State]


UNSAFE_IN_CONFIG = str.maketrans(';,"', "  '")


def display(name: str) -> str:
    """A name as Asterisk's config files can carry it: `;` starts a comment there, `,` and
    `"` separate fields."""
    return " ".join(name.translate(UNSAFE_IN_CONFIG).split())


def pjsip_conf(pbx: Mapping[str, Any], secret: str, trunk_password: str | None) -> str:
    devices = [
        {**device, "password": sip_password(secret, device["credential"]),
         "context": call_context(device["calls"]), "display": display(device["caller_name"])}
        for device in pbx["devices"]
    ]  # fmt: skip
    return render("pbx/pjsip.conf.j2", devices=devices, trunk=pbx["trunk"],
                  trunk_password=trunk_password)  # fmt: skip


def extensions_conf(pbx: Mapping[str, Any]) -> str:
    classes = sorted({call_context(device["calls"]) for device in pbx["devices"]})
    kinds = {context: context.removeprefix("calls-").split("-") for context in classes}
    return render("pbx/extensions.conf.j2", pbx=pbx, classes=kinds, numbers=OUTSIDE_NUMBERS,
                  outside_kinds=OUTSIDE_KINDS, boxes=VOICEMAIL_BOXES,
                  initial_pins=INITIAL_PINS,
                  outside_call_seconds=OUTSIDE_CALL_SECONDS)  # fmt: skip


def voicemail_conf(pbx: Mapping[str, Any]) -> str:
    """No PIN in it: each box's password is its own number, which Asterisk takes for a new
    box whose holder must choose a PIN (after the initial one, checked by the dialplan);
    the PIN they choose lives in the box folder (`passwordlocation=spooldir`)."""
    boxes = [
        {**device, "display": display(device["caller_name"])}
        for device in pbx["devices"]
        if device["mailbox"]
    ]
    return render("pbx/voicemail.conf.j2", boxes=boxes, pbx=pbx)


def initial_pins_conf(pbx: Mapping[str, Any], secret: str) -> str:
    lines = [f"; {HEADER}\n; Each box's initial PIN, until its holder chooses "
             "their own at the first call to 8.\n[pins]\n"]  # fmt: skip
    lines += [f"{d['extension']} = {voicemail_pin(secret, d['credential'])}\n"
              for d in pbx["devices"] if d["mailbox"]]  # fmt: skip
    return "".join(lines)


def queues_conf(pbx: Mapping[str, Any]) -> str:
    members = {
        queue: [d["extension"] for d in pbx["devices"] if queue in d["queues"]]
        for queue in pbx["queues"]
    }
    return render("pbx/queues.conf.j2", queues=pbx["queues"], members=members)


def provisioning_password(secret: str, mac: str, credential: str) -> str:
    """The phone's HTTP credential (user: its MAC), of its assignment: a reissued phone whose
    MAC stays in the data fetches nothing with the old one. High entropy, so a salted SHA-1
    in nginx's htpasswd is no weakness; the salt is derived, so every deploy writes the same."""
    return base64.b32encode(_derive(secret, f"provisioning {mac} {credential}", 15)).decode(
        ).lower()  # fmt: skip


def htpasswd_line(secret: str, mac: str, credential: str) -> str:
    password = provisioning_password(secret, mac, credential)
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
            "password": sip_password(secret, device["credential"]),
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
                        htpasswd_line(secret, phone["mac"], phone["credential"]), mode="640",
                        group=NGINX_GROUP,
                        private=True),
        ]  # fmt: skip
    keep = {phone["file"] for phone in phones} | {phone["mac_plain"] for phone in phones}
    wanted += [Absent(path) for path in present if path.rsplit("/", 1)[1] not in keep]
    site = render("pbx/provisioning-nginx.conf.j2", phones=phones, files_dir=PROVISIONING_DIR,
                  credentials_dir=PROVISIONING_CREDENTIALS)  # fmt: skip
    wanted += [ManagedFile(NGINX_SITE, site, then=reload_nginx), Service("nginx.service")]
    return wanted


@dataclass(frozen=True)
class BoxChanges:
    """What the voicemail boxes on the host need (pure: from the data and BoxHolders)."""

    archived: list[str]
    """Box folders of people who left or of an earlier assignment: moved into the archive,
    with their messages and the PIN their holder chose."""
    marked: dict[str, str]
    """Box folder -> the assignment it now belongs to (written into BOX_HOLDER)."""

    def commands(self) -> list[str]:
        """Root only renames (a link is moved, never followed); what is written inside the
        boxes, which the asterisk user owns, is written as that user."""
        archive = shlex.quote(VOICEMAIL_ARCHIVE)
        owner = f"-o {ASTERISK_GROUP} -g {ASTERISK_GROUP}"
        moves = [f"mv -T -- {shlex.quote(box)} "
                 f"{shlex.quote(f'{VOICEMAIL_ARCHIVE}/{posixpath.basename(box)}-')}"
                 '"$(date +%Y%m%dT%H%M%S)"' for box in self.archived]  # fmt: skip
        marks = [
            f"runuser -u {ASTERISK_GROUP} -- sh -c " + shlex.quote(
                f"install -d -m 750 {shlex.quote(box)} && printf '%s\\n' {shlex.quote(holder)}"
                f" > {shlex.quote(box)}/{BOX_HOLDER}.new && mv -f {shlex.quote(box)}/"
                f"{BOX_HOLDER}.new {shlex.quote(box)}/{BOX_HOLDER}")
            for box, holder in sorted(self.marked.items())
        ]  # fmt: skip
        # Asterisk keeps a chosen PIN in memory: a reload forgets the archived boxes' ones.
        reload = ["asterisk -rx 'module reload app_voicemail.so'"] if self.archived else []
        if not (moves or marks):
            return []
        return [f"install -d -m 750 {owner} {archive}", *moves, *marks, *reload]



def box_changes(pbx: Mapping[str, Any], found: dict[str, str]) -> BoxChanges:
    """+ found: box folder -> its BOX_HOLDER line on the host ("" for a box without one,
    which is taken to be its present holder's)"""
    wanted = {f"{VOICEMAIL_BOXES}/{d['extension']}": d["credential"]
              for d in pbx["devices"] if d["mailbox"]}  # fmt: skip
    archived = sorted(box for box, holder in found.items()
                      if box not in wanted or holder not in ("", wanted[box]))  # fmt: skip
    marked = {box: holder for box, holder in wanted.items()
              if found.get(box) != holder or box in archived}  # fmt: skip
    return BoxChanges(archived, marked)


def holders_text(pbx: Mapping[str, Any]) -> str:
    return "".join(f"{d['extension']}\t{d['credential']}\n" for d in pbx["devices"])


def assignment_number(credential: str) -> int:
    """`person 1003 2102 #2` -> 2."""
    return int(credential.rsplit("#", 1)[1])


def rolled_back(pbx: Mapping[str, Any], deployed: Mapping[int, str]) -> list[str]:
    """Extensions whose recorded assignment is older than the one deployed: a reverted or
    badly merged directory/extensions.yaml, which would give the holder before their
    password back."""
    return [
        f"{d['extension']} ({deployed[d['extension']]} deployed, {d['credential']} in the data)"
        for d in pbx["devices"]
        if d["credential"] and "#" in deployed.get(d["extension"], "")
        and assignment_number(deployed[d["extension"]]) > assignment_number(d["credential"])
    ]


def stale_registrations(pbx: Mapping[str, Any], deployed: Mapping[int, str]) -> list[int]:
    """Extensions whose assignment changed (a new holder, a reissued phone) or that are gone
    since the last deploy (`deployed`: HOLDERS on the host). The phone registered there
    would otherwise keep ringing for the extension's calls until its registration expires,
    though it can no longer register again."""
    wanted = {d["extension"]: d["credential"] for d in pbx["devices"]}
    return sorted(ext for ext, credential in deployed.items() if wanted.get(ext) != credential)


def drop_registrations(extensions: list[int]) -> list[str]:
    """Asterisk's commands removing the extensions' contacts (kept in its astdb)."""
    return [
        "asterisk -rx " + shlex.quote(
            f"database query \"DELETE FROM astdb WHERE key LIKE "
            f"'/registrar/contact/{int(extension)};@%'\""
        )
        for extension in extensions
    ]  # fmt: skip


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
    lines = ["# extension\towner\tinitial voicemail PIN (the owner chooses theirs at the "
             "first call to 8)\n"]  # fmt: skip
    lines += [
        f"{d['extension']}\t{d['owner']}\t{voicemail_pin(secret, d['credential'])}\n"
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
        # Read by AST_CONFIG() when it changes: no reload.
        ManagedFile(f"{CONFIG_DIR}/{INITIAL_PINS}", initial_pins_conf(pbx, secret), mode="640",
                    group=ASTERISK_GROUP, private=True),
        config("voicemail.conf", voicemail_conf(pbx)),
        config("queues.conf", queues_conf(pbx)),
        config("logger.conf", render("pbx/logger.conf.j2")),
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
