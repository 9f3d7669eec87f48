"""Drill reports: JSON for machines, an appended history, and a self-contained HTML page.

The HTML is evidence for the municipality's auditors: Turkish by default
("Felaket Kurtarma Tatbikatı Raporu"), English on request; RTO and RPO per
service against their targets as bar charts, and the trend over past drills
from the history. No script, no external file: inline SVG and CSS only.
"""

from __future__ import annotations

import datetime
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from dr.drill.messages import CHECKS, LABELS, MESSAGES, text

HISTORY = "history.jsonl"
CHART_WIDTH = 420
"""Pixels of a bar chart's scale."""
CHAR_WIDTH = 7.5
"""Pixels per character of 12 px DejaVu Sans, generous, so that no label is cut off."""
TICKS = (1, 10, 60, 600, 3600, 6 * 3600, 86400, 7 * 86400, 30 * 86400)
"""Seconds marked on the logarithmic axis of the RPO and RTO charts."""


def duration(seconds: float | None, lang: str) -> str:
    """`95 sn`, `4 sa 5 dk`, `3 gün` in Turkish; `95 s`, `4 h 5 min`, `3 d` in English."""
    if seconds is None:
        return "–"
    words = LABELS[lang]
    seconds = round(seconds)
    if seconds < 60 or (seconds < 120 and seconds % 60):
        return f"{seconds} {words['s']}"
    if seconds >= 3 * 86400:
        return f"{seconds / 86400:.0f} {words['d']}"
    hours, minutes = divmod(seconds // 60, 60)
    if not hours:
        return f"{minutes} {words['min']}"
    return f"{hours} {words['h']}" + (f" {minutes} {words['min']}" if minutes else "")


def text_width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH) + 12


def log_position(seconds: float, top: float) -> int:
    """Where `seconds` falls on a logarithmic scale from 1 s to `top`, in pixels."""
    return round(CHART_WIDTH * math.log10(max(seconds, 1)) / math.log10(top))


def bar_chart(results: Sequence[Mapping[str, Any]], kind: str, lang: str) -> dict[str, Any]:
    """Achieved against target per service on one logarithmic scale (kind: rpo, rto).

    Readable at any ratio (14 s against 4 h), every label whole: the columns
    are as wide as their longest text.
    """
    values = [
        v for r in results for v in (r.get(f"{kind}_achieved_seconds"), r[f"{kind}_seconds"]) if v
    ]
    top = max([60.0, *values]) * 1.5
    rows: list[dict[str, Any]] = []
    for result in results:
        achieved, target = result.get(f"{kind}_achieved_seconds"), result[f"{kind}_seconds"]
        rows.append({
            "label": f"{result['host']}/{result['service']}",
            "value": f"{duration(achieved, lang)} / {duration(target, lang)}",
            "width": max(log_position(achieved, top), 2) if achieved is not None else 0,
            "target_x": log_position(target, top),
            "over": achieved is None or achieved > target,
        })  # fmt: skip
    label_width = max((text_width(row["label"]) for row in rows), default=60)
    value_width = max((text_width(row["value"]) for row in rows), default=60)
    return {
        "rows": rows,
        "label_width": label_width,
        "chart_width": CHART_WIDTH,
        "width": label_width + CHART_WIDTH + value_width,
        "height": len(rows) * 28 + 36,
        "ticks": [
            {"x": log_position(tick, top), "label": duration(tick, lang)}
            for tick in TICKS
            if tick < top
        ],
    }


def trend(
    history: Sequence[Mapping[str, Any]], lang: str, width: int = 560, height: int = 160
) -> dict[str, Any]:
    """Each service's RTO over the drills in the history, as SVG polyline points."""
    drills = list(history)[-12:]
    series: dict[str, list[tuple[int, float]]] = {}
    for index, drill in enumerate(drills):
        for result in drill["results"]:
            if result.get("rto_achieved_seconds") is not None:
                label = f"{result['host']}/{result['service']}"
                series.setdefault(label, []).append((index, result["rto_achieved_seconds"]))
    top = max((value for points in series.values() for _, value in points), default=1) or 1
    step = width / max(len(drills) - 1, 1)
    lines = []
    for label, points in sorted(series.items()):
        # 6 px in from the left edge, so that the first drill's dot is whole.
        dots = [
            (6 + round(x * step), round(height - value / top * (height - 10)))
            for x, value in points
        ]
        lines.append(
            {"label": label, "dots": dots, "points": " ".join(f"{x},{y}" for x, y in dots)}
        )
    highest = f"{LABELS[lang]['highest']} {duration(top, lang)}"
    legend = max([text_width(highest), *(text_width(str(line["label"])) for line in lines)])
    return {"lines": lines, "drills": [d["drill_id"] for d in drills], "highest": highest,
            "width": width, "height": height, "legend_width": legend}  # fmt: skip


def when(iso: str | None) -> str:
    """`2026-10-01T02:00:00+03:00` as `2026-10-01 02:00:00 (+03:00)`: the time as recorded,
    in the estate's zone, its offset kept."""
    if not iso:
        return ""
    moment = datetime.datetime.fromisoformat(iso)
    offset = moment.strftime("%z")
    return moment.strftime("%Y-%m-%d %H:%M:%S") + (
        f" ({offset[:3]}:{offset[3:]})" if offset else ""
    )


def check_name(name: str, lang: str) -> str:
    return CHECKS[name][lang] if name in CHECKS else name


def said_in(item: Mapping[str, Any], key: str, lang: str) -> str:
    """A check's detail or a result's error in `lang` (as recorded when no message id)."""
    message = item.get("message" if key == "detail" else "error_message")
    if isinstance(message, str) and message in MESSAGES:
        return text(message, lang, item.get("args" if key == "detail" else "error_args") or {})
    return str(item.get(key, ""))


def render(document: Mapping[str, Any], history: Sequence[Mapping[str, Any]], lang: str) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["duration"] = lambda seconds: duration(seconds, lang)
    environment.filters["check_name"] = lambda name: check_name(name, lang)
    environment.filters["when"] = when
    environment.filters["said"] = lambda item, key: said_in(item, key, lang)
    results = document["results"]
    return environment.get_template("report.html.j2").render(
        t=LABELS[lang],
        lang=lang,
        drill=document,
        ok=all(result["status"] == "OK" for result in results),
        charts=[
            (LABELS[lang]["rto"], bar_chart(results, "rto", lang)),
            (LABELS[lang]["rpo"], bar_chart(results, "rpo", lang)),
        ],
        trend=trend(history, lang),
    )


def read_history(reports_dir: Path) -> list[dict[str, Any]]:
    path = reports_dir / HISTORY
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def save(reports_dir: Path, document: Mapping[str, Any], lang: str) -> Path:
    """<id>/report.json and report.html, a line in the history, and latest.{json,html}."""
    folder = reports_dir / str(document["drill_id"])
    folder.mkdir(parents=True, exist_ok=True)
    body = json.dumps(document, indent=1, ensure_ascii=False)
    _write(folder / "report.json", body + "\n")
    with open(reports_dir / HISTORY, "a", encoding="utf-8") as history:
        history.write(json.dumps(document, ensure_ascii=False) + "\n")
        history.flush()
        os.fsync(history.fileno())
    html = render(document, read_history(reports_dir), lang)
    _write(folder / "report.html", html)
    _write(reports_dir / "latest.json", body + "\n")
    _write(reports_dir / "latest.html", html)
    return folder / "report.html"


def rerender(reports_dir: Path, lang: str) -> Path:
    """latest.html again from the history, e.g. in the other language."""
    history = read_history(reports_dir)
    if not history:
        raise SystemExit(f"bimkit-drill: no drill in {reports_dir / HISTORY} yet")
    latest: Path = reports_dir / "latest.html"
    _write(latest, render(history[-1], history, lang))
    return latest
