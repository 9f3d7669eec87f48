"""bimkit-logs: the log server's archive (law 5651) — seal, verify, prune, status, search.

    bimkit-logs seal                      seal every closed day without a token (timer)
    bimkit-logs prune                     delete days older than the retention (timer)
    bimkit-logs verify [--from D] [--to D] [--root DIR] [--ca FILE]
    bimkit-logs status
    bimkit-logs search --ip A --at TIME   who had address A at TIME (ISO 8601)

Every command takes --json for machines (`bimkit logs` reads it over SSH).
Exit status: 0 all well; 1 a day unsealed, altered, missing or unverifiable,
or nothing found; 2 bad arguments or configuration.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import logging
import logging.handlers
import os
import sys
import zoneinfo
from pathlib import Path
from typing import Any

from dr.config import ConfigInvalid, LogsConfig, load
from dr.logs.jobs import prune, seal_days, status, verify_days
from dr.logs.leases import who_had
from dr.paths import LOGS_CONFIG


def today_in(zone: str) -> datetime.date:
    return datetime.datetime.now(zoneinfo.ZoneInfo(zone)).date()


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bimkit-logs", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=os.environ.get("BIMKIT_LOGS_CONFIG", LOGS_CONFIG))
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("seal")
    commands.add_parser("prune")
    commands.add_parser("status")
    verify = commands.add_parser("verify")
    verify.add_argument("--from", dest="first", type=datetime.date.fromisoformat)
    verify.add_argument("--to", dest="last", type=datetime.date.fromisoformat)
    verify.add_argument("--root", help="a restored copy instead of the live archive")
    verify.add_argument("--ca", help="TSA trust anchors (default: the configured ones)")
    search = commands.add_parser("search")
    search.add_argument("--ip", required=True)
    search.add_argument("--at", required=True, type=datetime.datetime.fromisoformat)
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
    root, today = Path(config.root), today_in(config.timezone)
    command = arguments.command
    if command == "seal":
        sealed = seal_days(root, today, config.tsa)
        failed = [result for result in sealed if result.outcome != "sealed"]
        return _print(arguments, sealed, [f"{r.day}: {r.outcome} {r.detail}" for r in sealed],
                      1 if failed else 0)  # fmt: skip
    if command == "prune":
        removed = prune(root, today, config.retention_days)
        lines = [f"deleted {p.day}: {p.files} files, {p.bytes} bytes" for p in removed]
        return _print(arguments, removed, lines, 0)
    if command == "status":
        state = status(root, today, config.retention_days)
        bad = state.unsealed_days or state.missing_days or state.last_sealed_day is None
        return _print(arguments, state, _status_lines(state), 1 if bad else 0)
    if command == "verify":
        verdicts = verify_days(
            Path(arguments.root) if arguments.root else root, today,
            arguments.ca or config.tsa.ca_file, arguments.first, arguments.last,
        )  # fmt: skip
        lines = [f"{v.day}: {'ok' if v.ok else 'FAILED'} ({v.files} files)" +
                 "".join(f"\n  {p}" for p in v.problems) for v in verdicts]  # fmt: skip
        if not verdicts:
            lines = ["nothing verified: no closed day in the range"]
        broken = not verdicts or any(not v.ok for v in verdicts)
        return _print(arguments, verdicts, lines, 1 if broken else 0)
    zone = zoneinfo.ZoneInfo(config.timezone)
    at = arguments.at if arguments.at.tzinfo else arguments.at.replace(tzinfo=zone)
    leases = who_had(root, arguments.ip, at)
    lines = [
        f"{lease.address} {lease.mac} {lease.hostname or '-'} {lease.start} .. {lease.end} "
        f"({lease.server}, {lease.where})"
        for lease in leases
    ] or [f"no lease of {arguments.ip} at {at.isoformat()} in {root}"]
    return _print(arguments, leases, lines, 0 if leases else 1)


def _status_lines(state: Any) -> list[str]:
    return [
        f"archive {state.root}: {state.days} days from {state.first_day}",
        f"last sealed day: {state.last_sealed_day}",
        *(f"  {source}: {day}" for source, day in state.last_sealed_by_source.items()),
        f"unsealed days: {', '.join(state.unsealed_days) or 'none'}",
        f"missing days: {', '.join(state.missing_days) or 'none'}",
        f"used {state.used_bytes} bytes; at full retention ({state.retention_days} days) "
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
        return {**dataclasses.asdict(value), **({"ok": value.ok} if hasattr(value, "ok") else {})}
    if isinstance(value, list):
        return [_plain(item) for item in value]
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
