"""Figure builders: polars frames from the published marts in, Plotly figures out.

Every builder drops the rows flagged `suppressed` before plotting, whatever their value column
holds, so that a masked cell can never reach a trace, a label or a tooltip.
"""

import textwrap
import unicodedata

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboards.formatting import NARROW_NBSP, format_number, format_period

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
STAGE_COLOURS = ["#c6dbef", "#6baed6", "#2171b5", "#08306b", "#041a3d"]
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
COMPARISON_KEY = ("Couleur des barres : comparaison à la référence (vert : meilleur, gris : "
                  "similaire, rouge : moins bon, gris clair : non comparable).<br>"
                  "Trait noir : intervalle de confiance à 95 %. Losange : valeur de la référence.")
MASKED_KEY = ("Certains effectifs sont masqués (secret statistique) : une barre peut alors être "
              "plus basse que le total inscrit au-dessus.")


def _alphabetical(name: str) -> str:
    """Dictionary order: 'CA d'Hénin' between 'CA de Cambrai' and 'CA Douaisis'."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def _visible(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(~pl.col("suppressed").fill_null(False) & pl.col("value").is_not_null())


def _french_layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "x": 0, "xanchor": "left"},
        separators="," + NARROW_NBSP,
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 10, "r": 10, "t": 70, "b": 40},
        plot_bgcolor="white",
        hoverlabel={"font_family": FONT},
    )
    fig.update_xaxes(automargin=True, gridcolor="#e5e5e5")
    fig.update_yaxes(automargin=True, gridcolor="#e5e5e5")
    return fig


def projects_by_stage_figure(counts: pl.DataFrame) -> go.Figure:
    """Stacked bars of projects by stage in each territory, the total written above each bar.

    `counts`: rows of `projets_nombre` for one census period and one geographic level, with
    `geo_name`, `category` ('ensemble' for the territory total), `category_label`,
    `category_order`, `period`, `value`, `suppressed`.
    """
    visible = _visible(counts)
    totals = (visible.filter(pl.col("category") == "ensemble")
              .unique(subset="geo_name", keep="first").sort("value", descending=True))
    stages = visible.filter(pl.col("category") != "ensemble")
    territories = totals["geo_name"].to_list()
    territories += sorted(set(stages["geo_name"]) - set(territories))
    fig = go.Figure()
    stage_keys = stages.select("category_order", "category_label").unique().sort("category_order")
    for index, label in enumerate(stage_keys["category_label"]):
        rows = stages.filter(pl.col("category_label") == label)
        fig.add_bar(
            name=label,
            x=rows["geo_name"].to_list(),
            y=rows["value"].to_list(),
            text=[format_number(v) for v in rows["value"]],
            textposition="inside",
            marker_color=STAGE_COLOURS[index % len(STAGE_COLOURS)],
            hovertemplate=f"%{{x}}<br>{label} : %{{y}} projets<extra></extra>",
        )
    fig.add_scatter(
        name="Total",
        x=totals["geo_name"].to_list(),
        y=totals["value"].to_list(),
        mode="text",
        text=[f"<b>{format_number(v)}</b>" for v in totals["value"]],
        textposition="top center",
        showlegend=False,
        hovertemplate="%{x}<br>Total : %{y} projets<extra></extra>",
    )
    if counts.filter(pl.col("suppressed").fill_null(False)).height:
        fig.add_annotation(text=MASKED_KEY, xref="paper", yref="paper", x=0, y=-0.02,
                           yanchor="top", xanchor="left", showarrow=False, yshift=-50,
                           font={"size": 12, "color": "#555555"})
    period = format_period(counts["period"].max()) if counts.height else ""
    fig.update_layout(barmode="stack", legend_title_text="Stade", legend_traceorder="normal")
    fig.update_xaxes(title_text="Territoire de santé", categoryorder="array",
                     categoryarray=territories)
    fig.update_yaxes(title_text="Nombre de projets", rangemode="tozero")
    fig = _french_layout(
        fig, f"Projets de maisons et pôles de santé par territoire et par stade ({period})", 480)
    fig.update_layout(margin={"b": 90})
    return fig


def density_figure(density: pl.DataFrame, level_label: str) -> go.Figure:
    """Horizontal bars of density per territory with 95 % CI, one profession at a time.

    `density`: rows of `densite_professionnels` for one period and one geographic level, with
    `geo_name`, `category_label`, `category_order`, `period`, `value`, `ci_low`, `ci_high`,
    `reference_value`, `reference_geo_name`, `comparison_flag`, `unit`, `suppressed`.
    A menu switches profession when there are several.
    """
    visible = _visible(density).sort("geo_name")
    professions = (visible.select("category_order", "category_label").unique()
                   .sort("category_order")["category_label"].to_list())
    territories = sorted(set(density["geo_name"]), key=_alphabetical)
    unit = density["unit"].drop_nulls().first() or ""
    period = format_period(density["period"].max()) if density.height else ""
    fig = go.Figure()
    ranges = []
    for index, profession in enumerate(professions):
        rows = visible.filter(pl.col("category_label") == profession)
        upper = pl.concat([rows["ci_high"], rows["reference_value"], rows["value"]]).max()
        ranges.append([0, (upper or 1) * 1.08])
        fig.add_bar(**_density_bars(rows, profession, unit, visible=index == 0))
        references = rows.filter(pl.col("reference_value").is_not_null())
        fig.add_scatter(
            name=f"Référence : {profession}",
            x=references["reference_value"].to_list(),
            y=references["geo_name"].to_list(),
            customdata=references["reference_geo_name"].fill_null("référence").to_list(),
            mode="markers",
            marker={"symbol": "diamond", "size": 11, "color": "#222222"},
            showlegend=False,
            visible=index == 0,
            hovertemplate=f"%{{customdata}} : %{{x:.1f}} {unit}<extra></extra>",
        )
    title = f"Densité de professionnels par {level_label} ({period})"
    if len(professions) > 1:
        fig.update_layout(updatemenus=[_profession_menu(professions, ranges)])
    fig.update_xaxes(title_text=f"Professionnels {unit}", range=ranges[0] if ranges else None)
    fig.update_yaxes(categoryorder="array", categoryarray=territories,
                     range=[len(territories) - 0.5, -0.5])  # first name at the top
    fig.add_annotation(text=COMPARISON_KEY, xref="paper", yref="paper", x=0, y=-0.02,
                       yanchor="top", xanchor="left", align="left", showarrow=False,
                       yshift=-50,
                       font={"size": 12, "color": "#555555"})
    fig = _french_layout(fig, title, 210 + 34 * len(territories))
    fig.update_layout(margin={"b": 110, "t": 90})
    return fig


def _density_bars(rows: pl.DataFrame, profession: str, unit: str, visible: bool) -> dict:
    values = rows["value"]
    ci_high = rows["ci_high"].fill_null(rows["value"])
    ci_low = rows["ci_low"].fill_null(rows["value"])
    flags = rows["comparison_flag"].fill_null("non comparable")
    return {
        "name": profession,
        "orientation": "h",
        "x": values.to_list(),
        "y": rows["geo_name"].to_list(),
        "error_x": {"type": "data", "symmetric": False, "array": (ci_high - values).to_list(),
                    "arrayminus": (values - ci_low).to_list(), "color": "#333333"},
        "marker_color": [COMPARISON_COLOURS.get(flag, "#cccccc") for flag in flags],
        "customdata": list(zip(ci_low.to_list(), ci_high.to_list(), flags.to_list(),
                               strict=True)),
        "visible": visible,
        "showlegend": False,
        "hovertemplate": (f"%{{y}}<br>{profession} : %{{x:.1f}} {unit}<br>"
                          "IC 95 % : %{customdata[0]:.1f} – %{customdata[1]:.1f}<br>"
                          "Comparaison : %{customdata[2]}<extra></extra>"),
    }


def _profession_menu(professions: list[str], ranges: list[list[float]]) -> dict:
    """One button per profession: shows its bars and reference marks, rescales the axis."""
    buttons = []
    for index, profession in enumerate(professions):
        visible = [trace_profession == index for trace_profession in range(len(professions))
                   for _ in range(2)]
        buttons.append({"label": profession, "method": "update",
                        "args": [{"visible": visible}, {"xaxis.range": ranges[index]}]})
    return {"buttons": buttons, "direction": "down", "x": 1, "xanchor": "right", "y": 1.02,
            "yanchor": "bottom", "showactive": True}


def followup_figure(criteria: pl.DataFrame) -> go.Figure:
    """Value per period against target, one panel per criterion of one programme.

    `criteria`: rows of `marts.followup_criteria` for one programme (`programme`, `action`,
    `criterion`, `period`, `value`, `target`, `unit`, `status`, `value_nature`). Bars are
    coloured by status; illustrative values are hatched.
    """
    rows = criteria.filter(pl.col("value").is_not_null())
    names = rows["criterion"].unique(maintain_order=True).to_list()
    panels = max(len(names), 1)
    fig = make_subplots(rows=panels, cols=1, vertical_spacing=90 / (230 * panels),
                        subplot_titles=["<br>".join(textwrap.wrap(name, 80)) for name in names])
    shown_in_legend: set[str] = set()
    for row_index, name in enumerate(names, start=1):
        panel = rows.filter(pl.col("criterion") == name).sort("period")
        unit = panel["unit"].drop_nulls().first() or ""
        for status in STATUS_COLOURS:
            bars = panel.filter(pl.col("status") == status)
            if bars.height == 0:
                continue
            fig.add_bar(
                name=status.capitalize(), legendgroup=status,
                legendrank=list(STATUS_COLOURS).index(status),
                showlegend=status not in shown_in_legend,
                x=[format_period(p) for p in bars["period"]], y=bars["value"].to_list(),
                marker={"color": STATUS_COLOURS[status],
                        "pattern": {"shape": ["/" if n == "illustrative" else ""
                                              for n in bars["value_nature"]]}},
                customdata=bars["value_nature"].to_list(),
                hovertemplate=(f"%{{x}} : %{{y}} {unit} (valeur %{{customdata}})"
                               f"<br>Statut : {status}<extra></extra>"),
                row=row_index, col=1,
            )
            shown_in_legend.add(status)
        targets = panel.filter(pl.col("target").is_not_null())
        if targets.height:
            fig.add_scatter(
                name="Cible", legendgroup="cible", showlegend="cible" not in shown_in_legend,
                legendrank=len(STATUS_COLOURS),
                x=[format_period(p) for p in targets["period"]], y=targets["target"].to_list(),
                mode="lines+markers", line={"color": "#222222", "dash": "dash"},
                marker={"symbol": "line-ew-open", "size": 18},
                hovertemplate=f"Cible %{{x}} : %{{y}} {unit}<extra></extra>",
                row=row_index, col=1,
            )
            shown_in_legend.add("cible")
        fig.update_xaxes(type="category", categoryorder="array",
                         categoryarray=[format_period(p) for p in panel["period"].unique().sort()],
                         row=row_index, col=1)
        fig.update_yaxes(title_text=unit, rangemode="tozero", row=row_index, col=1)
    fig.update_layout(barmode="overlay", legend_title_text="Statut")
    fig.update_annotations(font_size=13, xanchor="left", x=0)
    programme = criteria["programme"].first() if criteria.height else ""
    title = f"{programme} : valeur et cible de chaque critère (hachures : valeur illustrative)"
    return _french_layout(fig, title, 140 + 230 * panels)
