"""The report's charts, made with Altair and rendered offline with vl-convert.

vl-convert embeds the Vega engine, so rendering needs no browser and no
network; the SVG goes inline into the HTML report, the PNG into the PDF and
into ``docs/``.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import vl_convert as vlc

from amnesty.analysis.figures import OUTCOMES, get

COLOURS = {"eligible": "#2a7f62", "review": "#e0a030", "ineligible": "#b0b0b0"}


def _long(table: dict[str, Any], key: str) -> list[dict[str, Any]]:
    cols = table["columns"]
    out = []
    for row in table["rows"]:
        values = dict(zip(cols, row, strict=True))
        for o in OUTCOMES:
            if values.get(o) is not None:
                out.append({key: values[key] or "unrecorded", "outcome": o, "persons": values[o]})
    return out


def _stacked(table: dict[str, Any], key: str, title: str) -> alt.Chart:
    scale = alt.Scale(domain=list(COLOURS), range=list(COLOURS.values()))
    return (
        alt.Chart(alt.Data(values=_long(table, key)), title=title)
        .mark_bar()
        .encode(
            y=alt.Y(f"{key}:N", sort="-x", title=None),
            x=alt.X("persons:Q", stack="zero", title="persons"),
            color=alt.Color("outcome:N", scale=scale, sort=list(OUTCOMES)),
        )
        .properties(width=520)
    )


def charts(report: dict[str, Any]) -> dict[str, alt.TopLevelMixin]:
    """name -> chart, for the tables the report has."""
    tables = report["tables"]
    out: dict[str, alt.TopLevelMixin] = {
        "by_province": _stacked(get(tables, "by_province"), "province", "Outcome by province"),
        "by_facility_type": _stacked(
            get(tables, "by_facility_type"), "facility_type", "Outcome by facility type"
        ),
    }
    grounds = get(tables, "by_ground")
    out["grounds"] = (
        alt.Chart(
            alt.Data(
                values=[{"ground": g, "persons": n} for g, n in grounds["rows"] if n is not None]
            ),
            title="Eligible persons by ground",
        )
        .mark_bar(color=COLOURS["eligible"])
        .encode(y=alt.Y("ground:N", title=None), x=alt.X("persons:Q"))
        .properties(width=520)
    )
    division = get(tables, "by_division")
    cols = division["columns"]
    cells = []
    for row in division["rows"]:
        v = dict(zip(cols, row, strict=True))
        if v["persons"] and v["eligible"] is not None:
            cells.append(
                {
                    "division": v["division"] or "unrecorded",
                    "province": v["province"] or "unrecorded",
                    "share": round(v["eligible"] / v["persons"], 3),
                }
            )
    base = alt.Chart(alt.Data(values=cells), title="Share eligible by division").encode(
        y=alt.Y("division:N", title=None, sort=alt.EncodingSortField("province")),
        x=alt.X("province:N", title=None),
    )
    out["division_share"] = base.mark_rect().encode(
        color=alt.Color("share:Q", scale=alt.Scale(scheme="greens"), title="share eligible")
    ) + base.mark_text(fontSize=9).encode(text=alt.Text("share:Q", format=".0%"))
    return out


def svg(chart: alt.TopLevelMixin) -> str:
    return str(vlc.vegalite_to_svg(chart.to_dict()))


def png(chart: alt.TopLevelMixin, scale: float = 2.0) -> bytes:
    return bytes(vlc.vegalite_to_png(chart.to_dict(), scale=scale))
