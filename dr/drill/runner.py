"""bimkit-drill: restore drills on the DR host.

    bimkit-drill run [--service S]... [--keep] [--lang tr|en]
    bimkit-drill report [--lang tr|en]

`run` removes what an earlier drill left, then restores each protected
service's latest snapshot (`restic restore --verify`), runs its recovery
procedure and checks, measures RPO (drill time - snapshot time) and RTO
(restore start - service verified), and writes the report: JSON, HTML and
a line in the history. Progress goes to stderr, the drill's JSON to stdout.
Exit 1 when any service failed or missed its RPO or RTO. `report`
re-renders the HTML from the history.

Reads /etc/bimkit/drill.json (dr.config.DrillConfig) and the DR jobs' dr.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dr import restic
from dr.config import ConfigInvalid, DrConfig, DrillConfig, load
from dr.drill import active_directory, files, in_sandbox, log_seals, pbx, plan, report, sandbox
from dr.drill.messages import LANGUAGES, Failure, said
from dr.errors import DrError
from dr.paths import DRILL_CONFIG
from dr.process import CommandFailed
from dr.sandbox.image import ImageRecipe


class DrillError(Failure):
    """A drill step outside the sandbox failed (no snapshot, restic's restore)."""


def log(message: str) -> None:
    print(f"bimkit-drill: {message}", file=sys.stderr, flush=True)


def latest_snapshot(repository: restic.Repository, service: str) -> dict[str, Any]:
    listed = restic.run(repository, "snapshots", "--no-lock", "--tag", f"service={service}")
    if not listed.messages:
        raise DrillError("no_snapshot", service=service, host=repository.owner)
    return max(listed.messages, key=lambda s: restic.parse_time(s["time"]))


def restore(
    repository: restic.Repository, snapshot: Mapping[str, Any], target: Path
) -> dict[str, Any]:
    """restic restore --verify; any error names the snapshot and the file."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    done = restic.run(
        repository, "restore", snapshot["id"], "--target", str(target), "--verify",
        allowed=(0, 1),
    )  # fmt: skip
    errors = restic.reported_errors(done)
    if done.exit_code != 0 or errors:
        named = "; ".join(f"{e['item'] or '?'}: {e['message']}" for e in errors[:3])
        last = done.stderr.strip().splitlines()[-1:] if done.stderr.strip() else []
        raise DrillError(
            "restore_failed",
            host=repository.owner,
            snapshot=snapshot["short_id"],
            detail=named or (last[0] if last else f"exit {done.exit_code}"),
        )
    return next((m for m in done.messages if m.get("message_type") == "summary"), {})


def drill_one(
    config: DrillConfig,
    dr: DrConfig,
    target: plan.DrillTarget,
    drill_id: str,
    now: datetime.datetime,
    keep: bool,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "host": target.host,
        "service": target.service,
        "procedure": target.procedure,
        "rpo_seconds": target.rpo_seconds,
        "rto_seconds": target.rto_seconds,
        "checks": [],
    }
    run_dir = Path(config.work_dir) / "runs" / drill_id / f"{target.host}-{target.service}"
    restore_dir = run_dir / "restore"
    try:
        if target.procedure is None:
            raise DrillError(
                "no_procedure", checks=", ".join(target.checks), service=target.service
            )
        repository = restic.for_dr_host(dr, target.host)
        snapshot = latest_snapshot(repository, target.service)
        taken = restic.parse_time(snapshot["time"])
        result |= {
            "snapshot_id": snapshot["short_id"],
            "snapshot_time": taken.astimezone(now.tzinfo).isoformat(timespec="seconds"),
            "rpo_achieved_seconds": round((now - taken).total_seconds()),
        }
        image = Path()
        recipe = sandbox_recipe(config, target.procedure)
        if recipe is not None:
            # Built before the RTO clock starts: a first drill must not pay for it.
            log(f"{target.host}/{target.service}: the drill image (built once)")
            image = sandbox.image(Path(config.image_cache), recipe, config.http_proxy)
        log(f"{target.host}/{target.service}: restoring snapshot {snapshot['short_id']}")
        started = time.monotonic()
        summary = restore(repository, snapshot, restore_dir)
        result["bytes_restored"] = summary.get("total_bytes", 0)
        result["files_restored"] = summary.get("total_files", 0)
        result["restore_seconds"] = round(time.monotonic() - started, 1)
        if target.procedure == "files":
            log(f"{target.host}/{target.service}: checking every file against the manifest")
            checks, figures = files.recover(
                restore_dir, target.service, config.sample_percent,
                config.tolerance_percent, drill_id, target.allow_empty,
                acls="acls" in target.checks,
            )  # fmt: skip
            result["verification"] = figures
            if log_seals.CHECK in target.checks:
                log(f"{target.host}/{target.service}: checking every day's seal")
                copy = Path(config.seal_stores) / target.host if config.seal_stores else None
                checks.append(log_seals.check(restore_dir, copy, taken, config.timezone,
                                              config.tsa_ca_file))  # fmt: skip
        else:
            log(f"{target.host}/{target.service}: recovering {target.procedure} in a sandbox")
            checks = recover_in_sandbox(config, target, run_dir, restore_dir, image, keep)
        result["checks"] = checks
        result["rto_achieved_seconds"] = round(time.monotonic() - started, 1)
        seconds = max(result["rto_achieved_seconds"], 0.001)
        result["throughput_mb_s"] = round(result["bytes_restored"] / seconds / 1e6, 1)
    except Failure as failure:
        result |= error_of(failure.message, **failure.args_)
    except restic.ResticError as error:
        result |= error_of("failed", detail=str(error))
    except (DrError, CommandFailed) as error:
        result |= error_of("failed", detail=f"{target.host}/{target.service}: {error}")
    finally:
        if not keep:
            shutil.rmtree(run_dir, ignore_errors=True)
    result["status"] = plan.verdict(result)
    log(f"{target.host}/{target.service}: {result['status']}"
        + (f" ({result['error']})" if result.get("error") else ""))  # fmt: skip
    return result


def error_of(message: str, **args: Any) -> dict[str, Any]:
    """A result's error: English in `error`, and what the report translates."""
    words = said(message, **args)
    return {"error": words["detail"], "error_message": message, "error_args": args}


def sandbox_recipe(config: DrillConfig, procedure: str | None) -> ImageRecipe | None:
    """The image a procedure's sandbox boots, or None when it needs no sandbox."""
    if procedure == "active-directory":
        return active_directory.recipe(config.mirror)
    if procedure == "pbx":
        return pbx.recipe(config.mirror, config.pbx_release)
    return None


def recover_in_sandbox(
    config: DrillConfig,
    target: plan.DrillTarget,
    run_dir: Path,
    restore_dir: Path,
    image: Path,
    keep: bool,
) -> list[dict[str, Any]]:
    """The procedure's recovery in a fresh sandbox: the snapshot and the runtime read-only,
    its own run folder writable."""
    box = sandbox.plan(
        Path(config.work_dir),
        target.host,
        config.sandbox_address,
        {str(run_dir / "run"): in_sandbox.RUN_MOUNT},
        read_only_binds={
            str(restore_dir): in_sandbox.RESTORE_MOUNT,
            str(Path(config.specs_dir).parents[2]): in_sandbox.LIB_MOUNT,
        },
        unified_cgroup=target.procedure == "pbx" and config.pbx_release != "trixie",
    )
    (run_dir / "run").mkdir(parents=True, exist_ok=True)
    os.chmod(run_dir / "run", 0o700)
    with sandbox.running(box, image, keep) as spec:
        if target.procedure == "pbx":
            return pbx.recover(spec, target, run_dir / "run", config.production_addresses)
        return active_directory.recover(
            spec,
            target,
            run_dir / "run",
            config.realm,
            str(box.address.ip),
            config.production_addresses,
        )


def run(config: DrillConfig, only: Sequence[str], keep: bool, lang: str) -> int:
    dr = load(DrConfig, config.dr_config)
    removed = sandbox.remove_leftovers(Path(config.work_dir))
    if removed:
        log(f"removed what an earlier drill left: {', '.join(removed)}")
    shutil.rmtree(Path(config.work_dir) / "runs", ignore_errors=True)
    zone = ZoneInfo(config.timezone)
    now = datetime.datetime.now(zone)
    drill_id = now.strftime("%Y%m%dT%H%M%S")
    chosen = plan.targets(config, only)
    if not chosen:
        raise SystemExit(f"bimkit-drill: no protected service matches {', '.join(only)}")
    results = [drill_one(config, dr, target, drill_id, now, keep) for target in chosen]
    document = {
        "drill_id": drill_id,
        "time": now.isoformat(timespec="seconds"),
        "timezone": str(zone),
        "municipality": config.municipality,
        "dr_host": config.dr_host,
        "results": results,
        "cleaned_up": removed,
    }
    saved = report.save(Path(config.reports_dir), document, lang)
    log(f"report: {saved}")
    json.dump(document, sys.stdout, indent=1)
    print()
    return 0 if all(r["status"] == "OK" for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bimkit-drill", description="Restore drills.")
    commands = parser.add_subparsers(dest="command", required=True)
    running = commands.add_parser("run", help="drill every protected service, or some")
    running.add_argument("--service", action="append", default=[], help="service or host")
    running.add_argument("--keep", action="store_true", help="leave the sandbox for inspection")
    for command in (running, commands.add_parser("report", help="re-render from the history")):
        command.add_argument("--lang", choices=LANGUAGES, default=None)
    arguments = parser.parse_args(argv)
    try:
        config = load(DrillConfig, os.environ.get("BIMKIT_DRILL_CONFIG", DRILL_CONFIG))
    except ConfigInvalid as error:
        print(f"bimkit-drill: {error}", file=sys.stderr)
        return 1
    lang = arguments.lang or config.lang
    if arguments.command == "report":
        print(report.rerender(Path(config.reports_dir), lang))
        return 0
    return run(config, arguments.service, arguments.keep, lang)


if __name__ == "__main__":
    sys.exit(main())
