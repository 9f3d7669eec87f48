"""The admin's data files as pydantic models: one class per file, as written.

These models check each file on its own (types, required fields, unknown
keys). Rules that span files — overlapping subnets, duplicate extensions,
where the DCs are — live in `bimkit.model.rules`; derived values such as
addresses live in `bimkit.model.addressing` and `bimkit.model.estate`.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from bimkit.model.names import HOSTNAME_PATTERN, USERNAME_PATTERN


class Strict(BaseModel):
    """Base for every data model: unknown keys are errors, values do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VlanKind(StrEnum):
    management = "management"
    servers = "servers"
    data = "data"
    voice = "voice"
    cameras = "cameras"
    guests = "guests"


class Role(StrEnum):
    primary_dc = "primary_dc"
    additional_dc = "additional_dc"
    file_server = "file_server"
    log_server = "log_server"
    pbx = "pbx"
    switch = "switch"
    workstation = "workstation"
    backup_server = "backup_server"
    dr_host = "dr_host"


class OsFamily(StrEnum):
    debian = "debian"
    windows = "windows"
    cisco_ios = "cisco_ios"
    aruba_aoss = "aruba_aoss"  # HP ProCurve / Aruba AOS-S
    hp_comware = "hp_comware"  # known, but bimkit has no configuration template for it
    huawei_vrp = "huawei_vrp"

    @property
    def is_linux(self) -> bool:
        return self is OsFamily.debian

    @property
    def is_network_device(self) -> bool:
        return self not in (OsFamily.debian, OsFamily.windows)


_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$")


def parse_duration(value: Any) -> Any:
    """Accept `30m`, `24h`, `7d`, `1d12h` besides what pydantic reads as a timedelta."""
    if not isinstance(value, str) or value.startswith("P"):
        return value  # seconds or ISO 8601 (P1D): pydantic reads those
    match = _DURATION.match(value.strip())
    if not value.strip() or match is None:
        raise ValueError(f"`{value}` is not a duration; write e.g. 30m, 24h, 7d or 1d12h")
    days, hours, minutes = (int(part or 0) for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]

Name = Annotated[
    str,
    Field(pattern=HOSTNAME_PATTERN.pattern, description="lower-case ASCII letters, digits, '-'"),
]


def normalise_mac(value: Any) -> Any:
    """`AA-BB-CC-DD-EE-FF`, `aabb.ccdd.eeff` and `aa:bb:...` all become `aa:bb:cc:dd:ee:ff`."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[^0-9a-fA-F]", "", value)
    if len(digits) != 12 or not re.fullmatch(r"[0-9A-Fa-f:.\-]+", value):
        raise ValueError(f"`{value}` is not a MAC address")
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2)).lower()


MacAddress = Annotated[str, BeforeValidator(normalise_mac)]


def parse_host_address(value: Any) -> Any:
    """A host address is a full IPv4 address or its host number inside its VLAN's subnet."""
    if isinstance(value, bool):
        raise ValueError("expected an IPv4 address or a host number")
    if isinstance(value, int):
        if value < 1:
            raise ValueError("a host number starts at 1")
        return value
    if isinstance(value, str):
        try:
            return IPv4Address(value)
        except ValueError:
            raise ValueError(f"`{value}` is neither an IPv4 address nor a host number") from None
    return value


HostAddress = Annotated[IPv4Address | int, BeforeValidator(parse_host_address)]


# --- strings that reach shell commands and rendered files -------------------------------
# Each is validated as what it is; free text may hold anything printable and is
# quoted (JSON, shlex, HTML escaping) wherever it goes.

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _single_line(text: str) -> str:
    if _CONTROL.search(text):
        raise ValueError("must be one line of text (no newline, tab or control character)")
    return text


Text = Annotated[str, AfterValidator(_single_line)]
"""Free text (titles, names, descriptions): any printable characters, quoted where used."""

_DNS_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")


def _dns_name(name: str) -> str:
    """RFC 1123: dot-separated labels of letters, digits and inner hyphens; 253 at most."""
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(_DNS_LABEL.match(x) for x in labels):
        raise ValueError(
            f"`{name}` is not a DNS name (labels of letters, digits and inner '-', "
            "joined by '.', e.g. `ad.kayapinar.bel.tr`)"
        )
    return name


DnsName = Annotated[str, AfterValidator(_dns_name)]


def _server_name(name: str) -> str:
    """A DNS name or an IPv4 address (an NTP server, an S3 endpoint's host)."""
    try:
        IPv4Address(name)
        return name
    except ValueError:
        return _dns_name(name)


ServerName = Annotated[str, AfterValidator(_server_name)]

_URL = re.compile(
    r"^(?P<scheme>https?)://(?P<host>[A-Za-z0-9.-]+)(:(?P<port>\d{1,5}))?"
    r"(?P<rest>/[A-Za-z0-9._~/%+=&?:@-]*)?$"
)


def _url(url: str) -> str:
    match = _URL.match(url)
    if match is None:
        raise ValueError(
            f"`{url}` is not an http(s) URL of plain characters (no spaces, quotes, `$`, `;`)"
        )
    _server_name(match["host"])
    return url


Url = Annotated[str, AfterValidator(_url)]

_CALENDAR = re.compile(r"^[A-Za-z0-9*,./:~ -]+$")


def _calendar(spec: str) -> str:
    if not _CALENDAR.match(spec):
        raise ValueError(f"`{spec}` is not a systemd calendar expression, e.g. `*-*-* 01:30`")
    return spec


Calendar = Annotated[str, AfterValidator(_calendar)]


def _timezone(name: str) -> str:
    known = zoneinfo.available_timezones()
    if not re.fullmatch(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*", name) or (
        known and name not in known
    ):
        raise ValueError(f"`{name}` is not a time zone of the tz database, e.g. `Europe/Istanbul`")
    return name


Timezone = Annotated[str, AfterValidator(_timezone)]


def _absolute(path: str) -> str:
    _single_line(path)
    if not path.startswith("/") or ".." in path.split("/"):
        raise ValueError(f"`{path}` is not an absolute path without `..`")
    return path


AbsolutePath = Annotated[str, AfterValidator(_absolute)]

_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+$")


def _email(address: str) -> str:
    if not _EMAIL.match(address):
        raise ValueError(f"`{address}` is not a mail address")
    _dns_name(address.split("@", 1)[1])
    return address


Email = Annotated[str, AfterValidator(_email)]


# --- estate.yaml ------------------------------------------------------------------------


class VlanTemplate(Strict):
    """How one kind of VLAN is laid out inside every site's address block."""

    kind: VlanKind = Field(description="what the VLAN carries")
    id: int = Field(ge=1, le=4094, description="802.1Q VLAN id used at every site")
    prefix_length: int = Field(ge=16, le=30, description="size of the VLAN's subnet")
    index: int = Field(
        ge=0, description="which subnet of that size inside the site block (0 = the first)"
    )


class Retention(Strict):
    """How many snapshots `restic forget` keeps."""

    daily: int = Field(7, ge=0, description="snapshots kept, one per day")
    weekly: int = Field(5, ge=0, description="snapshots kept, one per week")
    monthly: int = Field(12, ge=0, description="snapshots kept, one per month")
    yearly: int = Field(3, ge=0, description="snapshots kept, one per year")


class BackupPolicy(Strict):
    """How one protected service is backed up, kept and proved restorable."""

    description: Text = Field("", description="what the service is, for reports")
    paths: list[AbsolutePath] = Field(min_length=1, description="absolute paths backed up")
    excludes: list[Text] = Field(default_factory=list, description="restic exclude patterns")
    pre_hooks: list[Text] = Field(
        default_factory=list,
        description="commands run before the backup (application-consistent dumps)",
    )
    post_hooks: list[Text] = Field(default_factory=list, description="commands run afterwards")
    schedule: Calendar = Field("*-*-* 01:00", description="systemd OnCalendar expression")
    retention: Retention = Field(default_factory=Retention, description="what forget keeps")
    rpo: Duration = Field(description="recovery point objective: the oldest acceptable backup")
    rto: Duration = Field(description="recovery time objective: restore to verified service")
    verify: list[Name] = Field(
        default_factory=list, description="checks the restore drill runs on the restored copy"
    )
    allow_empty: bool = Field(
        False,
        description="a drill that verified nothing still passes (a service that may be empty)",
    )


class PasswordPolicy(Strict):
    """The domain's password and lockout policy, applied on the primary DC."""

    min_length: int = Field(12, ge=8, le=20, description="shortest password accepted")
    complexity: bool = Field(True, description="require three of: upper, lower, digit, symbol")
    history_length: int = Field(24, ge=0, le=24, description="earlier passwords not reusable")
    min_age_days: int = Field(1, ge=0, le=998, description="days before a password may change")
    max_age_days: int = Field(180, ge=0, le=999, description="days a password lasts; 0: forever")
    lockout_threshold: int = Field(
        5, ge=0, le=999, description="failed logons before lockout; 0: never lock out"
    )
    lockout_minutes: int = Field(30, ge=1, le=99999, description="how long a lockout lasts")
    lockout_window_minutes: int = Field(
        30, ge=1, le=99999, description="failed logons are counted over this window"
    )


class S3Repository(Strict):
    """The S3 bucket at the DR site, when `dr_repository` is `s3` (MinIO or any S3 API)."""

    endpoint: Url = Field(description="S3 API URL, e.g. https://10.21.33.30:9000")
    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", description="bucket holding the repositories"
    )
    region: str = Field(
        "us-east-1", pattern=r"^[a-z0-9-]{1,32}$", description="region name the server expects"
    )
    lock_mode: Literal["GOVERNANCE", "COMPLIANCE"] = Field(
        "GOVERNANCE", description="object-lock mode; COMPLIANCE cannot be lifted by anyone"
    )
    lock_days: int | None = Field(
        None, ge=1, le=3650, description="default retention (default: longest daily retention)"
    )


class BackupNotify(Strict):
    """Who hears about a failed backup. Any of these, or none (the journal only)."""

    command: Text | None = Field(
        None, description="shell command; gets the message on stdin, BIMKIT_HOST/SERVICE set"
    )
    webhook: Url | None = Field(None, description="URL that receives a JSON POST")
    mail_to: Email | None = Field(None, description="address mailed with `mail` (needs an MTA)")


class TimeStampAuthority(Strict):
    """The RFC 3161 time stamp authority that seals each day of logs."""

    url: Url = Field("http://tzd.kamusm.gov.tr", description="TSA URL (default: TÜBİTAK Kamu SM's)")
    certificates: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9._/-]+\.pem$",
        description="PEM file beside the data with the TSA's CA chain; tokens are verified "
        "against it (required for sealing outside the lab)",
    )
    identity: bool = Field(
        False,
        description="TÜBİTAK Kamu SM's `identity` header, made anew for every request from the "
        "secrets `tsa_customer_id` and `tsa_password`",
    )


class DhcpSettings(Strict):
    """Address assignment: Kea on the DCs (a hot-standby pair), every data and voice VLAN."""

    lease_seconds: int = Field(28800, ge=300, le=604800, description="lease lifetime")
    pool_start: float = Field(
        0.5,
        gt=0,
        lt=1,
        description="where each VLAN's pool starts, as a fraction of its subnet (the rest "
        "below is for fixed addresses)",
    )
    phone_provisioning_url: Url | None = Field(
        None,
        description="option 66 for phones on voice VLANs (default: http://<PBX address>/prov/)",
    )


class CallQueue(Strict):
    """A call-centre queue (e.g. `beyaz-masa`); its agents are the people who list it."""

    description: Text = Field("", description="what the queue answers")
    strategy: Literal["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear"] = (
        Field("ringall", description="how Asterisk picks the agent to ring")
    )
    timeout: int = Field(20, ge=5, le=300, description="seconds an agent's phone rings")
    max_wait: int = Field(300, ge=30, le=3600, description="seconds a caller waits at most")


CallKind = Literal["internal", "local", "national", "mobile", "international", "premium"]
"""What a phone may dial beyond the estate's extensions and the emergency numbers, which every
phone reaches (roles/pbx). `internal` adds nothing: a class of only `internal` dials no outside
number. `premium` is the 0900 range, closed unless named."""
DEFAULT_CALLS: tuple[CallKind, ...] = ("local", "national", "mobile")


class SipTrunk(Strict):
    """The operator's SIP trunk: outside calls, and calls to the municipality's numbers."""

    host: ServerName = Field(description="the operator's SIP server")
    port: int = Field(5060, ge=1, le=65535, description="its SIP port")
    username: str = Field(
        pattern=r"^[A-Za-z0-9._+-]{1,64}$",
        description="the account (its password: the secret `sip_trunk_password`)",
    )
    numbers: list[Annotated[str, Field(pattern=r"^[0-9]{3,15}$")]] = Field(
        default_factory=list, description="numbers that reach the municipality (to the IVR)"
    )
    registration: bool = Field(
        True, description="register with the operator (false: the operator knows our address)"
    )
    max_calls: int = Field(
        30, ge=1, le=1000, description="outside calls at once through the trunk (emergency "
        "calls go out beyond it)"
    )


class MailRelay(Strict):
    """The SMTP server that takes mail from the estate's hosts (by address, no login)."""

    host: ServerName = Field(description="the relay, e.g. `posta.kayapinar.bel.tr`")
    port: int = Field(25, ge=1, le=65535, description="its SMTP port")
    starttls: bool = Field(True, description="insist on STARTTLS (false only on a trusted LAN)")


class SiteLink(Strict):
    """An Active Directory site link: the sites it joins and what crossing it costs."""

    sites: list[Name] = Field(min_length=2, description="the sites the link joins")
    cost: int = Field(100, ge=1, le=32767, description="lower is preferred (AD's default: 100)")


class Snmp(Strict):
    """SNMPv3 on the network devices; the passwords are secrets (`bimkit secrets check`)."""

    user: Name = Field("bimkit-nms", description="SNMPv3 user the monitoring system polls as")
    group: Name = Field("bimkit-ro", description="SNMPv3 group (read-only view of everything)")


class Switching(Strict):
    """What every switch of the estate gets besides its port plan (bimkit/network)."""

    login_user: Name = Field(
        "bimkit",
        description="local account bimkit signs in with (password: the `switch_password` "
        "secret, set once on the device by hand; bimkit never changes it)",
    )
    admins_group: Name = Field(
        "bim-admins", description="group whose active members get a local admin account"
    )
    storm_control_percent: float = Field(
        5.0, gt=0, le=100, description="broadcast and multicast limit on edge ports"
    )
    snmp: Snmp = Field(default_factory=Snmp, description="SNMPv3 for monitoring")


class SignInRule(Strict):
    """Who else, or who only, may sign in on a site's or one host's workstations."""

    add: list[Name] = Field(default_factory=list, description="groups or departments added")
    only: list[Name] | None = Field(
        None, description="these groups or departments instead (bim-admins always may)"
    )


class SignIn(Strict):
    """Who may sign in where (sssd enforces it, `bimkit.sign_in` plans it)."""

    offline_days: int = Field(
        3,
        ge=0,
        le=30,
        description="days a desk that cannot reach a DC accepts a cached password "
        "(0: none, a desk that cannot reach a DC signs no one in)",
    )
    sites: dict[Name, SignInRule] = Field(
        default_factory=dict, description="per site: beyond the staff housed there"
    )
    hosts: dict[Name, SignInRule] = Field(
        default_factory=dict, description="per workstation, after its site's rule"
    )


class WorkstationPolicy(Strict):
    """What every domain-joined workstation shows and enforces (roles/workstation)."""

    sign_in: SignIn = Field(
        default_factory=SignIn,
        description="who may sign in where: by default the staff of the departments the "
        "site houses (`departments:` in its file) and bim-admins",
    )

    banner: Text = Field(
        "Bu bilgisayar {municipality} Bilgi İşlem Müdürlüğü'nündür. Yalnızca yetkili "
        "personel kullanabilir; oturumlar kayıt altındadır (5651 sayılı Kanun).",
        description="shown before sign-in (console and SSH); `{municipality}` is filled in",
    )
    screen_lock_minutes: int = Field(10, ge=1, le=120, description="idle minutes to screen lock")


class Telephony(Strict):
    """The IP PBX (Asterisk on the `pbx` host): trunk, emergency numbers, queues, voicemail."""

    asterisk_apt_source: str | None = Field(
        None,
        pattern=r"^deb https?://[A-Za-z0-9._/:-]+ [a-z0-9-]+( [a-z0-9-]+)+$",
        description="apt line for Asterisk where the PBX's release lacks it, e.g. a "
        "backports repository (Debian 13 has no Asterisk)",
    )
    trunk: SipTrunk | None = Field(None, description="the operator's SIP trunk")
    emergency_numbers: list[Annotated[int, Field(ge=100, le=999)]] = Field(
        default_factory=lambda: [112, 110, 155, 156, 177],
        description="always dialled out through the trunk, from every phone, first",
    )
    citizen_line: int = Field(153, ge=100, le=999, description="Beyaz Masa's short number")
    inbound_queue: Name = Field(
        "beyaz-masa", description="the queue that answers the municipality's numbers"
    )
    queues: dict[Name, CallQueue] = Field(
        default_factory=lambda: {"beyaz-masa": CallQueue(description="Beyaz Masa")},
        description="call-centre queues",
    )
    mail_relay: MailRelay | None = Field(
        None, description="SMTP relay that voicemail is mailed through"
    )
    ring_seconds: int = Field(20, ge=5, le=120, description="before an unanswered call goes "
                              "to voicemail")  # fmt: skip
    calls_per_phone: int = Field(
        2, ge=1, le=20, description="calls one phone may have at once (emergency calls always "
        "go through); `max_calls` of a person or phone overrides it"
    )


class LogArchive(Strict):
    """The central log archive on the log server (law 5651)."""

    retention_years: int = Field(
        2,
        ge=2,
        le=100,
        description="calendar years kept (law 5651: two at least): a day goes only when it is "
        "older than the same date that many years before",
    )
    readers: Name = Field(
        "log-readers", description="group that may read the archive (KVKK: only them)"
    )
    seal_schedule: Calendar = Field(
        "*-*-* *:15",
        description="when the previous days are sealed (each run retries days left unsealed)",
    )
    tsa: TimeStampAuthority = Field(
        default_factory=TimeStampAuthority, description="who time-stamps each day"
    )


class EstateConfig(Strict):
    """`estate.yaml`: what holds for the whole municipality."""

    municipality: Text = Field(description="official name, e.g. `Kayapınar Belediyesi`")
    province: Text = Field(description="province (il), e.g. `Diyarbakır`")
    domain: DnsName = Field(description="public DNS domain, e.g. `kayapinar.bel.tr`")
    realm: DnsName = Field(
        description="Active Directory realm (DNS name), e.g. `ad.kayapinar.bel.tr`"
    )
    netbios_domain: str = Field(
        pattern=r"^[A-Z0-9][A-Z0-9-]{0,14}$", description="NetBIOS domain, e.g. `KAYAPINAR`"
    )
    supernet: IPv4Network = Field(description="the municipal address space all sites come from")
    site_prefix_length: int = Field(
        20, ge=8, le=28, description="size of each site's address block inside the supernet"
    )
    central_site: Name = Field(description="the site of the primary services")
    dr_site: Name = Field(description="the disaster-recovery centre")
    site_links: list[SiteLink] = Field(
        default_factory=list,
        description="Active Directory site links (default: every site to the central site)",
    )
    dr_repository: Literal["rest-server", "s3"] = Field(
        "rest-server", description="backup storage at the DR site: restic rest-server or S3"
    )
    timezone: Timezone = Field("Europe/Istanbul", description="tz database name for every host")
    debian_release: DebianRelease = Field(
        "trixie", description="Debian release of the Linux hosts (Debian 13)"
    )
    ntp_upstream: list[ServerName] = Field(
        default_factory=lambda: ["0.tr.pool.ntp.org", "1.tr.pool.ntp.org"],
        description="public NTP servers the domain controllers follow",
    )
    apt_proxy: Url | None = Field(
        None, description="HTTP proxy for apt on every Linux host, e.g. http://10.21.17.5:3142"
    )
    dns_forwarders: list[IPv4Address] = Field(
        default_factory=list, description="resolvers the DCs forward outside names to"
    )
    vlan_plan: list[VlanTemplate] = Field(
        min_length=1, description="layout of every VLAN kind inside a site block"
    )
    password_policy: PasswordPolicy = Field(
        default_factory=PasswordPolicy, description="domain password and lockout policy"
    )
    backup_policies: dict[Name, BackupPolicy] = Field(
        default_factory=dict, description="per protected service"
    )
    dr_s3: S3Repository | None = Field(None, description="the bucket, when dr_repository is s3")
    backup_notify: BackupNotify = Field(
        default_factory=BackupNotify, description="how a failed backup is reported"
    )
    logs: LogArchive = Field(
        default_factory=LogArchive, description="the central log archive and its sealing"
    )
    dhcp: DhcpSettings = Field(
        default_factory=DhcpSettings, description="address assignment for data and voice VLANs"
    )
    telephony: Telephony = Field(default_factory=Telephony, description="the IP PBX")
    workstations: WorkstationPolicy = Field(
        default_factory=WorkstationPolicy, description="sign-in banner and screen lock"
    )
    switching: Switching = Field(
        default_factory=Switching, description="management, guards and accounts of switches"
    )


# --- sites/<name>.yaml ---------------------------------------------------------------------


class VlanSpec(Strict):
    """A VLAN present at a site; unset values come from the estate's `vlan_plan`."""

    kind: VlanKind = Field(description="what the VLAN carries")
    id: int | None = Field(None, ge=1, le=4094, description="802.1Q id (default: the plan's)")
    subnet: IPv4Network | None = Field(None, description="override the derived subnet")
    gateway: IPv4Address | None = Field(None, description="default: the subnet's first address")


class PortUse(StrEnum):
    server = "server"
    workstation = "workstation"
    phone = "phone"
    camera = "camera"
    access_point = "access_point"
    uplink = "uplink"


class PortRange(Strict):
    """Consecutive ports of a switch with one use; the use decides VLANs, PoE and guards.

    server: access port in the servers VLAN. workstation: the data VLAN. phone:
    the data VLAN with the voice VLAN (a PC behind the phone). camera: the
    cameras VLAN. access_point: a trunk with the management VLAN untagged and
    data and guests tagged. These are edge ports (portfast, BPDU guard, storm
    control); uplinks are trunks, trusted by DHCP snooping.
    """

    first: int = Field(ge=1, le=512, description="first port number")
    last: int = Field(ge=1, le=512, description="last port number (inclusive)")
    use: PortUse = Field(description="what is plugged in")
    vlans: list[VlanKind] | None = Field(
        None, description="uplinks only: VLANs the trunk carries (default: every VLAN of the site)"
    )
    poe: bool | None = Field(
        None, description="power over Ethernet (default: on for phones, cameras, access points)"
    )
    description: Text = Field("", description="what the ports lead to, shown on the switch")

    @model_validator(mode="after")
    def _ordered(self) -> PortRange:
        if self.last < self.first:
            raise ValueError(f"last port {self.last} comes before first port {self.first}")
        return self


class ExtensionRange(Strict):
    """The telephone extensions that belong to a site."""

    first: int = Field(ge=100, le=99999, description="first extension")
    last: int = Field(ge=100, le=99999, description="last extension (inclusive)")

    @model_validator(mode="after")
    def _ordered(self) -> ExtensionRange:
        if self.last < self.first:
            raise ValueError(f"last extension {self.last} comes before first {self.first}")
        return self


PHONE_MODELS = {
    # model -> vendor family: one provisioning template per family (roles/pbx)
    "yealink-t31p": "yealink",
    "yealink-t33g": "yealink",
    "yealink-t46u": "yealink",
    "yealink-t54w": "yealink",
    "grandstream-grp2601": "grandstream",
    "grandstream-grp2614": "grandstream",
    "grandstream-gxp2170": "grandstream",
}


def _phone_model(model: str) -> str:
    if model not in PHONE_MODELS:
        raise ValueError(
            f"`{model}` is not a phone model bimkit provisions; known: {', '.join(PHONE_MODELS)}"
        )
    return model


PhoneModel = Annotated[str, AfterValidator(_phone_model)]


class Phone(Strict):
    """An IP phone at a site (DHCP in the voice VLAN; the PBX gives it its extension)."""

    name: Name = Field(description="phone name, unique in the estate, e.g. `zabita-tel01`")
    extension: int = Field(ge=100, le=99999, description="its extension, in the site's range")
    mac: MacAddress | None = Field(None, description="hardware address, for provisioning")
    model: PhoneModel = Field("yealink-t31p", description="phone model (picks its template)")
    calls: list[CallKind] = Field(
        default_factory=list,
        description="outside calls it may make (default none: the estate's extensions and the "
        "emergency numbers, which every phone reaches)",
    )
    max_calls: int | None = Field(
        None, ge=1, le=500, description="calls at once (default: telephony.calls_per_phone; "
        "more for a gateway or a DECT base)"
    )
    description: Text = Field("", description="where it stands, who uses it")


DebianRelease = Literal["trixie", "sid"]


class Host(Strict):
    """One machine or device at a site."""

    name: Name = Field(description="host name, unique in the estate")
    roles: list[Role] = Field(min_length=1, description="what bimkit deploys on it")
    os: OsFamily = Field(OsFamily.debian, description="operating system or device platform")
    release: DebianRelease | None = Field(
        None,
        description="Debian release of a Linux host (default: the estate's `debian_release`); "
        "`sid` where a package exists only in unstable (Asterisk)",
    )
    vlan: VlanKind | None = Field(
        None,
        description="VLAN it sits in (default: management for switches, data for "
        "workstations, servers otherwise)",
    )
    address: HostAddress = Field(
        description="IPv4 address, or host number inside its VLAN's subnet (10 -> .10)"
    )
    mac: MacAddress | None = Field(None, description="hardware address, for DHCP reservations")
    backup: list[Name] = Field(
        default_factory=list,
        description="extra services on this host to protect (roles add their own)",
    )
    ports: list[PortRange] = Field(default_factory=list, description="switches only: the port plan")
    description: Text = Field("", description="free text for the admins")


class SiteFile(Strict):
    """`sites/<name>.yaml`: one building."""

    name: Name = Field(description="short name, equal to the file name")
    number: int = Field(ge=0, description="picks the site's address block inside the supernet")
    title: Text = Field(description="the building's name, e.g. `Zabıta Müdürlüğü`")
    address: Text = Field("", description="postal address")
    vlans: list[VlanSpec] = Field(min_length=1, description="VLANs present at the site")
    hosts: list[Host] = Field(default_factory=list, description="machines and devices")
    extensions: ExtensionRange | None = Field(None, description="the site's extension range")
    phones: list[Phone] = Field(default_factory=list, description="IP phones")
    departments: list[Name] = Field(
        default_factory=list,
        description="müdürlükler or units housed in the building: their staff sign in at its "
        "workstations",
    )


# --- directory/*.yaml -----------------------------------------------------------------------


class Department(Strict):
    """A müdürlük or one of its units."""

    id: Name = Field(description="stable short id")
    name: Text = Field(description="official Turkish name")
    parent: Name | None = Field(None, description="the müdürlük a unit belongs to")
    own_share: bool = Field(
        False,
        description="a unit with a share of its own on the file server, instead of a "
        "folder in its müdürlük's share",
    )
    managers: list[Text] = Field(
        default_factory=list,
        description="personnel ids of a müdürlük's managers (the müdür, the chiefs): they "
        "change its top folder and read every unit's (group `<id>-yonetim`)",
    )


class DepartmentsFile(Strict):
    departments: list[Department] = Field(min_length=1, description="müdürlükler and units")


class Group(Strict):
    """A security group that is not a department, e.g. `bim-admins`."""

    name: Name = Field(description="group name in AD and on Linux hosts")
    description: Text = Field("", description="what membership grants")


class GroupsFile(Strict):
    groups: list[Group] = Field(default_factory=list, description="groups besides departments")


Username = Annotated[str, Field(pattern=USERNAME_PATTERN.pattern)]
SshPublicKey = Annotated[
    str,
    Field(
        pattern=r"^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) [A-Za-z0-9+/]+={0,3}"
        r"( [A-Za-z0-9@._-]+)?$"
    ),
]
PersonId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")]


class Person(Strict):
    """One member of staff: drives their account, phone, voicemail and queues."""

    id: PersonId = Field(description="stable personnel id (sicil no); never reused")
    given_name: Text = Field(min_length=1, description="given name(s), Turkish letters intact")
    family_name: Text = Field(min_length=1, description="family name, Turkish letters intact")
    department: Name = Field(description="id of their department or unit")
    title: Text = Field("", description="job title (unvan)")
    username: Username | None = Field(None, description="explicit username (default: derived)")
    extension: int | None = Field(None, ge=100, le=99999, description="phone extension")
    phone_mac: MacAddress | None = Field(None, description="MAC of their IP phone")
    phone_model: PhoneModel = Field("yealink-t46u", description="model of their IP phone")
    calls: list[CallKind] = Field(
        default_factory=lambda: list(DEFAULT_CALLS),
        description="their class of service: the outside calls they may make (internal, local, "
        "national, mobile, international, premium); emergency numbers always go out",
    )
    max_calls: int | None = Field(
        None, ge=1, le=500, description="calls at once (default: telephony.calls_per_phone; "
        "more for a gateway or a DECT base)"
    )
    mailbox: bool = Field(True, description="voicemail box on their extension")
    queues: list[Name] = Field(default_factory=list, description="call-centre queues they answer")
    groups: list[Name] = Field(default_factory=list, description="security groups")
    ssh_keys: list[SshPublicKey] = Field(
        default_factory=list,
        description="public SSH keys: admins sign in to switches with them where the "
        "platform takes keys",
    )
    active: bool = Field(True, description="false disables account, phone and voicemail")


class PeopleFile(Strict):
    people: list[Person] = Field(default_factory=list, description="staff, leavers removed")


HOLDER_PATTERN = re.compile(r"person [A-Za-z0-9][A-Za-z0-9-]{0,31}|phone [a-z0-9][a-z0-9-]{0,62}")


def _holder(value: str) -> str:
    if not HOLDER_PATTERN.fullmatch(value):
        raise ValueError(f"{value!r} is not `person <id>` or `phone <site phone's name>`")
    return value


Holder = Annotated[str, AfterValidator(_holder)]
"""Who holds an extension: `person <id>` or `phone <name>` (a site phone)."""


class ExtensionsFile(Strict):
    """`directory/extensions.yaml`: who has held each extension, in order.

    Written by `bimkit pbx record`. A device's SIP password and initial voicemail PIN come
    from its holder, the extension and the number of the assignment: a new holder, the same
    one again, or a phone reissued gets new ones, and the phone before is refused.
    """

    holders: dict[int, list[Holder]] = Field(
        default_factory=dict, description="extension -> its holders, oldest first"
    )


class UsernamesFile(Strict):
    """`directory/usernames.yaml`: usernames already handed out, by person id.

    Kept (also for people who have left) so that a username never changes
    and is never given to somebody else.
    """

    usernames: dict[PersonId, Username] = Field(
        default_factory=dict, description="person id -> username handed out"
    )
    retired: dict[Username, PersonId] = Field(
        default_factory=dict,
        description="username -> person id: names given up by a rename, never handed out again",
    )
