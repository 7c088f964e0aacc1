"""Figure builders: polars frames from the published marts in, Plotly figures out.

Every builder drops the rows flagged `suppressed` before plotting, whatever their value column
holds, so that a masked cell can never reach a trace, a label or a tooltip. A masked cell may
appear as the words "< seuil", never as a number.

A figure is Plotly's own JSON form, a dictionary of `data` (the traces) and `layout`, which
`plotly.graph_objects.Figure(figure)` validates and plotly.js draws as it is. A night makes
thousands of figures, one per territory and period: building `go.Figure` objects took half of
the dashboards' time, for figures that are only ever written out as JSON.
tests/test_dashboard_figures.py validates every figure of a rendered site instead.
"""

import textwrap

import polars as pl

from dashboards.formatting import (
    MASKED_TEXT,
    NARROW_NBSP,
    format_number,
    format_period,
    period_order,
)
from dashboards.territories import alphabetical

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
GRID = "#e5e5e5"
NOTE_FONT = {"size": 12, "color": "#555555"}
STAGE_COLOURS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#041a3d"]
Figure = dict  # {"data": [trace, …], "layout": {…}}
COMPARISON_COLOURS = {
    "meilleur": "#1a9850",
    "similaire": "#8c8c8c",
    "moins bon": "#d73027",
    "non comparable": "#cccccc",
    "supérieur": "#4575b4",
    "inférieur": "#f4a582",
}
STATUS_COLOURS = {
    "atteint": "#1a9850",
    "en bonne voie": "#a6d96a",
    "en retard": "#d73027",
    "sans cible": "#969696",
}
# the states of a step a roadmap follows rather than counts (parse_milestone, models/macros.sql),
# from the one it should reach down, as the step panel's axis reads
MILESTONE_COLOURS = {
    "réalisé": "#1a9850",
    "en cours": "#fdae61",
    "non réalisé": "#d73027",
    "abandonné": "#737373",
}
CHECK_OUTCOMES = [
    ("Réussi", "#1a9850"),
    ("Échec (avertissement)", "#f4a582"),
    ("Échec bloquant", "#d73027"),
]
COMPARISON_KEY = ("Couleur des barres : comparaison à la référence (vert : meilleur, gris : "
                  "similaire, rouge : moins bon, gris clair : non comparable).<br>"
                  "Trait noir : intervalle de confiance à 95 %. Losange : valeur de la référence.")
MASKED_KEY = ("Certains effectifs sont masqués (secret statistique) : une barre peut alors être "
              "plus basse que le total inscrit au-dessus.")


def _visible(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(~pl.col("suppressed").fill_null(False) & pl.col("value").is_not_null())


# The builders called once per territory and period (comparisons, profiles, trends, follow-up
# panels) read their few dozen rows as dictionaries: each polars operation on a small frame
# costs about 0.2 ms, and they made thousands of them per page.
def _shown(rows: list[dict]) -> list[dict]:
    return [r for r in rows if not r["suppressed"] and r["value"] is not None]


def _masked(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r["suppressed"]]


def _by_order(row: dict) -> tuple:
    """Category order, a missing one first (as polars sorts nulls)."""
    return row["category_order"] is not None, row["category_order"] or 0


def _unit(units) -> str:
    """The first unit given: a loop over a frame's column or rows' values, not a polars query
    (the density figures are made per territory too)."""
    return next((unit for unit in units if unit is not None), None) or ""


def _latest_period(rows: list[dict]) -> str:
    return format_period(max((r["period"] for r in rows), key=period_order)) if rows else ""


def _axis(**settings) -> dict:
    return {"automargin": True, "gridcolor": GRID} | settings


def _note(text: str) -> dict:
    """A caption under the plot area."""
    return {"text": text, "xref": "paper", "yref": "paper", "x": 0, "y": -0.02,
            "yanchor": "top", "xanchor": "left", "align": "left", "showarrow": False,
            "yshift": -50, "font": NOTE_FONT}


def _figure(traces: list[dict], layout: dict, title: str, height: int) -> Figure:
    """The French look shared by every figure: decimal comma, left title, white plot. No
    template: the site ships Plotly's default one once (`views._template_json`)."""
    base = {
        "title": {"text": title, "x": 0, "xanchor": "left"},
        "separators": "," + NARROW_NBSP,
        "font": {"family": FONT, "size": 13},
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 70, "b": 40},
        "plot_bgcolor": "white",
        "hoverlabel": {"font": {"family": FONT}},
        "xaxis": _axis(),
        "yaxis": _axis(),
    }
    return {"data": traces, "layout": base | layout}


def projects_by_stage_figure(counts: pl.DataFrame, highlight: str | None = None,
                             level: str = "Territoire de santé") -> Figure:
    """Stacked bars of projects by stage in each territory, the total written above each bar.

    `counts`: rows of `projets_nombre` for one census period and one geographic level (named
    `level` on the axis), with `geo_name`, `category` ('ensemble' for the territory total),
    `category_label`, `category_order`, `period`, `value`, `suppressed`. The territory named
    `highlight` (the analyst's choice) has its name in bold.
    """
    visible = _visible(counts)
    totals = (visible.filter(pl.col("category") == "ensemble")
              .unique(subset="geo_name", keep="first", maintain_order=True)
              .sort("value", "geo_name", descending=[True, False]))  # ties: by name
    stages = visible.filter(pl.col("category") != "ensemble")
    territories = totals["geo_name"].to_list()
    territories += sorted(set(stages["geo_name"]) - set(territories))
    traces = []
    stage_keys = (stages.select("category_order", "category_label").unique()
                  .sort("category_order", "category_label"))
    for index, label in enumerate(stage_keys["category_label"]):
        rows = stages.filter(pl.col("category_label") == label)
        traces.append({
            "type": "bar", "name": label, "x": rows["geo_name"].to_list(),
            "y": rows["value"].to_list(), "text": [format_number(v) for v in rows["value"]],
            "textposition": "inside",
            "marker": {"color": STAGE_COLOURS[index % len(STAGE_COLOURS)]},
            "hovertemplate": f"%{{x}}<br>{label} : %{{y}} projets<extra></extra>",
        })
    traces.append({
        "type": "scatter", "name": "Total", "x": totals["geo_name"].to_list(),
        "y": totals["value"].to_list(), "mode": "text",
        "text": [f"<b>{format_number(v)}</b>" for v in totals["value"]],
        "textposition": "top center", "showlegend": False,
        "hovertemplate": "%{x}<br>Total : %{y} projets<extra></extra>",
    })
    masked = counts.filter(pl.col("suppressed").fill_null(False)).height > 0
    period = format_period(counts["period"].max()) if counts.height else ""
    layout = {
        "barmode": "stack",
        "legend": {"title": {"text": "Stade"}, "traceorder": "normal"},
        "xaxis": _axis(title={"text": level}, categoryorder="array",
                       categoryarray=territories, tickvals=territories,
                       ticktext=list(territories)),
        "yaxis": _axis(title={"text": "Nombre de projets"}, rangemode="tozero"),
        "annotations": [_note(MASKED_KEY)] if masked else [],
        "margin": {"l": 10, "r": 10, "t": 70, "b": 90},
    }
    figure = _figure(traces, layout, "Projets de maisons et pôles de santé par territoire et "
                     f"par stade ({period})", 480)
    return highlighted(figure, highlight) if highlight else figure


def highlighted(figure: Figure, name: str) -> Figure:
    """A `projects_by_stage_figure` with the territory `name` in bold: the page makes one per
    territory of each région from the région's figure, instead of building each anew."""
    layout = figure["layout"]
    axis = layout["xaxis"]
    ticks = [f"<b>{t}</b>" if t == name else t for t in axis["tickvals"]]
    return {**figure, "layout": {**layout, "xaxis": {**axis, "ticktext": ticks}}}


def projects_funnel_figure(counts: pl.DataFrame, territory: str) -> Figure:
    """Projects at each stage at each census date, réflexion at the top: a funnel per date.

    `counts`: rows of `projets_nombre` for one territory over several periods, with
    `category` (stages; 'ensemble' is left out), `category_label`, `category_order`, `period`,
    `value`, `suppressed`. Drawn as grouped bars, which every Plotly bundle has.
    """
    visible = _visible(counts.filter(pl.col("category") != "ensemble"))
    stages = (visible.select("category_order", "category_label").unique()
              .sort("category_order")["category_label"].to_list())
    periods = sorted(visible["period"].unique().to_list())
    traces = []
    for index, period in enumerate(periods):
        rows = visible.filter(pl.col("period") == period).sort("category_order")
        traces.append({
            "type": "bar", "orientation": "h", "name": format_period(period),
            "y": rows["category_label"].to_list(), "x": rows["value"].to_list(),
            "text": [format_number(v) for v in rows["value"]], "textposition": "outside",
            "marker": {"color": STAGE_COLOURS[(index + 1) % len(STAGE_COLOURS)]},
            "hovertemplate": f"{format_period(period)}<br>%{{y}} : %{{x}} projets<extra></extra>",
        })
    layout = {"barmode": "group",
              "legend": {"title": {"text": "Recensement"}, "traceorder": "normal"},
              "xaxis": _axis(title={"text": "Nombre de projets"}, rangemode="tozero"),
              "yaxis": _axis(categoryorder="array", categoryarray=stages,
                             range=[len(stages) - 0.5, -0.5])}
    return _figure(traces, layout, f"Projets par stade à chaque recensement : {territory}",
                   160 + (30 + 22 * len(periods)) * max(len(stages), 1))


def density_figure(density: pl.DataFrame, title: str, masked_note: str) -> Figure:
    """Density of professionals per territory: `comparison_figure` on `densite_professionnels`."""
    unit = _unit(density["unit"])
    return comparison_figure(density, title, masked_note, f"Professionnels {unit}")


def comparison_figure(density: pl.DataFrame, title: str, masked_note: str,
                      axis_title: str) -> Figure:
    """Horizontal bars of an indicator per territory with 95 % CI, one category at a time.

    `density`: rows of one indicator for one period (usually one geographic level), with
    `geo_name`, `category_label`, `category_order`, `period`, `value`, `ci_low`, `ci_high`,
    `reference_value`, `reference_geo_name`, `comparison_flag`, `unit`, `suppressed`.
    A menu switches category when there are several; each category has three traces (bars,
    reference marks, "< seuil" marks of its masked territories).
    """
    all_rows = density.to_dicts()
    visible = sorted(_shown(all_rows), key=lambda r: r["geo_name"])
    hidden = _masked(all_rows)
    professions = [label for _, label in sorted(
        {(_by_order(r), r["category_label"]) for r in all_rows})]
    territories = sorted({r["geo_name"] for r in all_rows}, key=alphabetical)
    unit = _unit(r["unit"] for r in all_rows)
    period = _latest_period(all_rows)
    traces, ranges = [], []
    for index, profession in enumerate(professions):
        rows = [r for r in visible if r["category_label"] == profession]
        ranges.append(_range(rows))
        references = [r for r in rows if r["reference_value"] is not None]
        masked = [r["geo_name"] for r in hidden if r["category_label"] == profession]
        traces += [
            _density_bars(rows, profession, unit, "geo_name", visible=index == 0),
            {"type": "scatter", "name": f"Référence : {profession}",
             "x": [r["reference_value"] for r in references],
             "y": [r["geo_name"] for r in references],
             "customdata": [r["reference_geo_name"] or "référence" for r in references],
             "mode": "markers", "marker": {"symbol": "diamond", "size": 11, "color": "#222222"},
             "showlegend": False, "visible": index == 0,
             "hovertemplate": f"%{{customdata}} : %{{x:.1f}} {unit}<extra></extra>"},
            _masked_marks(masked, masked_note, visible=index == 0),
        ]
    layout = {
        "xaxis": _axis(title={"text": axis_title}, range=ranges[0] if ranges else None),
        "yaxis": _axis(categoryorder="array", categoryarray=territories,
                       range=[len(territories) - 0.5, -0.5]),  # first name at the top
        "annotations": [_note(COMPARISON_KEY)],
        "margin": {"l": 10, "r": 10, "t": 90, "b": 110},
    }
    if len(professions) > 1:
        layout["updatemenus"] = [_profession_menu(professions, ranges)]
    return _figure(traces, layout, f"{title} ({period})", 210 + 34 * len(territories))


def density_profile_figure(rows: pl.DataFrame, territory: str, masked_note: str) -> Figure:
    """Densities of one territory: `profile_figure` on `densite_professionnels`."""
    unit = _unit(rows["unit"])
    return profile_figure(rows, f"Densité de professionnels : {territory}", masked_note,
                          f"Professionnels {unit}", "Densité")


def profile_figure(rows: pl.DataFrame, title: str, masked_note: str, axis_title: str,
                   name: str = "Valeur") -> Figure:
    """One territory, one period: each category of an indicator with its CI and reference.

    `rows`: rows of one indicator for one territory and one period (`category`,
    `category_label`, `category_order`, `period`, `value`, `ci_low`, `ci_high`,
    `reference_value`, `reference_geo_name`, `comparison_flag`, `unit`, `suppressed`). A masked
    category keeps its line, written "< seuil" with `masked_note` as its tooltip, no value.
    """
    ordered = sorted(rows.to_dicts(), key=_by_order)
    labels = [r["category_label"] for r in ordered]
    visible = _shown(ordered)
    hidden = _masked(ordered)
    unit = _unit(r["unit"] for r in ordered)
    traces = [_density_bars(visible, name, unit, "category_label")]
    references = [r for r in visible if r["reference_value"] is not None]
    if references:
        where = references[0]["reference_geo_name"]
        traces.append({
            "type": "scatter", "name": f"Référence : {where}",
            "x": [r["reference_value"] for r in references],
            "y": [r["category_label"] for r in references], "mode": "markers",
            "marker": {"symbol": "diamond", "size": 11, "color": "#222222"},
            "hovertemplate": f"%{{y}}<br>{where} : %{{x:.1f}} {unit}<extra></extra>",
        })
    if hidden:
        traces.append(_masked_marks([r["category_label"] for r in hidden], masked_note))
    period = _latest_period(ordered)
    layout = {
        "showlegend": False,
        "xaxis": _axis(title={"text": axis_title}, range=_range(visible)),
        "yaxis": _axis(categoryorder="array", categoryarray=labels,
                       range=[len(labels) - 0.5, -0.5]),
        "annotations": [_note(COMPARISON_KEY)],
        "margin": {"l": 10, "r": 10, "t": 70, "b": 110},
    }
    return _figure(traces, layout, f"{title} ({period})", 210 + 34 * max(len(labels), 1))


def density_trend_figure(rows: pl.DataFrame, territory: str) -> Figure:
    """Densities of one territory over the periods: `trend_figure` on `densite_professionnels`."""
    unit = _unit(rows["unit"])
    return trend_figure(rows, f"Évolution de la densité : {territory}",
                        f"Professionnels {unit}", "Profession")


def trend_figure(rows: pl.DataFrame, title: str, axis_title: str,
                 legend_title: str = "Catégorie") -> Figure:
    """One territory over the periods: one line per category, with its 95 % CI.

    `rows`: rows of one indicator for one territory, every period. A masked period leaves a
    gap in its category's line.
    """
    all_rows = rows.to_dicts()
    periods = sorted({r["period"] for r in all_rows}, key=period_order)
    unit = _unit(r["unit"] for r in all_rows)
    lines: dict[str, list[dict]] = {}
    for row in sorted(_shown(all_rows),
                      key=lambda r: (_by_order(r), period_order(r["period"]))):
        lines.setdefault(row["category_label"], []).append(row)
    traces = []
    for label, line in lines.items():
        low, high = _error_bars(line)
        traces.append({
            "type": "scatter", "name": label, "mode": "lines+markers",
            "x": [format_period(r["period"]) for r in line], "y": [r["value"] for r in line],
            "error_y": {"type": "data", "symmetric": False, "thickness": 1,
                        "array": high, "arrayminus": low},
            "hovertemplate": f"{label}<br>%{{x}} : %{{y:.1f}} {unit}<extra></extra>",
        })
    layout = {
        "legend": {"title": {"text": legend_title}},
        "xaxis": _axis(type="category", categoryorder="array", title={"text": "Période"},
                       categoryarray=[format_period(p) for p in periods]),
        "yaxis": _axis(title={"text": axis_title}, rangemode="tozero"),
    }
    return _figure(traces, layout, title, 420)


def _range(rows: list[dict]) -> list[float]:
    """From zero (or the lowest bound, for a balance that can be negative) to the highest."""
    bounds = [r[c] for r in rows for c in ("ci_low", "ci_high", "reference_value", "value")
              if r[c] is not None]
    lower, upper = min(min(bounds, default=0), 0), max(max(bounds, default=0), 0)
    return [lower * 1.08, (upper or 1) * 1.08]


def _ci(row: dict) -> tuple[float, float]:
    """The CI bounds, the value itself where a bound is missing."""
    value = row["value"]
    return (value if row["ci_low"] is None else row["ci_low"],
            value if row["ci_high"] is None else row["ci_high"])


def _error_bars(rows: list[dict]) -> tuple[list[float], list[float]]:
    """Lengths of the CI below and above each value."""
    bounds = [_ci(r) for r in rows]
    return ([r["value"] - low for r, (low, _) in zip(rows, bounds, strict=True)],
            [high - r["value"] for r, (_, high) in zip(rows, bounds, strict=True)])


def _density_bars(rows: list[dict], name: str, unit: str, axis_field: str,
                  visible: bool = True) -> dict:
    flags = [r["comparison_flag"] or "non comparable" for r in rows]
    below, above = _error_bars(rows)
    return {
        "type": "bar", "name": name, "orientation": "h",
        "x": [r["value"] for r in rows], "y": [r[axis_field] for r in rows],
        "error_x": {"type": "data", "symmetric": False, "array": above,
                    "arrayminus": below, "color": "#333333"},
        "marker": {"color": [COMPARISON_COLOURS.get(flag, "#cccccc") for flag in flags]},
        "customdata": [[*_ci(r), flag] for r, flag in zip(rows, flags, strict=True)],
        "visible": visible, "showlegend": False,
        "hovertemplate": (f"%{{y}}<br>{name} : %{{x:.1f}} {unit}<br>"
                          "IC 95 % : %{customdata[0]:.1f} – %{customdata[1]:.1f}<br>"
                          "Comparaison : %{customdata[2]}<extra></extra>"),
    }


def _masked_marks(names: list[str], note: str, visible: bool = True) -> dict:
    """'< seuil' written at the start of a masked line, the reason as its tooltip, no value."""
    return {"type": "scatter", "name": "Valeur masquée", "x": [0] * len(names), "y": names,
            "mode": "text", "text": [MASKED_TEXT] * len(names), "textposition": "middle right",
            "textfont": {"color": "#5b6470"}, "hovertext": [note] * len(names),
            "hovertemplate": "%{y}<br>%{hovertext}<extra></extra>", "showlegend": False,
            "visible": visible}


def _profession_menu(professions: list[str], ranges: list[list[float]]) -> dict:
    """One button per profession: shows its three traces, rescales the axis."""
    buttons = []
    for index, profession in enumerate(professions):
        visible = [trace_profession == index for trace_profession in range(len(professions))
                   for _ in range(3)]
        buttons.append({"label": profession, "method": "update",
                        "args": [{"visible": visible}, {"xaxis.range": ranges[index]}]})
    return {"buttons": buttons, "direction": "down", "x": 1, "xanchor": "right", "y": 1.02,
            "yanchor": "bottom", "showactive": True}


def followup_figure(criteria: pl.DataFrame) -> Figure:
    """Value per period against target, one panel per criterion of one programme.

    `criteria`: rows of `marts.followup_criteria` for one programme (`programme`, `action`,
    `criterion`, `period`, `value`, `target`, `unit`, `status`, `value_nature`, and for a step
    `milestone`). Bars are coloured by status; illustrative values are hatched; a period without
    a value yet shows its target alone. A step has its state by period instead, on an axis of
    the states; an illustrative state is an open circle.
    """
    panels_of: dict[str, list[dict]] = {}
    for row in criteria.to_dicts():
        if any(row[c] is not None for c in ("value", "target", "milestone")):
            panels_of.setdefault(row["criterion"], []).append(row)
    names = list(panels_of)
    panels = max(len(names), 1)
    gap = 90 / (230 * panels)
    height = (1 - gap * (panels - 1)) / panels
    traces: list[dict] = []
    layout: dict = {"barmode": "overlay", "legend": {"title": {"text": "Statut"}},
                    "annotations": []}
    shown_in_legend: set[str] = set()
    steps = False
    for index, name in enumerate(names):
        suffix = "" if index == 0 else str(index + 1)
        top = 1 - index * (height + gap)
        panel = sorted(panels_of[name], key=lambda r: period_order(r["period"]))
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        domain = [max(top - height, 0), min(top, 1)]
        if any(r["milestone"] is not None for r in panel):
            steps = True
            traces += _step_traces(panel, axes, shown_in_legend)
            layout[f"yaxis{suffix}"] = _axis(
                type="category", categoryorder="array", anchor=f"x{suffix}", domain=domain,
                categoryarray=list(reversed(MILESTONE_COLOURS)), range=[-0.5, 3.5])
        else:
            unit = _unit(r["unit"] for r in panel)
            traces += _value_traces(panel, unit, axes, shown_in_legend)
            layout[f"yaxis{suffix}"] = _axis(title={"text": unit}, rangemode="tozero",
                                             anchor=f"x{suffix}", domain=domain)
        layout[f"xaxis{suffix}"] = _axis(
            type="category", categoryorder="array", anchor=f"y{suffix}",
            categoryarray=[format_period(p)
                           for p in sorted({r["period"] for r in panel}, key=period_order)])
        layout["annotations"].append({
            "text": "<br>".join(textwrap.wrap(name, 80)), "xref": "paper", "yref": "paper",
            "x": 0, "y": top, "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            "font": {"size": 13}})
    programme = criteria["programme"].first() if criteria.height else ""
    illustrative = "hachures ou cercle vide" if steps else "hachures"
    # a programme's name is often long: the title's second line says how to read the panels
    title = (f"{programme}<br><sup>Valeur et cible de chaque critère ({illustrative} : "
             "valeur illustrative)</sup>")
    # the title's two lines and the first panel's name above its plot need more than the
    # usual top margin, where they touched
    layout["margin"] = {"l": 10, "r": 10, "t": 100, "b": 40}
    return _figure(traces, layout, title, 170 + 230 * panels)


def _value_traces(panel: list[dict], unit: str, axes: dict,
                  shown_in_legend: set[str]) -> list[dict]:
    """A criterion's values as bars coloured by status, and its targets as a dashed line."""
    traces = []
    for status in STATUS_COLOURS:
        bars = [r for r in panel if r["status"] == status]
        if not bars:
            continue
        traces.append({
            "type": "bar", "name": status.capitalize(), "legendgroup": status,
            "legendrank": list(STATUS_COLOURS).index(status),
            "showlegend": status not in shown_in_legend,
            "x": [format_period(r["period"]) for r in bars],
            "y": [r["value"] for r in bars],
            "marker": {"color": STATUS_COLOURS[status],
                       "pattern": {"shape": ["/" if r["value_nature"] == "illustrative"
                                             else "" for r in bars]}},
            "customdata": [r["value_nature"] for r in bars],
            "hovertemplate": (f"%{{x}} : %{{y}} {unit} (valeur %{{customdata}})"
                              f"<br>Statut : {status}<extra></extra>"),
        } | axes)
        shown_in_legend.add(status)
    targets = [r for r in panel if r["target"] is not None]
    if targets:
        traces.append({
            "type": "scatter", "name": "Cible", "legendgroup": "cible",
            "showlegend": "cible" not in shown_in_legend,
            "legendrank": len(STATUS_COLOURS),
            "x": [format_period(r["period"]) for r in targets],
            "y": [r["target"] for r in targets], "mode": "lines+markers",
            "line": {"color": "#222222", "dash": "dash"},
            "marker": {"symbol": "line-ew-open", "size": 18},
            "customdata": [r.get("target_direction") or "" for r in targets],
            "hovertemplate": f"Cible %{{x}} : %{{customdata}} %{{y}} {unit}<extra></extra>",
        } | axes)
        shown_in_legend.add("cible")
    return traces


def _step_traces(panel: list[dict], axes: dict, shown_in_legend: set[str]) -> list[dict]:
    """A step's state at each period it was reported, joined by a grey line, a marker per
    state."""
    reported = [r for r in panel if r["milestone"] is not None]
    traces = [{
        "type": "scatter", "mode": "lines", "showlegend": False, "hoverinfo": "skip",
        "line": {"color": "#bdbdbd"},
        "x": [format_period(r["period"]) for r in reported],
        "y": [r["milestone"] for r in reported],
    } | axes]
    for state, colour in MILESTONE_COLOURS.items():
        points = [r for r in reported if r["milestone"] == state]
        if not points:
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": state.capitalize(),
            "legendgroup": state, "showlegend": state not in shown_in_legend,
            "legendrank": len(STATUS_COLOURS) + 1 + list(MILESTONE_COLOURS).index(state),
            "x": [format_period(r["period"]) for r in points], "y": [state] * len(points),
            "marker": {"color": colour, "size": 14, "line": {"color": colour, "width": 2},
                       "symbol": ["circle-open" if r["value_nature"] == "illustrative"
                                  else "circle" for r in points]},
            "customdata": [r["value_nature"] for r in points],
            "hovertemplate": "%{x} : %{y} (valeur %{customdata})<extra></extra>",
        } | axes)
        shown_in_legend.add(state)
    return traces


def checks_figure(results: pl.DataFrame, night: str) -> Figure:
    """Checks of one night per table: passed, failed with a warning, failed and blocking.

    `results`: rows of `audit.validation_results` for one night (`table_name`, `severity`,
    `success`).
    """
    outcome = (pl.when(pl.col("success")).then(pl.lit("Réussi"))
               .when(pl.col("severity") == "ERROR").then(pl.lit("Échec bloquant"))
               .otherwise(pl.lit("Échec (avertissement)")))
    counts = results.with_columns(outcome=outcome).group_by("table_name", "outcome").len()
    tables = sorted(results["table_name"].unique().to_list())
    traces = []
    for name, colour in CHECK_OUTCOMES:
        rows = counts.filter(pl.col("outcome") == name)
        by_table = dict(zip(rows["table_name"], rows["len"], strict=True))
        traces.append({"type": "bar", "name": name, "orientation": "h", "y": tables,
                       "x": [by_table.get(t, 0) for t in tables], "marker": {"color": colour},
                       "hovertemplate": f"%{{y}}<br>{name} : %{{x}} contrôle(s)<extra></extra>"})
    widest = max((sum(t["x"][i] for t in traces) for i in range(len(tables))), default=0)
    layout = {
        "barmode": "stack", "legend": {"title": {"text": "Résultat"}},
        "xaxis": _axis(title={"text": "Nombre de contrôles"}, rangemode="tozero",
                       tickformat="d", dtick=1 if widest <= 10 else None),
        "yaxis": _axis(categoryorder="array", categoryarray=tables,
                       range=[len(tables) - 0.5, -0.5]),
    }
    # room for the legend's three outcomes even when one table was checked (a night with one
    # new month checks staging.activity alone): a shorter plot scrolled the legend
    return _figure(traces, layout, f"Contrôles de la {night}, par table",
                   160 + 34 * max(len(tables), len(CHECK_OUTCOMES)))
