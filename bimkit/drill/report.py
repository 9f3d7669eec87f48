"""Drill reports: JSON for machines, an appended history, and a self-contained HTML page.

The HTML is evidence for the municipality's auditors: Turkish by default
("Felaket Kurtarma Tatbikatı Raporu"), English on request; RTO and RPO per
service against their targets as bar charts, and the trend over past drills
from the history. No script, no external file: inline SVG and CSS only.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

LANGUAGES = ("tr", "en")
HISTORY = "history.jsonl"
TEXT: Mapping[str, Mapping[str, str]] = {
    "tr": {
        "title": "Felaket Kurtarma Tatbikatı Raporu",
        "drill": "Tatbikat",
        "host": "Sunucu",
        "service": "Hizmet",
        "snapshot": "Yedek (anlık görüntü)",
        "status": "Sonuç",
        "rpo": "RPO (veri kaybı penceresi)",
        "rto": "RTO (geri dönüş süresi)",
        "achieved": "gerçekleşen",
        "target": "hedef",
        "restored": "Geri yüklenen",
        "checks": "Doğrulamalar",
        "trend": "Geçmiş tatbikatlarda RTO",
        "summary_ok": "Tüm hizmetler geri yüklendi, doğrulandı ve hedefleri karşıladı.",
        "summary_bad": "Başarısız ya da hedefi kaçıran hizmet var: ayrıntılar aşağıda.",
        "OK": "BAŞARILI",
        "FAILED": "BAŞARISIZ",
        "BREACH": "HEDEF AŞILDI",
        "error": "Hata",
        "cleaned": "Önceki tatbikattan kalan temizlendi",
        "h": "sa",
        "min": "dk",
        "s": "sn",
    },
    "en": {
        "title": "Disaster Recovery Drill Report",
        "drill": "Drill",
        "host": "Host",
        "service": "Service",
        "snapshot": "Snapshot",
        "status": "Result",
        "rpo": "RPO (data-loss window)",
        "rto": "RTO (time to recover)",
        "achieved": "achieved",
        "target": "target",
        "restored": "Restored",
        "checks": "Checks",
        "trend": "RTO over past drills",
        "summary_ok": "Every service was restored, verified and met its targets.",
        "summary_bad": "A service failed or missed a target: details below.",
        "OK": "PASSED",
        "FAILED": "FAILED",
        "BREACH": "TARGET MISSED",
        "error": "Error",
        "cleaned": "Cleaned up after an earlier drill",
        "h": "h",
        "min": "min",
        "s": "s",
    },
}
BAR_WIDTH = 420


def duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "–"
    text = TEXT[lang]
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} {text['s']}"
    hours, minutes = divmod(seconds // 60, 60)
    return f"{hours} {text['h']} {minutes} {text['min']}" if hours else f"{minutes} {text['min']}"


def bars(results: Sequence[Mapping[str, Any]], kind: str) -> list[dict[str, Any]]:
    """Achieved against target per service, scaled to the longer of the two (kind: rpo, rto)."""
    rows = []
    for result in results:
        achieved, target = result.get(f"{kind}_achieved_seconds"), result[f"{kind}_seconds"]
        scale = max(achieved or 0, target) or 1
        rows.append({
            "label": f"{result['host']}/{result['service']}",
            "achieved": achieved,
            "target": target,
            "width": round(BAR_WIDTH * (achieved or 0) / scale),
            "target_x": round(BAR_WIDTH * target / scale),
            "over": achieved is None or achieved > target,
        })  # fmt: skip
    return rows


def trend(
    history: Sequence[Mapping[str, Any]], width: int = 560, height: int = 160
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
    lines = [
        {
            "label": label,
            "points": " ".join(
                f"{round(x * step)},{round(height - value / top * (height - 10))}"
                for x, value in points
            ),
        }
        for label, points in sorted(series.items())
    ]
    return {"lines": lines, "drills": [d["drill_id"] for d in drills], "top": top,
            "width": width, "height": height}  # fmt: skip


def render(document: Mapping[str, Any], history: Sequence[Mapping[str, Any]], lang: str) -> str:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    environment.filters["duration"] = lambda seconds: duration(seconds, lang)
    results = document["results"]
    return environment.get_template("report.html.j2").render(
        t=TEXT[lang],
        lang=lang,
        drill=document,
        ok=all(result["status"] == "OK" for result in results),
        rto_bars=bars(results, "rto"),
        rpo_bars=bars(results, "rpo"),
        trend=trend(history),
        bar_width=BAR_WIDTH,
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
    text = json.dumps(document, indent=1, ensure_ascii=False)
    _write(folder / "report.json", text + "\n")
    with open(reports_dir / HISTORY, "a", encoding="utf-8") as history:
        history.write(json.dumps(document, ensure_ascii=False) + "\n")
        history.flush()
        os.fsync(history.fileno())
    html = render(document, read_history(reports_dir), lang)
    _write(folder / "report.html", html)
    _write(reports_dir / "latest.json", text + "\n")
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
