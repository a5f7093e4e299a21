"""A printable PDF report of one session (matplotlib's PDF backend; no browser or external tool needed)."""

from __future__ import annotations

import io
import math
import textwrap
from datetime import datetime

from fastapi import APIRouter, Request, Response
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from formcheck.storage.database import User
from server.api.deps import DB, CurrentUser, SessionId, visible_session
from server.services import audit
from server.services.reports import detail

router = APIRouter()

A4 = (8.27, 11.69)
LINES_PER_PAGE = 52
INK, MUTED, BRAND, BAND = "#1b1f24", "#4d5662", "#0b5cad", "#1d7a36"


@router.get("/sessions/{session_id}/report.pdf")
def session_report_pdf(session_id: SessionId, user: CurrentUser, db: DB, request: Request) -> Response:
    """The session as a printable PDF (same access rules as the session itself)."""
    row = visible_session(db, user, session_id)
    audit.record(db, request, user, "session.report_pdf", patient_id=row.patient_id, session_id=row.id)
    patient = db.get(User, row.patient_id) if row.patient_id else None
    name = (patient.display_name or patient.username) if patient else ""
    pdf = session_pdf(detail(db, row), name)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="session-{session_id}.pdf"'},
    )


def _pretty(s: str | None) -> str:
    s = (s or "").replace("_", " ")
    return s[:1].upper() + s[1:]


def _when(value) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return str(value or "")


def _text_lines(d: dict, patient_name: str) -> list[tuple[str, str]]:
    """(style, text) lines of the report's text part."""
    reps, holds, warnings, pain = d["reps"], d["holds"], d["warnings"], d["pain"]
    scores = [r["score"] for r in reps]
    targets = sum(s.get("target_reps") or 0 for s in d.get("sets") or [])
    lines: list[tuple[str, str]] = [
        ("title", f"{_pretty(d.get('title'))} — session report"),
        ("muted", f"Patient: {patient_name or '–'}    Date: {_when(d.get('started_at'))}"),
        ("muted", f"{'Uploaded video' if d.get('kind') == 'upload' else 'Live session'}, "
                  f"{d.get('duration_s') or 0:.1f} s, pose model {d.get('model')}, status {d.get('status')}"),
        ("", ""),
        ("head", "Summary"),
        ("", f"Repetitions: {len(reps)}" + (f" (target {targets})" if targets else "")),
        ("", f"Average score: {sum(scores) / len(scores):.0f}/100" if scores else "Average score: –"),
    ]
    if holds:
        lines.append(("", f"Holds: {len(holds)}, longest {max(h['duration_s'] for h in holds):.1f} s"))
    lines.append(("", f"Form warnings: {len(warnings)}"))
    lines.append(("", "Pain: " + (", ".join(f"{p['rating']}/10 {p['location']}" for p in pain) or "none reported")))
    for notice in d.get("notices") or []:
        lines.append(("warn", f"Note: {notice}"))
    if reps:
        header = f"{'#':>3}  {'start':>7}  {'end':>7}  {'score':>5}  faults"
        lines += [("", ""), ("head", "Repetitions"), ("mono", header)]
        for r in reps:
            faults = ", ".join(_pretty(f) for f in r["faults"]) or "good form"
            when = f"{r['start_s']:>6.1f}s  {r['end_s']:>6.1f}s"
            lines.append(("mono", f"{r['index']:>3}  {when}  {r['score']:>5.0f}  {faults}"))
    if holds:
        lines += [("", ""), ("head", "Holds")]
        for i, h in enumerate(holds, 1):
            lines.append(("mono", f"{i:>3}  {h['start_s']:>6.1f}s  {h['duration_s']:>5.1f}s of {h['target_s']} s  "
                                  + (", ".join(_pretty(f) for f in h["faults"]) or "")))
    if warnings:
        lines += [("", ""), ("head", "Form warnings")]
        for w in warnings:
            lines.append(("mono", f"{w['t_s']:>6.1f}s  {w['message']}"))
    if pain:
        lines += [("", ""), ("head", "Pain reports")]
        for p in pain:
            lines.append(("mono", f"{p['t_s']:>6.1f}s  {p['rating']}/10  {p['location']}  {p['note']}"))
    if d.get("notes"):
        lines += [("", ""), ("head", "Therapist notes")]
        for n in d["notes"]:
            for i, part in enumerate(textwrap.wrap(n["text"], 90) or [""]):
                lines.append(("", f"{_when(n['created_at'])[:10]}: {part}" if i == 0 else f"    {part}"))
    return lines


_STYLE = {
    "title": dict(fontsize=16, weight="bold", color=INK),
    "head": dict(fontsize=12, weight="bold", color=BRAND),
    "muted": dict(fontsize=9.5, color=MUTED),
    "warn": dict(fontsize=9.5, color="#9a5b00"),
    "mono": dict(fontsize=8.5, family="monospace", color=INK),
    "": dict(fontsize=10, color=INK),
}


def _text_pages(pdf: PdfPages, lines: list[tuple[str, str]]) -> None:
    for start in range(0, max(len(lines), 1), LINES_PER_PAGE):
        fig = Figure(figsize=A4)
        y = 0.95
        for style, text in lines[start : start + LINES_PER_PAGE]:
            fig.text(0.08, y, text, va="top", **_STYLE[style])
            y -= 0.03 if style == "title" else 0.017
        fig.text(0.08, 0.03, "formcheck", fontsize=8, color=MUTED)
        pdf.savefig(fig)


def _curves(d: dict) -> list[tuple[str, str, list, list, list | None]]:
    """(exercise, signal, t, values, band) for every recorded signal."""
    out = []
    for exercise, s in (d.get("series") or {}).items():  # {exercise id: {"t": [...], "<signal>": [...], ...}}
        bands = s.get("target_band") or {}
        for signal, values in s.items():
            if signal in ("t", "target_band") or not isinstance(values, list):
                continue
            if any(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values):
                out.append((exercise, signal, s["t"], values, bands.get(signal)))
    return out


def _chart_pages(pdf: PdfPages, d: dict) -> None:
    curves = _curves(d)
    per_page = 3
    for start in range(0, len(curves), per_page):
        fig = Figure(figsize=A4)
        fig.text(0.08, 0.96, "Joint angles", va="top", **_STYLE["head"])
        legend = "green: target band · blue: repetitions · dotted: form warnings"
        fig.text(0.08, 0.94, legend, va="top", **_STYLE["muted"])
        chunk = curves[start : start + per_page]
        for i, (exercise, signal, t, values, band) in enumerate(chunk):
            ax = fig.add_axes((0.1, 0.64 - i * 0.3, 0.84, 0.22))
            ys = [math.nan if v is None else v for v in values]
            ax.plot(t, ys, color=BRAND, linewidth=1.4)
            if band and any(b is not None for b in band):
                bottom, top = ax.get_ylim()
                lo = band[0] if band[0] is not None else bottom
                hi = band[1] if len(band) > 1 and band[1] is not None else top
                ax.axhspan(min(lo, hi), max(lo, hi), color=BAND, alpha=0.14, label="target band")
                ax.set_ylim(min(bottom, lo, hi), max(top, lo, hi))
            for r in d["reps"]:
                if r.get("exercise") == exercise:
                    ax.axvspan(r["start_s"], r["end_s"], color=BRAND, alpha=0.08)
                    ax.text((r["start_s"] + r["end_s"]) / 2, 1.0, f"#{r['index']}", transform=ax.get_xaxis_transform(),
                            ha="center", va="bottom", fontsize=8, color=BRAND)
            for w in d["warnings"]:
                ax.axvline(w["t_s"], color="#9a5b00", linewidth=0.8, linestyle=":")
            ax.set_title(f"{_pretty(exercise)}: {_pretty(signal)}", fontsize=11, loc="left", pad=14)
            ax.set_xlabel("time (s)", fontsize=9)
            ax.set_ylabel("degrees", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(alpha=0.3)
        pdf.savefig(fig)


def session_pdf(d: dict, patient_name: str = "") -> bytes:
    """The PDF bytes for a session detail dict (``server.services.reports.detail``)."""
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": f"formcheck session {d.get('id')}", "Creator": "formcheck"}) as pdf:
        _text_pages(pdf, _text_lines(d, patient_name))
        _chart_pages(pdf, d)
    return buf.getvalue()
