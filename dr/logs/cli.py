"""bimkit-logs: the log server's archive (law 5651) — seal, verify, prune, status, search.

    bimkit-logs run                          seal, then prune (the hourly timer)
    bimkit-logs seal                         seal every closed day not sealed yet, in the chain
    bimkit-logs prune [--at-most N]          delete days past the retention, recorded first
    bimkit-logs verify [--from D] [--to D] [--root DIR] [--copy DIR]
    bimkit-logs status
    bimkit-logs search --ip A --at TIME      who had address A at TIME (ISO 8601)
    bimkit-logs acknowledge DAY --reason TEXT --by NAME
    bimkit-logs evidence --ip A --at TIME [--lang tr|en] --output FILE|-

Every command takes --json for machines (`bimkit logs` reads it over SSH).
Exit status: 0 all well; 1 a day unsealed, altered, missing or unverifiable,
a refusal, or nothing found; 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime
import json
import logging
import logging.handlers
import os
import sys
import tempfile
import zoneinfo
from pathlib import Path
from typing import Any

from dr.config import ConfigInvalid, LogsConfig, load
from dr.logs import clock
from dr.logs.jobs import PRUNE_AT_ONCE, Archive, ChainRefused, acknowledge, prune, seal, status
from dr.logs.leases import who_had
from dr.logs.store import StoreError, fetch
from dr.logs.timestamp import TokenInvalid, TsaUnreachable
from dr.logs.verification import Verification, verify
from dr.paths import LOGS_CONFIG


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bimkit-logs", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.environ.get("BIMKIT_LOGS_CONFIG", LOGS_CONFIG))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seal")
    for name in ("run", "prune"):
        commands.add_parser(name).add_argument(
            "--at-most", type=int, default=PRUNE_AT_ONCE,
            help="days that may go at once (more: the clock is checked by hand)",
        )  # fmt: skip
    commands.add_parser("status")
    checking = commands.add_parser("verify")
    checking.add_argument("--from", dest="first", type=datetime.date.fromisoformat)
    checking.add_argument("--to", dest="last", type=datetime.date.fromisoformat)
    checking.add_argument("--root", help="a restored copy instead of the live archive")
    checking.add_argument(
        "--copy",
        help="the DR host's copy of the chain, as a folder (default: fetched from the DR host)",
    )
    search = commands.add_parser("search")
    search.add_argument("--ip", required=True)
    search.add_argument("--at", required=True, type=datetime.datetime.fromisoformat)
    acknowledging = commands.add_parser("acknowledge")
    acknowledging.add_argument("day", type=datetime.date.fromisoformat)
    acknowledging.add_argument("--reason", required=True)
    acknowledging.add_argument("--by", required=True)
    package = commands.add_parser("evidence")
    package.add_argument("--ip", required=True)
    package.add_argument("--at", required=True, type=datetime.datetime.fromisoformat)
    package.add_argument("--lang", choices=("tr", "en"), default="tr")
    package.add_argument("--output", required=True, help="a file, or - for base64 on stdout")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    try:
        arguments = parse_arguments(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as exit_:
        return 2 if exit_.code else 0
    _log_to_syslog()
    try:
        config = load(LogsConfig, arguments.config)
    except ConfigInvalid as error:
        print(f"bimkit-logs: {error}", file=sys.stderr)
        return 2
    archive = Archive.from_config(config)
    now = datetime.datetime.now(datetime.UTC)
    try:
        return COMMANDS[arguments.command](arguments, config, archive, now)
    except (ChainRefused, TsaUnreachable, TokenInvalid) as error:
        return _print(arguments, {"error": str(error)}, [f"bimkit-logs: {error}"], 1)


def _seal(
    arguments: argparse.Namespace, _: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    report = seal(archive, now)
    lines = [f"{r.day}: {r.outcome} {r.record} {r.detail}".rstrip() for r in report.results]
    copied = report.copied
    lines.append(
        f"DR host's copy: {len(copied.files)} files sent"
        if not copied.error
        else f"DR host's copy: NOT MADE: {copied.error}"
    )
    lines += [f"DIFFERS from the DR host's copy: {name}" for name in copied.differing]
    return _print(arguments, report, lines, 0 if report.ok else 1)


def _prune(
    arguments: argparse.Namespace, _: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    pruned = prune(archive, now, clock.synchronised(), arguments.at_most)
    lines = (
        [
            f"deleted {', '.join(pruned.days)}: {pruned.files} files, {pruned.bytes} bytes "
            f"({pruned.record})"
        ]
        if pruned.days
        else ["nothing past the retention"]
    )
    if pruned.copied.error:
        lines.append(f"DR host's copy: NOT MADE: {pruned.copied.error}")
    return _print(arguments, pruned, lines, 1 if pruned.copied.error else 0)


def _run(
    arguments: argparse.Namespace, config: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    """The timer's work: seal first (the retention must wait for nothing), then prune."""
    sealed = _seal(arguments, config, archive, now)
    try:
        pruned = _prune(arguments, config, archive, now)
    except (ChainRefused, TsaUnreachable, TokenInvalid) as error:
        print(f"bimkit-logs: prune: {error}", file=sys.stderr)
        logging.getLogger("bimkit-logs").error("prune: %s", error)
        pruned = 1
    return max(sealed, pruned)


def _status(
    arguments: argparse.Namespace, _: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    state = status(archive, now)
    bad = state.unsealed_days or state.missing_days or state.last_sealed_day is None
    return _print(arguments, state, _status_lines(state), 1 if bad else 0)


def _verify(
    arguments: argparse.Namespace, config: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    root = Path(arguments.root) if arguments.root else None
    copy = Path(arguments.copy) if arguments.copy else None
    result = verified(config, archive, now, arguments.first, arguments.last, root, copy)
    return _print(arguments, result, verification_lines(result), 0 if result.ok else 1)


def verified(
    config: LogsConfig,
    archive: Archive,
    now: datetime.datetime,
    first: datetime.date | None,
    last: datetime.date | None,
    root: Path | None = None,
    copy: Path | None = None,
) -> Verification:
    """The archive (or a restored `root`) verified against the DR host's copy: `copy`, or
    fetched from the DR host now."""
    with tempfile.TemporaryDirectory(prefix="bimkit-copy-") as work:
        fetch_error = ""
        if copy is None and config.store is not None:
            try:
                copy = fetch(config.store, Path(work))
            except StoreError as error:
                fetch_error = str(error)
        result = verify(root or archive.root, archive.zone, now, copy, first, last,
                        config.retention_years, trusted=_trusted(config))  # fmt: skip
    if fetch_error:
        result = dataclasses.replace(
            result,
            chain_problems=[
                f"the DR host's copy could not be fetched: {fetch_error}",
                *result.chain_problems,
            ],
        )
    return result


def verification_lines(result: Verification) -> list[str]:
    lines = [f"chain: {problem}" for problem in result.chain_problems]
    for verdict in result.days:
        lines.append(
            f"{verdict.day}: {'ok' if verdict.ok else 'FAILED'} {verdict.state} "
            f"({verdict.files} files{', ' + verdict.record if verdict.record else ''})"
            + (f" {verdict.note}" if verdict.note else "")
        )
        lines += [f"  {problem}" for problem in verdict.problems]
    if not result.days:
        lines.append("nothing verified: no closed day in the range")
    return lines


def _search(
    arguments: argparse.Namespace, config: LogsConfig, archive: Archive, _now: datetime.datetime
) -> int:
    at = local_time(arguments.at, archive.zone)
    leases = who_had(archive.root, arguments.ip, at, config.longest_lease_seconds)
    holder = config.static_addresses.get(arguments.ip)
    answer = {
        "address": arguments.ip,
        "at": at.isoformat(),
        "static": holder,
        "leases": [dataclasses.asdict(lease) for lease in leases],
    }
    lines = [
        f"{lease.address} {lease.mac} {lease.hostname or '-'} {lease.start} .. {lease.end} "
        f"({lease.server}, {lease.where})"
        for lease in leases
    ]
    if holder:
        lines.append(f"{arguments.ip} is a fixed address in the data: {holder}")
    if not lines:
        lines = [f"no lease of {arguments.ip} at {at.isoformat()} in {archive.root}"]
    return _print(arguments, answer, lines, 0 if leases or holder else 1)


def _acknowledge(
    arguments: argparse.Namespace, _: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    record, copied = acknowledge(archive, arguments.day, arguments.reason, arguments.by, now)
    lines = [f"{arguments.day}: acknowledged ({record.name}, {record.fields['what']})"]
    if copied.error:
        lines.append(f"DR host's copy: NOT MADE: {copied.error}")
    return _print(
        arguments,
        {"record": record.name, "what": record.fields["what"], "copy_error": copied.error},
        lines,
        0,
    )


def _evidence(
    arguments: argparse.Namespace, config: LogsConfig, archive: Archive, now: datetime.datetime
) -> int:
    from dr.logs import evidence  # Jinja2: only this command needs it

    at = local_time(arguments.at, archive.zone)
    since = (at - datetime.timedelta(seconds=config.longest_lease_seconds)).date()
    checked = verified(config, archive, now, since, at.date() + datetime.timedelta(1))
    try:
        package = evidence.build(archive, arguments.ip, at, config.longest_lease_seconds,
                                 arguments.lang, now, checked, config.municipality)  # fmt: skip
    except evidence.NoEvidence as error:
        return _print(arguments, {"error": str(error)}, [f"bimkit-logs: {error}"], 1)
    if arguments.output == "-":
        sys.stdout.write(base64.encodebytes(package.archive).decode())
    else:
        Path(arguments.output).write_bytes(package.archive)
        print(
            f"{arguments.output}: {package.name}, {len(package.archive)} bytes, "
            f"{package.files} files",
            file=sys.stderr,
        )
    return 0


def _trusted(config: LogsConfig) -> bytes | None:
    """The TSA's CA as the data names it, on this host."""
    try:
        return Path(config.tsa.ca_file).read_bytes()
    except OSError:
        return None


COMMANDS = {
    "run": _run,
    "seal": _seal,
    "prune": _prune,
    "status": _status,
    "verify": _verify,
    "search": _search,
    "acknowledge": _acknowledge,
    "evidence": _evidence,
}


def local_time(moment: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """A time given without an offset is the estate's local time."""
    return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)


def _status_lines(state: Any) -> list[str]:
    return [
        f"archive {state.root}: {state.days} days from {state.first_day} ({state.timezone})",
        f"chain: {state.chain_records} records, last {state.last_record} stamped "
        f"{state.last_stamped_at}",
        f"last sealed day: {state.last_sealed_day}",
        *(f"  {source}: {day}" for source, day in state.last_sealed_by_source.items()),
        f"unsealed days: {', '.join(state.unsealed_days) or 'none'}",
        f"missing days: {', '.join(state.missing_days) or 'none'}",
        f"acknowledged days: {', '.join(state.acknowledged_days) or 'none'}",
        *(
            f"FORGED LEASE RECORDS: {f.lines} line(s) in {f.source}'s syslog on {f.day}"
            for f in state.lease_forgeries
        ),
        f"used {state.used_bytes} bytes; at full retention ({state.retention_years} years) "
        f"about {state.projected_bytes}; free {state.free_bytes} of {state.filesystem_bytes}",
    ]


def _print(arguments: argparse.Namespace, result: Any, lines: list[str], code: int) -> int:
    if arguments.json:
        json.dump(_plain(result), sys.stdout, indent=1, ensure_ascii=False)
        print()
    else:
        print("\n".join(lines))
    return code


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        plain = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {**plain, **({"ok": value.ok} if hasattr(value, "ok") else {})}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _log_to_syslog() -> None:
    """Seal failures and every deletion reach the journal and so the archive itself."""
    logger = logging.getLogger("bimkit-logs")
    logger.setLevel(logging.INFO)
    if os.path.exists("/dev/log"):
        handler = logging.handlers.SysLogHandler(address="/dev/log")
        handler.setFormatter(logging.Formatter("bimkit-logs: %(message)s"))
        logger.addHandler(handler)


if __name__ == "__main__":
    sys.exit(main())
