"""The evidence package for the authorities: who had an address when, and how to check it
with nothing but openssl and sha256sum.

    kanit-10.21.50.77-20260303T1412/
      tutanak.html            the handover record (kayıt teslim tutanağı), Turkish; record.html
                              in English: the answer, the seals, every file's SHA-256, and the
                              exact commands that verify everything
      dogrula.sh              those same commands, to run (verify.sh in English)
      SHA256SUMS              every other file of the package
      logs/<day>/<dhcp server>.leases   the day's lease records as archived
      logs/<day>/SHA256SUMS   that day's manifest
      chain/<record>.txt|.tsr the day's seal and every later record to the newest, each with
                              its RFC 3161 token: the links that tie the day to the chain
      tsa/<sha256>.pem        the TSA certificate chains those tokens were made under
"""

from __future__ import annotations

import datetime
import hashlib
import io
import itertools
import shlex
import tarfile
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import jinja2
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from dr.errors import DrError
from dr.logs.archive import MANIFEST, day_folders
from dr.logs.chain import Chain, Entry, load
from dr.logs.jobs import Archive, sealed_days
from dr.logs.leases import who_had
from dr.logs.token import read_reply
from dr.logs.verification import Verification

WORDS = {
    "tr": {"page": "tutanak.html", "script": "dogrula.sh", "prefix": "kanit"},
    "en": {"page": "record.html", "script": "verify.sh", "prefix": "evidence"},
}


class NoEvidence(DrError):
    """Nothing that could be handed over: no lease, a day not sealed yet, or one that fails."""


@dataclass(frozen=True)
class Package:
    name: str
    archive: bytes
    """tar.gz with one folder, `name`."""
    files: int


def _where(lease_location: str) -> tuple[datetime.date, str, int]:
    """`2026-03-03/dc1.leases:12` -> (day, file, line)."""
    path, _, line = lease_location.rpartition(":")
    day, _, name = path.partition("/")
    return datetime.date.fromisoformat(day), name, int(line)


def build(
    archive: Archive,
    address: str,
    at: datetime.datetime,
    longest_lease_seconds: int,
    lang: str,
    now: datetime.datetime,
    verification: Verification,
    municipality: str = "",
) -> Package:
    """The package for `address` at `at`; NoEvidence when there is nothing sound to give.

    + verification: of the days concerned, against the DR host's copy; a failure stops it
    """
    leases = who_had(archive.root, address, at, longest_lease_seconds)
    if not leases:
        raise NoEvidence(f"no lease of {address} at {at.isoformat()} in {archive.root}")
    locations = [
        _where(where) for lease in leases for where in (lease.where, lease.ended_by) if where
    ]
    days = sorted({day for day, _, _ in locations})
    failed = [
        v for v in verification.days if not v.ok and datetime.date.fromisoformat(v.day) in days
    ]
    notes = {v.day: v.note for v in verification.days}
    if failed or verification.chain_problems:
        said = "; ".join(
            [*verification.chain_problems, *(f"{v.day}: {p}" for v in failed for p in v.problems)]
        )
        raise NoEvidence(f"the archive does not verify for this answer: {said[:600]}")
    chain = load(archive.chain_dir)
    sealed = sealed_days(chain)
    unsealed = [day for day in days if day not in sealed]
    if unsealed:
        raise NoEvidence(
            f"{unsealed[0]} is not sealed yet: its package can be made once it is "
            "(the seal runs hourly after midnight)"
        )
    links = chain_links(chain, min(sealed[day].sequence for day in days), verification)
    missing = {e.record.fields["tsa-chain-sha256"] for e in links} - set(chain.tsa_chains)
    if missing:
        raise NoEvidence(f"{archive.chain_dir}: the TSA chain {sorted(missing)[0][:12]}… of a "
                         "link is not kept on the log server")  # fmt: skip
    files = _files(archive.root, chain.tsa_chains, locations, days, links)
    words = WORDS[lang]
    name = f"{words['prefix']}-{address}-{at:%Y%m%dT%H%M}"
    commands = verification_commands(
        address,
        days,
        sorted({(d, f) for d, f, _ in locations}),
        {day: sealed[day].name for day in days},
        links,
        lang,
    )
    files[words["script"]] = commands.encode()
    sums = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items())
    )
    page = render_page(
        lang=lang,
        address=address,
        at=at,
        leases=leases,
        municipality=municipality,
        log_server=archive.log_server,
        zone=str(archive.zone),
        made_at=now.astimezone(archive.zone),
        days=[(day, sealed[day], notes.get(day.isoformat(), "")) for day in days],
        links=links,
        chains={
            d: certificates(chain.tsa_chains[d])
            for d in sorted({e.record.fields["tsa-chain-sha256"] for e in links})
        },
        records=_record_lines(archive.root, locations),
        sums=sums,
        commands=commands,
        script=words["script"],
    )
    files |= {"SHA256SUMS": sums.encode(), words["page"]: page.encode()}
    return Package(name, _tar(name, files), len(files))


def chain_links(chain: Chain, first: int, verification: Verification) -> list[Entry]:
    """The records from the day's seal on, up to the newest that verifies: whatever came
    wrong later (a record someone added) does not concern this day's proof."""
    links = []
    for entry in chain.ordered():
        if entry.record.sequence < first:
            continue
        if entry.record.name in verification.record_problems:
            break
        links.append(entry)
    return links


def _files(
    root: Path,
    tsa_chains: dict[str, bytes],
    locations: list[tuple[datetime.date, str, int]],
    days: list[datetime.date],
    links: list[Entry],
) -> dict[str, bytes]:
    folders = day_folders(root)
    files: dict[str, bytes] = {}
    for day, name, _ in locations:
        files[f"logs/{day}/{name}"] = (folders[day] / name).read_bytes()
    for day in days:
        files[f"logs/{day}/{MANIFEST}"] = (folders[day] / MANIFEST).read_bytes()
    for entry in links:
        assert entry.token is not None
        files[f"chain/{entry.record.name}.txt"] = entry.text
        files[f"chain/{entry.record.name}.tsr"] = entry.token
        digest = entry.record.fields["tsa-chain-sha256"]
        files[f"tsa/{digest}.pem"] = tsa_chains[digest]
    return files


SCRIPT_WORDS = {
    "tr": {
        "intro": "# Bu klasörde çalıştırın. Yalnızca sh, sha256sum, grep, cut ve openssl gerekir.",
        "failed": "HATA", "ok": "DOGRULANDI",
        "files": "# 1. Paketin her dosyası teslim edilenin aynısı.",
        "files_fail": "bir dosya SHA256SUMS ile uyusmuyor",
        "tokens": "# 2. Her kaydın RFC 3161 zaman damgası, damgalandığı anda geçerli olduğu gibi.",
        "token_fail": "{name} damgasi",
        "links": "# 3. Her kayıt bir öncekinin damgasının SHA-256 özetini taşır: zincir bütün.",
        "link_fail": "{after} {before} kaydini izlemiyor",
        "days": "# 4. Günün listesi mührünün adını verdiği liste; kayıtlar ona uyar.",
        "manifest_fail": "{day} listesi", "records_fail": "{day} kayitlari",
        "records": "# 5. {address} adresinin kayıtları.",
        "anchors": "# 6. Damgaların güvendiği sertifika: parmak izini zaman damgası "
        "sağlayıcısının yayımladığıyla karşılaştırın.",
    },
    "en": {
        "intro": "# Run in this folder. Needs only sh, sha256sum, grep, cut and openssl.",
        "failed": "FAILED", "ok": "VERIFIED",
        "files": "# 1. Every file of the package is the one handed over.",
        "files_fail": "a file differs from SHA256SUMS",
        "tokens": "# 2. Each record's RFC 3161 token, checked as it was valid when stamped.",
        "token_fail": "token of {name}",
        "links": "# 3. Each record names the SHA-256 of the token before it: the chain is whole.",
        "link_fail": "{after} does not follow {before}",
        "days": "# 4. The day's manifest is the one its seal names, and the records match it.",
        "manifest_fail": "manifest of {day}", "records_fail": "the records of {day}",
        "records": "# 5. The records of {address}.",
        "anchors": "# 6. The certificate the tokens rest on: compare its fingerprint with the "
        "one the time stamp authority publishes.",
    },
}  # fmt: skip
"""The script's comments and messages; its messages are ASCII, for any terminal."""


def verification_commands(
    address: str,
    days: list[datetime.date],
    lease_files: list[tuple[datetime.date, str]],
    seals: dict[datetime.date, str],
    links: list[Entry],
    lang: str = "tr",
) -> str:
    """A POSIX shell script of the exact commands, run in the package's folder; each step
    stops the script with what failed."""
    words = SCRIPT_WORDS[lang]
    lines = [
        "#!/bin/sh",
        words["intro"],
        f'fail() {{ echo "{words["failed"]}: $1" >&2; exit 1; }}',
        words["files"],
        f"sha256sum -c --quiet SHA256SUMS || fail '{words['files_fail']}'",
        words["tokens"],
    ]
    for entry in links:
        assert entry.token is not None
        name, digest = entry.record.name, entry.record.fields["tsa-chain-sha256"]
        when = int(read_reply(entry.token).stamped_at.timestamp())
        lines.append(
            f"openssl ts -verify -data chain/{name}.txt -in chain/{name}.tsr "
            f"-CAfile tsa/{digest}.pem -attime {when} >/dev/null 2>&1 "
            f"|| fail '{words['token_fail'].format(name=name)}'"
        )
    lines.append(words["links"])
    for before, after in itertools.pairwise(links):
        failure = words["link_fail"].format(after=after.record.name, before=before.record.name)
        lines.append(
            f'grep -qx "previous-token-sha256: $(sha256sum chain/{before.record.name}.tsr '
            f"| cut -c1-64)\" chain/{after.record.name}.txt || fail '{failure}'"
        )
    lines.append(words["days"])
    for day in days:
        lines.append(
            f'grep -qx "manifest-sha256: $(sha256sum logs/{day}/SHA256SUMS | cut -c1-64)" '
            f"chain/{seals[day]}.txt || fail '{words['manifest_fail'].format(day=day)}'"
        )
    for day, name in lease_files:
        exact = "^[0-9a-f]{64}  " + name.replace(".", "\\.") + "$"
        lines.append(
            f"(cd logs/{day} && grep -E '{exact}' SHA256SUMS | sha256sum -c --quiet --strict -) "
            f"|| fail '{words['records_fail'].format(day=day)}'"
        )
    lines.append(words["records"].format(address=address))
    for day, name in lease_files:
        lines.append(f"grep -n {shlex.quote(f'address={address} ')} logs/{day}/{name} "
                     f"|| fail '{words['records_fail'].format(day=day)}'")  # fmt: skip
    lines.append(words["anchors"])
    for digest in sorted({entry.record.fields["tsa-chain-sha256"] for entry in links}):
        lines.append(f"openssl x509 -noout -subject -fingerprint -sha256 -in tsa/{digest}.pem")
    lines.append(f"echo {words['ok']}")
    return "\n".join(lines) + "\n"


def _record_lines(root: Path, locations: list[tuple[datetime.date, str, int]]) -> list[str]:
    folders = day_folders(root)
    found = []
    for day, name, number in locations:
        with (folders[day] / name).open(errors="replace") as handle:
            for index, line in enumerate(handle, 1):
                if index == number:
                    found.append(f"logs/{day}/{name}:{number}: {line.rstrip()}")
                    break
    return found


def certificates(pem: bytes) -> list[tuple[str, str]]:
    """(subject, SHA-256 fingerprint) of each certificate in a TSA chain, for the reader to
    compare with what the TSA publishes."""
    try:
        found = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return []
    return [(c.subject.rfc4514_string(), c.fingerprint(hashes.SHA256()).hex(":").upper())
            for c in found]  # fmt: skip


def render_page(**values: object) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template("evidence.html.j2").render(**values, stamped=_stamped)


def _stamped(entry: Entry, zone: str) -> str:
    assert entry.token is not None
    moment = read_reply(entry.token).stamped_at.astimezone(zoneinfo.ZoneInfo(zone))
    return moment.isoformat(timespec="seconds")


def _tar(name: str, files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{name}/{path}")
            info.size, info.mode = len(data), 0o755 if path.endswith(".sh") else 0o644
            info.mtime = int(datetime.datetime.now(datetime.UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
