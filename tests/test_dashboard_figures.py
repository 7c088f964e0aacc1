"""Figure builders on small frames, and the rendered site on a hand-made warehouse."""

import csv
import hashlib
import html
import json
import re
from datetime import datetime
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl
import pytest
from dashboard_fixture import (
    CATALOGUE,
    EARLIER_STAGE_COUNTS,
    SEED_002_STAGE_COUNTS,
    SENTINEL,
    make_fixture_warehouse,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards.changes import STATE_FILE, PublishedValues, compare
from dashboards.figures import (
    checks_figure,
    density_figure,
    density_profile_figure,
    density_trend_figure,
    followup_figure,
    projects_by_stage_figure,
    projects_funnel_figure,
    trend_figure,
)
from dashboards.formatting import format_number, format_period, period_order, suppression_note
from dashboards.render import render_site
from dashboards.territories import Geography, _comparable, build_tree, comparable_names
from dashboards.warehouse import read_snapshot
from pipelines.sql import macros_sql

PAGES = ["index.html", "offre.html", "projets.html", "suivi.html", "accessibilite.html",
         "qualite.html", "fiches.html", "dictionnaire.html"]
STAGE_LABELS = {"reflexion": ("En réflexion", 1), "conception": ("En conception", 2),
                "operationnalisation": ("En opérationnalisation", 3),
                "fonctionnement": ("En fonctionnement", 4)}
NOTE = "Valeur masquée : moins de 11 professionnels (secret statistique)"


def _census_frame(hidden: set[tuple[str, str]] = frozenset(), counts: dict | None = None,
                  period: str = "2013-05") -> pl.DataFrame:
    rows = []
    for territory, stages in (counts or SEED_002_STAGE_COUNTS).items():
        rows.append({"geo_name": territory, "category": "ensemble", "category_label": "Ensemble",
                     "category_order": 0, "value": float(sum(stages.values())),
                     "suppressed": False})
        for stage, count in stages.items():
            masked = (territory, stage) in hidden
            label, order = STAGE_LABELS[stage]
            rows.append({"geo_name": territory, "category": stage, "category_label": label,
                         "category_order": order, "value": SENTINEL if masked else float(count),
                         "suppressed": masked})
    return pl.DataFrame(rows).with_columns(period=pl.lit(period))


def _trace(fig: go.Figure, name: str):
    return next(trace for trace in fig.data if trace.name == name)


def test_projects_figure_shows_the_seed_002_census():
    fig = go.Figure(projects_by_stage_figure(_census_frame()))

    total = _trace(fig, "Total")
    # Seed 002, fiche 4: 19 in Artois-Douaisis, 15 in Hainaut, 10 in the Métropole, 9 on the
    # Littoral, largest first.
    assert list(total.x) == ["Artois-Douaisis", "Hainaut-Cambrésis",
                             "Métropole-Flandre intérieure", "Littoral"]
    assert list(total.y) == [19, 15, 10, 9]
    operating = _trace(fig, "En fonctionnement")
    assert dict(zip(operating.x, operating.y, strict=True)) == {
        "Artois-Douaisis": 5, "Hainaut-Cambrésis": 3, "Métropole-Flandre intérieure": 2,
        "Littoral": 2}
    stage_traces = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in stage_traces] == ["En réflexion", "En conception",
                                             "En opérationnalisation", "En fonctionnement"]
    assert sum(sum(t.y) for t in stage_traces) == 53
    assert fig.layout.barmode == "stack"
    assert "par territoire et par stade (mai 2013)" in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "Nombre de projets"
    assert fig.layout.xaxis.title.text == "Territoire de santé"
    assert list(fig.layout.xaxis.ticktext) == list(total.x)  # nothing highlighted


def test_projects_figure_highlights_the_chosen_territory():
    fig = go.Figure(projects_by_stage_figure(_census_frame(), highlight="Littoral"))
    assert list(fig.layout.xaxis.ticktext)[-1] == "<b>Littoral</b>"
    assert list(fig.layout.xaxis.ticktext)[0] == "Artois-Douaisis"


def test_projects_figure_never_plots_a_suppressed_cell():
    hidden = {("Littoral", "operationnalisation"), ("Métropole-Flandre intérieure",
                                                    "operationnalisation")}
    fig = go.Figure(projects_by_stage_figure(_census_frame(hidden)))

    assert "4242" not in fig.to_json()
    stage = _trace(fig, "En opérationnalisation")
    assert list(stage.x) == ["Artois-Douaisis", "Hainaut-Cambrésis"]
    assert any("masqués" in a.text for a in fig.layout.annotations)


def test_funnel_compares_the_stages_of_each_census():
    frames = [_census_frame(counts=EARLIER_STAGE_COUNTS, period="2012-11"),
              _census_frame({("Littoral", "reflexion")})]
    littoral = pl.concat(frames).filter(pl.col("geo_name") == "Littoral")
    fig = go.Figure(projects_funnel_figure(littoral, "Littoral"))

    assert [t.name for t in fig.data] == ["novembre 2012", "mai 2013"]
    earlier, latest = fig.data
    assert dict(zip(earlier.y, earlier.x, strict=True)) == {
        "En réflexion": 3, "En conception": 2, "En opérationnalisation": 2,
        "En fonctionnement": 2}
    assert "En réflexion" not in latest.y  # masked in May 2013
    assert list(fig.layout.yaxis.categoryarray) == [
        "En réflexion", "En conception", "En opérationnalisation", "En fonctionnement"]
    assert "4242" not in fig.to_json()


def _density_frame() -> pl.DataFrame:
    rows = [
        # geo_name, profession, order, value, ci_low, ci_high, reference, flag, suppressed
        ("CC du Pays de Duras", "Médecin généraliste", 1, 6.1, 2.2, 10.0, 7.9, "similaire",
         False),
        ("CC du Pays de Lauzun", "Médecin généraliste", 1, 5.4, 1.1, 9.7, 7.9, "similaire",
         False),
        ("CC du Pays de Duras", "Infirmier", 2, 18.4, 11.6, 25.2, 21.3, "similaire", False),
        ("CC du Pays de Lauzun", "Infirmier", 2, SENTINEL, SENTINEL - 1, SENTINEL + 1, 21.3,
         "non comparable", True),
    ]
    return pl.DataFrame(
        [{"geo_name": g, "category_label": p, "category_order": o, "value": v, "ci_low": lo,
          "ci_high": hi, "reference_value": ref, "reference_geo_name": "Lot-et-Garonne",
          "comparison_flag": flag, "suppressed": s, "period": "2024",
          "unit": "pour 10 000 habitants"}
         for g, p, o, v, lo, hi, ref, flag, s in rows])


def test_density_figure_has_ci_bars_and_reference_per_profession():
    fig = go.Figure(density_figure(_density_frame(), "Densité de professionnels par EPCI",
                                   NOTE))

    doctors = _trace(fig, "Médecin généraliste")
    assert list(doctors.y) == ["CC du Pays de Duras", "CC du Pays de Lauzun"]
    assert list(doctors.x) == [6.1, 5.4]
    assert list(doctors.error_x.array) == pytest.approx([10.0 - 6.1, 9.7 - 5.4])
    assert list(doctors.error_x.arrayminus) == pytest.approx([6.1 - 2.2, 5.4 - 1.1])
    assert list(_trace(fig, "Référence : Médecin généraliste").x) == [7.9, 7.9]
    nurses = _trace(fig, "Infirmier")
    assert list(nurses.y) == ["CC du Pays de Duras"]
    assert nurses.visible is False
    masked = [t for t in fig.data if t.name == "Valeur masquée"]
    assert [list(t.y) for t in masked] == [[], ["CC du Pays de Lauzun"]]
    assert list(masked[1].text) == ["< seuil"] and list(masked[1].hovertext) == [NOTE]
    assert "4242" not in fig.to_json()
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["Médecin généraliste", "Infirmier"]
    assert buttons[1].args[0]["visible"] == [False] * 3 + [True] * 3
    # Dictionary order, first territory at the top, no empty band above it.
    assert list(fig.layout.yaxis.categoryarray) == ["CC du Pays de Duras",
                                                    "CC du Pays de Lauzun"]
    assert list(fig.layout.yaxis.range) == [1.5, -0.5]
    assert fig.layout.title.text == "Densité de professionnels par EPCI (2024)"
    assert fig.layout.xaxis.title.text == "Professionnels pour 10 000 habitants"


def test_profile_figure_shows_one_territory_and_writes_masked_professions():
    lauzun = _density_frame().filter(pl.col("geo_name") == "CC du Pays de Lauzun")
    fig = go.Figure(density_profile_figure(lauzun, "CC du Pays de Lauzun", NOTE))

    bars = _trace(fig, "Densité")
    assert list(bars.y) == ["Médecin généraliste"] and list(bars.x) == [5.4]
    assert list(_trace(fig, "Référence : Lot-et-Garonne").x) == [7.9]
    masked = _trace(fig, "Valeur masquée")
    assert list(masked.y) == ["Infirmier"] and list(masked.x) == [0]
    assert list(fig.layout.yaxis.categoryarray) == ["Médecin généraliste", "Infirmier"]
    assert fig.layout.title.text == "Densité de professionnels : CC du Pays de Lauzun (2024)"
    assert "4242" not in fig.to_json()


def test_trend_figure_has_a_line_per_profession_with_gaps_where_masked():
    frame = pl.concat([_density_frame().with_columns(period=pl.lit("2023")),
                       _density_frame()]).filter(pl.col("geo_name") == "CC du Pays de Lauzun")
    fig = go.Figure(density_trend_figure(frame, "CC du Pays de Lauzun"))

    assert [t.name for t in fig.data] == ["Médecin généraliste"]  # nurses: masked both years
    assert list(fig.data[0].x) == ["2023", "2024"] and list(fig.data[0].y) == [5.4, 5.4]
    assert list(fig.data[0].error_y.array) == pytest.approx([4.3, 4.3])
    assert "4242" not in fig.to_json()


def _followup_frame() -> pl.DataFrame:
    rows = [
        ("Nombre de sites en projets ou opérationnels", "2024", 6, 6, "sites", "atteint",
         "observée"),
        ("Nombre de sites en projets ou opérationnels", "2023", 5, 6, "sites", "en bonne voie",
         "observée"),
        ("Nombre de départs remplacés", "2024", 1, None, "départs", "sans cible",
         "illustrative"),
    ]
    return pl.DataFrame(
        [{"programme": "CLS du Pays Ruffécois", "action": "Action 2", "criterion": c,
          "period": p, "value": float(v), "target": t, "milestone": None, "unit": u,
          "status": s, "value_nature": n} for c, p, v, t, u, s, n in rows],
        schema_overrides={"target": pl.Float64, "milestone": pl.String})


def test_followup_figure_compares_values_with_targets():
    fig = go.Figure(followup_figure(_followup_frame()))

    reached = _trace(fig, "Atteint")
    assert (list(reached.x), list(reached.y)) == (["2024"], [6])
    on_track = _trace(fig, "En bonne voie")
    assert (list(on_track.x), list(on_track.y)) == (["2023"], [5])
    targets = [t for t in fig.data if t.name == "Cible"]
    assert len(targets) == 1  # the criterion without a target gets no target line
    assert list(targets[0].y) == [6, 6]
    no_target = _trace(fig, "Sans cible")
    assert list(no_target.marker.pattern.shape) == ["/"]  # illustrative value: hatched
    assert (no_target.xaxis, no_target.yaxis) == ("x2", "y2")  # the second criterion's panel
    assert list(fig.layout.xaxis.categoryarray) == ["2023", "2024"]
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]  # first panel on top
    assert [a.text for a in fig.layout.annotations] == [
        "Nombre de sites en projets ou opérationnels", "Nombre de départs remplacés"]
    assert fig.layout.title.text.startswith("CLS du Pays Ruffécois<br><sup>Valeur et cible")


def test_a_period_without_a_value_yet_shows_its_target_alone():
    upcoming = pl.DataFrame([{
        "programme": "CLS du Pays Ruffécois", "action": "Action 2",
        "criterion": "Nombre de sites en projets ou opérationnels", "period": "2025",
        "value": None, "target": 8.0, "milestone": None, "unit": "sites",
        "status": "non renseigné",
        "value_nature": "observée"}], schema=_followup_frame().schema)
    fig = go.Figure(followup_figure(pl.concat([_followup_frame(), upcoming])))

    assert list(_trace(fig, "Atteint").x) == ["2024"]
    assert "Non renseigné" not in {t.name for t in fig.data}
    target = _trace(fig, "Cible")
    assert (list(target.x), list(target.y)) == (["2023", "2024", "2025"], [6, 6, 8])
    assert list(fig.layout.xaxis.categoryarray) == ["2023", "2024", "2025"]


def test_a_step_is_drawn_by_its_state_on_an_axis_of_states():
    """« Réalisation du diagnostic » counts nothing: its panel puts each period's state on an
    axis from réalisé down to abandonné, an illustrative state as an open circle."""
    steps = pl.DataFrame([
        {"programme": "CLS du Pays Ruffécois", "action": "Action 2",
         "criterion": "Réalisation du diagnostic", "period": period, "value": None,
         "target": None, "milestone": state, "unit": None, "status": state,
         "value_nature": nature}
        for period, state, nature in [("2022", "non réalisé", "observée"),
                                      ("2023", "en cours", "illustrative"),
                                      ("2024", "réalisé", "observée")]],
        schema=_followup_frame().schema)
    fig = go.Figure(followup_figure(pl.concat([_followup_frame(), steps])))

    done = _trace(fig, "Réalisé")
    assert (list(done.x), list(done.y), done.yaxis) == (["2024"], ["réalisé"], "y3")
    assert list(_trace(fig, "En cours").marker.symbol) == ["circle-open"]
    assert list(_trace(fig, "Non réalisé").marker.symbol) == ["circle"]
    assert list(fig.layout.yaxis3.categoryarray) == ["abandonné", "non réalisé", "en cours",
                                                     "réalisé"]
    assert fig.layout.yaxis3.type == "category" and fig.layout.yaxis.type is None
    # the numbers' panels keep their bars
    assert list(_trace(fig, "Atteint").y) == [6]
    assert "cercle vide : valeur illustrative" in fig.layout.title.text


def test_a_step_says_its_state_in_the_table_and_on_the_home(tmp_path):
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("""INSERT INTO marts.followup_criteria
        SELECT * REPLACE ('Réalisation du diagnostic' AS criterion, NULL AS value,
                          NULL AS target, NULL AS target_direction, 'en cours' AS milestone,
                          'réalisé' AS target_milestone, NULL AS unit,
                          NULL AS achievement_rate, 'en cours' AS status)
        FROM marts.followup_criteria
        WHERE period = '2024' AND criterion = 'Nombre de départs remplacés'""")
    con.close()
    render_site(warehouse, tmp_path / "site")
    [row] = [r for r in table_rows(tmp_path / "site", "suivi-cls-du-pays-ruffecois")
             if r[2] == "Réalisation du diagnostic"]
    # period, value, target, unit, rate, status: the state stands where a number would
    assert row[5:11] == ["2024", "en cours", "réalisé", "", "", "en cours"]
    cards = _cards((tmp_path / "site" / "index.html").read_text(encoding="utf-8"),
                   "carte-suivi")
    assert cards["*"][0] == "5"
    assert cards["*"][1].endswith(", 1 étape(s) en cours")


def test_a_target_au_plus_is_said_in_the_table_and_on_the_figure(tmp_path):
    """« au plus 1 départ non remplacé »: the programme's table gets the direction of its
    targets, the other programme's table does not, and the target's hover says it."""
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("""UPDATE marts.followup_criteria SET target = 1, target_direction = 'au plus',
                   status = 'atteint' WHERE criterion = 'Nombre de départs remplacés'""")
    con.close()
    render_site(warehouse, tmp_path / "site")
    page = html.unescape((tmp_path / "site" / "suivi.html").read_text(encoding="utf-8"))
    cls = page[page.index('data-tableau="suivi-cls-du-pays-ruffecois" data-source'):]
    assert '<th scope="col">Sens de la cible</th>' in cls[:cls.index("</thead>")]
    pole = page[page.index('data-tableau="suivi-pole-de-sante-duras-lauzun" data-source'):]
    assert "Sens de la cible" not in pole[:pole.index("</thead>")]
    [row] = [r for r in table_rows(tmp_path / "site", "suivi-cls-du-pays-ruffecois")
             if r[2] == "Nombre de départs remplacés"]
    assert row[5:9] == ["2024", ["1", "1"], "au plus", ["1", "1"]]  # period, value, target
    figures = page_data(tmp_path / "site", "suivi.html")["figures"]
    hovers = {(tuple(t["customdata"]), t["hovertemplate"]) for f in figures
              for t in f["data"] if t["name"] == "Cible"}
    assert (("au plus",), "Cible %{x} : %{customdata} %{y} départs<extra></extra>") in hovers


def test_the_home_counts_each_criterion_at_its_latest_period_with_a_value(tmp_path):
    """A roadmap lists the years to come with their target and no value yet: the home card
    said of them « à la dernière période » what they had not reached."""
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("""INSERT INTO marts.followup_criteria
        SELECT * REPLACE ('2025' AS period, NULL AS value, NULL AS achievement_rate,
                          'non renseigné' AS status)
        FROM marts.followup_criteria WHERE period = '2024'""")
    con.close()
    render_site(warehouse, tmp_path / "site")
    cards = _cards((tmp_path / "site" / "index.html").read_text(encoding="utf-8"),
                   "carte-suivi")
    assert cards["*"] == ("4", "2 programmes ; à la dernière période renseignée : 1 atteint(s), "
                               "1 en bonne voie, 1 en retard, 1 sans cible")


def test_periods_of_mixed_grains_are_in_time_order(tmp_path):
    """A programme follows a criterion by quarter and semester, then by its yearly total: as
    text '2024' came before '2024-T1', on the figure, in the table and for the home's latest
    period, where the quarter was counted in place of the year."""
    periods = ["2024", "2024-S1", "2024-T1", "2024-06", "2023-T4", "2024-03", "2024-13", "?"]
    ordered = ["2023-T4", "2024-03", "2024-T1", "2024-06", "2024-S1", "2024", "2024-13", "?"]
    assert sorted(periods, key=period_order) == ordered
    # an indicator's trend, title and period list follow it too
    lauzun = _density_frame().filter(pl.col("geo_name") == "CC du Pays de Lauzun")
    frame = pl.concat([lauzun.with_columns(period=pl.lit(p)) for p in ("2024", "2024-T1")])
    trend = go.Figure(trend_figure(frame, "Suivi", "valeur"))
    assert list(trend.data[0].x) == ["T1 2024", "2024"]
    assert list(trend.layout.xaxis.categoryarray) == ["T1 2024", "2024"]
    assert go.Figure(density_profile_figure(frame, "CC du Pays de Lauzun", NOTE)
                     ).layout.title.text.endswith("(2024)")
    # the warehouse's order, for the marts and the analysts' views, is the same
    con = duckdb.connect()
    con.execute(macros_sql())
    assert con.execute("SELECT list(p ORDER BY period_order(p), p) FROM unnest(?) AS t(p)",
                       [periods]).fetchone()[0] == ordered
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("""INSERT INTO marts.followup_criteria
        SELECT c.* REPLACE (q.quarter AS period, 5 AS value, 'en retard' AS status)
        FROM marts.followup_criteria AS c, (VALUES ('2024-T1'), ('2024-S1')) AS q(quarter)
        WHERE period = '2024' AND criterion = 'Nombre de sites en projets ou opérationnels'""")
    con.close()
    render_site(warehouse, tmp_path / "site")
    periods = [r[5] for r in table_rows(tmp_path / "site", "suivi-cls-du-pays-ruffecois")
               if r[2] == "Nombre de sites en projets ou opérationnels"]
    assert periods == ["2023", "T1 2024", "S1 2024", "2024"]
    axes = []  # the criterion's period axis in each view of the programme's figure
    for figure in page_data(tmp_path / "site", "suivi.html")["figures"]:
        panels = [a["text"] for a in figure["layout"].get("annotations", [])]
        if "Nombre de sites en projets ou opérationnels" in panels:
            index = panels.index("Nombre de sites en projets ou opérationnels")
            axes.append(figure["layout"][f"xaxis{index + 1 if index else ''}"]["categoryarray"])
    assert ["2023", "T1 2024", "S1 2024", "2024"] in axes
    assert all(len(periods) < 4 for periods in axes if periods != [
        "2023", "T1 2024", "S1 2024", "2024"])
    # the criterion's latest period is the year, « atteint », not the quarter « en retard »
    cards = _cards((tmp_path / "site" / "index.html").read_text(encoding="utf-8"),
                   "carte-suivi")
    assert cards["*"] == ("4", "2 programmes ; à la dernière période renseignée : 1 atteint(s), "
                               "1 en bonne voie, 1 en retard, 1 sans cible")


def test_checks_figure_counts_passed_warned_and_blocking_checks_per_table():
    results = pl.DataFrame({
        "table_name": ["staging.census"] * 3 + ["staging.activity"],
        "severity": ["ERROR", "WARN", "ERROR", "ERROR"],
        "success": [True, False, False, True]})
    fig = go.Figure(checks_figure(results, "nuit du 14 novembre 2026 à 02:15"))

    assert list(_trace(fig, "Réussi").x) == [1, 1]  # staging.activity, staging.census
    assert list(_trace(fig, "Échec (avertissement)").x) == [0, 1]
    assert list(_trace(fig, "Échec bloquant").x) == [0, 1]
    assert list(fig.layout.yaxis.categoryarray) == ["staging.activity", "staging.census"]


def test_french_number_and_period_formats():
    assert format_number(12345.678) == "12\u202f345,7"
    assert format_number(12345.678, grouped=False, decimals=2) == "12345,68"
    assert format_number(53.0) == "53"
    assert format_period("2013-05") == "mai 2013"
    assert format_period("2024") == "2024"
    assert format_period("2024-T1") == "T1 2024"
    assert format_period("2024-S2") == "S2 2024"
    assert suppression_note("Moins de 11 professionnels : masqué", "professionnels") == (
        "Valeur masquée : moins de 11 professionnels (secret statistique)")


def test_changes_between_two_nights():
    before = PublishedValues.of("n1", "2026-11-13T02:14:00", {
        "a|epci|1|2024|p|x": {"v": 5.0, "m": False, "n": "E", "c": "X"},
        "a|epci|1|2024|p|y": {"v": 2.0, "m": False, "n": "E", "c": "Y"},
        "a|epci|1|2024|p|z": {"v": None, "m": True, "n": "E", "c": "Z"},
        "a|epci|1|2023|p|x": {"v": 4.0, "m": False, "n": "E", "c": "X"}})
    after = PublishedValues.of("n2", "2026-11-14T02:14:00", {
        "a|epci|1|2024|p|x": {"v": 5.5, "m": False, "n": "E", "c": "X"},
        "a|epci|1|2024|p|y": {"v": None, "m": True, "n": "E", "c": "Y"},
        "a|epci|1|2024|p|z": {"v": None, "m": True, "n": "E", "c": "Z"},
        "a|epci|1|2025|p|x": {"v": 6.0, "m": False, "n": "E", "c": "X"}})
    kinds = {(c.period, c.category_label): (c.kind, c.before, c.after)
             for c in compare(before, after)}
    assert kinds == {("2024", "X"): ("modifiée", 5.0, 5.5), ("2024", "Y"): ("masquée", 2.0, None),
                     ("2023", "X"): ("disparue", 4.0, None), ("2025", "X"): ("nouvelle", None, 6.0)}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return make_fixture_warehouse(tmp_path_factory.mktemp("warehouse") / "observatoire.duckdb")


def test_territory_tree_nests_epci_in_departements_and_finds_programmes(warehouse):
    snapshot = read_snapshot(warehouse)
    tree = build_tree(snapshot, Geography.from_snapshot(snapshot))

    assert tree.ancestors("epci:244701389") == ["departement:47", "region:75"]
    assert tree.ancestors("territoire_sante:littoral") == ["region:32"]
    # The programme names two EPCI in its territory; the PETR is not in the reference.
    assert tree.by_key["programme:pole_de_sante_duras_lauzun"].parents == (
        "epci:244701389", "epci:244701405")
    assert tree.by_key["programme:cls_du_pays_ruffecois"].parents == ()
    # Places of the projects' communes are offered too (Frévent: Ternois, Pas-de-Calais).
    assert tree.ancestors("epci:200035442") == ["departement:62", "region:32"]
    assert [t.level for t in tree][:2] == ["region", "region"]
    assert tree.children("departement:47") == ["epci:244701389", "epci:244701405"]


def test_a_reference_region_without_rows_of_its_own_is_named(warehouse, tmp_path):
    # landing files that cover part of a région publish no row for it: its départements are
    # compared with it, and the tables name it rather than show its code
    copy = tmp_path / "observatoire.duckdb"
    copy.write_bytes(warehouse.read_bytes())
    con = duckdb.connect(str(copy))
    con.execute("DELETE FROM marts.indicator_values WHERE geo_level = 'region'")
    con.close()
    rows = read_snapshot(copy).indicators.filter(
        (pl.col("geo_level") == "departement") & (pl.col("reference_geo_level") == "region"))
    assert rows.height > 0
    assert set(rows["reference_geo_name"]) == {"Nouvelle-Aquitaine"}


@settings(max_examples=500, deadline=None)
@given(st.lists(st.text(), max_size=8))
def test_place_names_compare_the_same_in_a_column_as_one_by_one(names):
    # programmes are matched to EPCI and communes by these names: the column form must agree
    column = pl.DataFrame({"name": names}, schema={"name": pl.String})
    assert column.select(comparable_names(pl.col("name")))["name"].to_list() == [
        _comparable(name) for name in names]


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory) -> tuple[Path, list[Path]]:
    out_dir = tmp_path_factory.mktemp("home") / "dashboards"
    return out_dir, [out_dir / name for name in render_site(warehouse, out_dir)]


def page_data(out_dir: Path, name: str) -> dict:
    """The page's JSON block, with `figures` (by number) read from its files in donnees/."""
    page = (out_dir / name).read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="donnees-page">(.*?)</script>',
                      page, re.S)
    data = json.loads(block[1])
    figures = {}
    for name, first, chunks in data["fragments"]:
        # a fragment numbers its figures from 0 in files named after it
        prefix = f"observatoireFigures({json.dumps(name)},"
        for chunk in set(chunks):
            text = (out_dir / f"{data['fichiers']}{name}-{chunk}.js").read_text(encoding="utf-8")
            assert text.startswith(prefix) and text.endswith(");\n")
            part = json.loads(text.removeprefix(prefix).removesuffix(");\n"))
            assert {chunks[int(i)] for i in part} == {chunk}
            figures |= {first + int(i): figure for i, figure in part.items()}
    data["figures"] = [figures[i] for i in range(len(figures))]
    assert len(data["figures"]) == len(data["hauteurs"])
    return data


def table_rows(out_dir: Path, slug: str) -> list[list]:
    """The rows of a long table, from its file in donnees/: [keys, period, cells…]."""
    text = (out_dir / "donnees" / f"tableau-{slug}.js").read_text(encoding="utf-8")
    prefix = f"observatoireTableau({json.dumps(slug)},"
    assert text.startswith(prefix) and text.endswith(");\n")
    return json.loads(text.removeprefix(prefix).removesuffix(");\n"))


def test_render_site_writes_every_page_light_and_offline(site):
    out_dir, written = site
    assert all(path.exists() and out_dir in path.parents for path in written)
    assert {p.name for p in written} >= set(PAGES) | {"plotly.min.js", "observatoire.js"}
    assert sorted(p for p in out_dir.rglob("*") if p.is_file()) == sorted(written)
    for name in PAGES:
        page = (out_dir / name).read_text(encoding="utf-8")
        assert (out_dir / name).stat().st_size < 5_000_000
        assert not re.search(r"<script[^>]+src=\"https?:", page)
        assert not re.search(r"<link[^>]+href=\"https?:", page)
        assert "cdn" not in page.lower()
        assert "Données de démonstration : activité synthétique" in page
        assert "14 novembre 2026 à 02:17" in page
        for other in PAGES:
            assert f'href="{other}"' in page
        assert '<script src="observatoire.js"' in page
        assert 'id="choix-epci"' in page and 'id="choix-periode"' in page
        if page_data(out_dir, name)["vues"]:
            assert '<script src="plotly.min.js"' in page
            assert '"showSendToCloud": false' in page


def test_every_page_embeds_its_territories_periods_and_figure_views(site):
    out_dir, _ = site
    supply = page_data(out_dir, "offre.html")
    keys = {t["k"] for t in supply["territoires"]}
    assert {"region:75", "departement:47", "epci:244701389", "territoire_sante:littoral",
            "programme:cls_du_pays_ruffecois"} <= keys
    assert supply["periodes"] == [["2023", "2023"], ["2024", "2024"]]
    assert supply["periode"] == "2024"
    profiles = supply["vues"]["densite-profil"]
    assert {"epci:244701389|2024", "departement:47|2023", "region:75|2024"} <= set(profiles)
    comparisons = supply["vues"]["densite-comparaison"]
    assert {"*|2024", "region:75|2024", "departement:47|2024"} <= set(comparisons)
    lot_et_garonne = supply["figures"][comparisons["departement:47|2024"]]
    assert sorted(lot_et_garonne["data"][0]["y"]) == ["CC du Pays de Duras",
                                                      "CC du Pays de Lauzun"]
    assert "template" not in lot_et_garonne["layout"] and supply["modele"]["layout"]
    census = page_data(out_dir, "projets.html")
    assert [p for p, _ in census["periodes"]] == ["2012-11", "2013-05"]
    assert {"*|2013-05", "region:32|2012-11", "territoire_sante:littoral|2013-05"} <= set(
        census["vues"]["projets-stades"])
    assert "region:32|*" in census["vues"]["projets-entonnoir"]
    followup = page_data(out_dir, "suivi.html")
    assert followup["periode"] == "*" and followup["periodes"][0] == ["*", "Toutes les périodes"]


def test_no_page_shows_a_suppressed_value_anywhere(site, warehouse):
    """The fixture keeps a sentinel number in masked rows: no figure, table or file has it."""
    out_dir, _ = site
    con = duckdb.connect(str(warehouse), read_only=True)
    masked = con.execute("SELECT count(*) FROM marts.indicator_values "
                         "WHERE suppressed AND value = ?", [SENTINEL]).fetchone()[0]
    con.close()
    assert masked >= 6  # the test is only meaningful while the fixture hides values
    for name in PAGES:
        data = page_data(out_dir, name)
        for figure in data["figures"]:
            assert "4242" not in json.dumps(figure), (name, figure["layout"]["title"])
        assert "4242" not in (out_dir / name).read_text(encoding="utf-8")
    for path in out_dir.glob("*.csv"):
        assert "4242" not in path.read_text(encoding="utf-8-sig"), path.name
    data_files = list((out_dir / "donnees").glob("*.js"))
    assert any(p.name.startswith("tableau-") for p in data_files)
    for path in data_files:
        assert "4242" not in path.read_text(encoding="utf-8"), path.name
    state = pl.read_parquet(out_dir / STATE_FILE)
    assert state.height and 4242.0 not in state["v"].to_list()


def test_csv_files_open_in_french_excel_and_match_the_warehouse(site, warehouse):
    out_dir, _ = site
    path = out_dir / "part-des-projets-par-territoire_tous-territoires.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0] == ["Territoire", "Recensement", "Projets", "Part (%)", "IC 95 % bas",
                       "IC 95 % haut"]
    con = duckdb.connect(str(warehouse), read_only=True)
    expected = con.sql("SELECT geo_name, numerator, value FROM marts.indicator_values "
                       "WHERE indicator_id = 'projets_part_territoire' AND category = 'ensemble'"
                       ).fetchall()
    con.close()
    shown = {row[0]: (float(row[2]), float(row[3].replace(",", "."))) for row in rows[1:]}
    assert shown == {name: (n, pytest.approx(v, abs=0.005)) for name, n, v in expected}
    assert "35,85" in raw.decode("utf-8-sig")  # 19 / 53, decimal comma
    page = (out_dir / "projets.html").read_text(encoding="utf-8")
    assert 'data-csv="35,85">35,8</td>' in page  # the browser's CSV reads the same text


def test_table_rows_carry_their_territories_and_period(site):
    out_dir, _ = site
    duras = [row for row in table_rows(out_dir, "densite-professionnels")
             if row[2] == "CC du Pays de Duras" and row[1] == "2024"]
    assert duras and all(row[0].split() == ["epci:244701389", "departement:47", "region:75"]
                         for row in duras)
    [outreau] = [row for row in table_rows(out_dir, "liste-des-projets")
                 if row[2] == "Outreau" and row[1] == "2013-05"]
    assert set(outreau[0].split()) == {"epci:246200364", "departement:62", "region:32",
                                       "territoire_sante:littoral"}


def test_suppressed_cells_show_as_below_threshold_with_the_reason(site):
    out_dir, _ = site
    with (out_dir / "projets-par-territoire-et-stade_tous-territoires.csv").open(
            encoding="utf-8-sig") as f:
        rows = {(row[0], row[1]): row for row in csv.reader(f, delimiter=";")}
    header = rows[("Territoire", "Recensement")]
    column = header.index("En cours d'opérationnalisation")
    assert rows[("Littoral", "mai 2013")][column] == "< seuil"
    assert rows[("Littoral", "novembre 2012")][column] == "2"
    assert rows[("Artois-Douaisis", "mai 2013")][column] == "4"
    assert rows[("Littoral", "mai 2013")][header.index("Total")] == "9"
    page = (out_dir / "projets.html").read_text(encoding="utf-8")
    assert ('<abbr title="Valeur masquée : moins de 2 projets (secret statistique)">'
            "&lt; seuil</abbr>") in page
    masked = [cell for row in table_rows(out_dir, "densite-professionnels") for cell in row
              if isinstance(cell, dict)]
    assert masked and {c["m"] for c in masked} == {
        "Valeur masquée : moins de 5 professionnels (secret statistique)"}


def test_accessibility_says_why_it_is_missing_and_ranks_when_computed(site, tmp_path):
    out_dir, _ = site
    missing = (out_dir / "accessibilite.html").read_text(encoding="utf-8")
    assert "Indicateur non calculé : coordonnées des communes non fournies" in missing
    assert "<table" not in missing
    warehouse = make_fixture_warehouse(tmp_path / "apl.duckdb", with_accessibility=True)
    render_site(warehouse, tmp_path / "dashboards")
    with (tmp_path / "dashboards" / "apl-medecins_tous-territoires.csv").open(
            encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    assert [(r["Territoire"], r["Rang"], r["Valeur"]) for r in rows] == [
        ("Lauzun", "1 / 3", "1,40"), ("Duras", "2 / 3", "2,10"), ("Bergerac", "3 / 3", "3,60"),
        ("Agmé", "", "< seuil")]
    page = (tmp_path / "dashboards" / "accessibilite.html").read_text(encoding="utf-8")
    assert "non calculé" not in page
    duras = next(row for row in table_rows(tmp_path / "dashboards", "apl-medecins")
                 if row[2] == "Duras")
    assert duras[:2] == ["epci:244701389 departement:47 region:75", "2024"]


def test_quality_page_reports_checks_rejects_and_refused_files(site):
    out_dir, _ = site
    page = html.unescape((out_dir / "qualite.html").read_text(encoding="utf-8"))
    assert "Dernière nuit publiée : 14 novembre 2026 à 02:17" in page
    assert "4 contrôle(s) : 2 réussi(s), 2 en échec (avertissements seulement)." in page
    assert "n'est pas publiée" in page
    data = page_data(out_dir, "qualite.html")
    assert [p for p, _ in data["periodes"]] == ["night-20261113", "night-20261114"]
    assert data["periode"] == "night-20261114" and data["libelle_periode"] == "Nuit"
    with (out_dir / "controles_tous-territoires.csv").open(encoding="utf-8-sig") as f:
        checks = list(csv.DictReader(f, delimiter=";"))
    failed = [c for c in checks if c["Résultat"] == "échec"]
    assert [(c["Table"], c["Gravité"], c["Exemples de valeurs en écart"]) for c in failed] == [
        ("staging.activity", "avertissement", "2150, 2210, 2400"),
        ("staging.census", "avertissement", "2150, 2210, 2400")]
    assert re.search(r"<tr><th>activity/activite_2024-03.csv</th><td class=\"num\" "
                     r"data-csv=\"118\">118</td>", page)
    assert "ETP supérieur à 1,5 pour un professionnel et un mois" in page
    assert "Période 2024-13 invalide ligne 2, colonne periode : attendu AAAA-MM" in page
    assert ("<td>ambiguë (plusieurs communes)</td><td>Saint-Amand-les-Eaux (59526), "
            "Saint-Amand (62738)</td>") in page


def test_dictionary_lists_every_table_and_column_with_its_comment(site, warehouse):
    out_dir, _ = site
    page = html.unescape((out_dir / "dictionnaire.html").read_text(encoding="utf-8"))
    con = duckdb.connect(str(warehouse), read_only=True)
    tables = con.sql("SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    columns = con.execute("SELECT count(*) FROM duckdb_columns() WHERE NOT internal"
                          ).fetchone()[0]
    con.close()
    for schema, table in tables:
        assert f'id="table-{schema}-{table}"' in page
    assert "Valeurs des indicateurs, une ligne par indicateur, territoire" in page
    assert "Valeur de l'indicateur, dans son unité ; vide quand elle est masquée." in page
    assert page.index("Schéma marts") < page.index("Schéma ref") < page.index("Schéma raw")
    with (out_dir / "dictionnaire-des-donnees.csv").open(encoding="utf-8-sig") as f:
        assert len(list(csv.reader(f, delimiter=";"))) == columns + 1


def test_home_says_what_changed_since_the_previous_night(site, tmp_path):
    out_dir, _ = site
    first = html.unescape((out_dir / "index.html").read_text(encoding="utf-8"))
    assert "ne sont pas connus de ces pages" in first  # two nights checked, none shown here
    assert "Fichiers reçus cette nuit : 1 chargé(s), 1 refusé(s)" in first

    home = tmp_path / "dashboards"
    render_site(make_fixture_warehouse(tmp_path / "n1.duckdb"), home)
    later = make_fixture_warehouse(tmp_path / "n2.duckdb", density_shift=0.5,
                                   night=("night-20261115", datetime(2026, 11, 15, 2, 20)))
    render_site(later, home)
    page = html.unescape((home / "index.html").read_text(encoding="utf-8"))
    con = duckdb.connect(str(later), read_only=True)
    moved = con.execute("SELECT count(*) FROM marts.indicator_values WHERE "
                        "indicator_id = 'densite_professionnels' AND NOT suppressed"
                        ).fetchone()[0]
    con.close()
    assert f"Depuis la nuit publiée le 14 novembre 2026 à 02:17 : valeurs publiées {moved} " \
           "modifiées." in page
    with (home / "changements_tous-territoires.csv").open(encoding="utf-8-sig") as f:
        changes = list(csv.DictReader(f, delimiter=";"))
    assert len(changes) == moved and {c["Écart"] for c in changes} == {"0,50"}
    # the rows are read from donnees/ (a national night changes thousands of values)
    assert '<table data-tableau="changements" data-source="donnees/tableau-changements.js" ' \
        f'data-lignes="{moved}">' in page
    data = (home / "donnees" / "tableau-changements.js").read_text(encoding="utf-8")
    assert data.startswith('observatoireTableau("changements",[[')
    assert data.count('"modifiée"]') == moved
    render_site(later, home)  # the same night again keeps its comparison
    assert "valeurs publiées" in (home / "index.html").read_text(encoding="utf-8")


def test_render_reads_the_warehouse_read_only_and_leaves_it_untouched(warehouse, tmp_path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    reader = duckdb.connect(str(warehouse), read_only=True)  # an analyst's open session
    try:
        render_site(warehouse, tmp_path / "dashboards")
    finally:
        reader.close()
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert not Path(f"{warehouse}.wal").exists()


def test_a_new_render_replaces_the_site_and_a_failed_one_keeps_it(warehouse, tmp_path):
    out_dir = tmp_path / "dashboards"
    out_dir.mkdir()
    (out_dir / "stale.csv").write_text("old")
    render_site(warehouse, out_dir)
    assert not (out_dir / "stale.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dashboards"]

    broken = make_fixture_warehouse(tmp_path / "broken.duckdb")
    con = duckdb.connect(str(broken))
    con.execute("DELETE FROM marts.publication")
    con.close()
    index_before = (out_dir / "index.html").read_text(encoding="utf-8")
    with pytest.raises(ValueError, match="marts.publication"):
        render_site(broken, out_dir)
    assert (out_dir / "index.html").read_text(encoding="utf-8") == index_before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken.duckdb", "dashboards"]


def test_a_warehouse_without_audit_or_reference_tables_still_renders(tmp_path):
    warehouse = make_fixture_warehouse(tmp_path / "bare.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("DROP SCHEMA audit CASCADE")
    con.execute("DROP SCHEMA ref CASCADE")
    con.close()
    render_site(warehouse, tmp_path / "dashboards")
    quality = (tmp_path / "dashboards" / "qualite.html").read_text(encoding="utf-8")
    assert "0 contrôle(s) : 0 réussi(s), 0 en échec." in quality
    assert "Aucune ligne rejetée" in quality


def test_no_demo_banner_when_activity_is_real(tmp_path):
    warehouse = make_fixture_warehouse(tmp_path / "real.duckdb", demo_activity=False)
    out_dir = tmp_path / "dashboards"
    render_site(warehouse, out_dir)
    for name in PAGES:
        assert "Données de démonstration" not in (out_dir / name).read_text(encoding="utf-8")


def test_indicator_sheets_speak_french(site):
    out_dir, _ = site
    sheets = (out_dir / "fiches.html").read_text(encoding="utf-8")
    assert sheets.count('<section class="panel">') == len(CATALOGUE)  # one per entry
    assert 'id="fiche-densite_professionnels"' in sheets
    assert "<dd>Département, EPCI, Région</dd>" in sheets
    assert "<dd>une valeur plus élevée est meilleure</dd>" in sheets
    assert "<dd>de 2023 à 2024</dd>" in sheets
    assert "higher_is_better" not in sheets


def test_every_catalogue_entry_has_a_theme_with_a_page_and_french_labels():
    """A new indicator of models/indicators.yaml reaches a page only through its theme."""
    from dashboards.pages import build_pages  # noqa: F401  (the pages exist as modules)
    from dashboards.pages.indicators import THEME_PAGES
    from dashboards.pages.sheets import EXTRA_LABELS
    from dashboards.template import NAVIGATION
    from pipelines.transform.assets import CATALOGUE_COLUMN_KEYS, load_catalogue

    catalogue = load_catalogue()
    missing = [e["id"] for e in catalogue if e.get("theme") not in THEME_PAGES]
    assert not missing, f"entrées sans thème (offre, projets, suivi, accessibilite) : {missing}"
    pages = {href for href, _ in NAVIGATION}
    assert set(THEME_PAGES.values()) <= pages
    extra = {key for e in catalogue for key in e if key not in CATALOGUE_COLUMN_KEYS}
    assert extra <= set(EXTRA_LABELS), f"clés du catalogue sans libellé français : {extra}"


def _values(warehouse: Path, indicator: str) -> dict[tuple, tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT geo_name, period, category, value, suppressed FROM "
                       "marts.indicator_values WHERE indicator_id = ?", [indicator]).fetchall()
    con.close()
    return {(name, period, category): (value, masked)
            for name, period, category, value, masked in rows}


def _number(cell) -> float | str:
    return "< seuil" if isinstance(cell, dict) else float(cell[1].replace(",", "."))


@pytest.mark.parametrize("indicator, page, shown", [
    ("part_medecins_60_ans", "offre.html", "proportion"),
    ("etp_pour_10000", "offre.html", "taux"),
    ("projets_population_couverte", "projets.html", "cellule masquée"),
    ("suivi_installations", "suivi.html", "contrôle croisé"),
])
def test_a_catalogue_indicator_gets_its_section_on_its_theme_page(site, warehouse, indicator,
                                                                  page, shown):
    out_dir, _ = site
    for name in PAGES:
        text = (out_dir / name).read_text(encoding="utf-8")
        assert (f'id="indicateur-{indicator}"' in text) == (name == page), (name, shown)
    expected = _values(warehouse, indicator)
    slug = indicator.replace("_", "-")
    rows = table_rows(out_dir, slug)
    header = next(csv.reader((out_dir / f"{slug}_tous-territoires.csv").open(
        encoding="utf-8-sig"), delimiter=";"))
    assert {"Valeur", "Période", "Territoire"} <= set(header)
    value_at = header.index("Valeur") + 2  # the rows start with keys and period
    categories = dict(_query_labels(warehouse))
    table = {(r[2], r[1], r[header.index("Catégorie") + 2] if "Catégorie" in header
              else "Ensemble"): _number(r[value_at]) for r in rows}
    assert table == {(name, period, categories.get(category, "Ensemble")):
                     "< seuil" if masked else pytest.approx(value, abs=0.005)
                     for (name, period, category), (value, masked) in expected.items()}
    if shown in ("proportion", "cellule masquée"):
        assert {"IC 95 % bas", "IC 95 % haut"} <= set(header) or shown == "cellule masquée"
    data = page_data(out_dir, page)
    views = data["vues"][f"{indicator}-comparaison"]
    latest = max(period for _, period, _ in expected)
    overview = data["figures"][views[f"*|{latest}"]]
    bars = overview["data"][0]
    drawn = dict(zip(bars["y"], bars["x"], strict=True))
    if shown == "contrôle croisé":  # one programme: its categories side by side
        assert drawn == {categories[cat]: pytest.approx(value) for (_, period, cat), (value, _)
                         in expected.items() if period == latest}
    else:
        category = next(c for (_, _, c) in expected)
        assert drawn == {name: pytest.approx(value) for (name, period, cat), (value, masked)
                         in expected.items() if period == latest and not masked
                         and cat == category and name in drawn}
    assert len(drawn) >= 2
    for figure in data["figures"]:
        assert "4242" not in json.dumps(figure)


def _query_labels(warehouse: Path) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute("SELECT category, label FROM marts.category_labels").fetchall()
    con.close()
    return rows


def test_a_generic_indicator_has_comparisons_by_territory_and_its_evolution(site, warehouse):
    out_dir, _ = site
    data = page_data(out_dir, "offre.html")
    assert [p for p, _ in data["periodes"]] == ["2023", "2024"]
    comparison = data["vues"]["etp_pour_10000-comparaison"]
    lot_et_garonne = data["figures"][comparison["departement:47|2024"]]
    assert lot_et_garonne["data"][0]["y"] == ["CC du Pays de Duras"]
    assert lot_et_garonne["data"][0]["x"] == pytest.approx([5.2])
    assert "error_x" in lot_et_garonne["data"][0]
    evolution = data["figures"][data["vues"]["etp_pour_10000-evolution"]["departement:47|*"]]
    lines = {t["name"]: t for t in evolution["data"]}
    assert set(lines) == {"Médecin généraliste", "Infirmier"}
    assert lines["Infirmier"]["x"] == ["2023", "2024"]
    assert lines["Infirmier"]["y"] == pytest.approx([15.2 * 0.95, 15.2])
    # The proportion's masked EPCI is written "< seuil" in its comparison, never as a number.
    share = data["figures"][data["vues"]["part_medecins_60_ans-comparaison"]
                            ["departement:47|2024"]]
    masked = next(t for t in share["data"] if t["name"] == "Valeur masquée")
    assert masked["y"] == ["CC du Pays de Duras"] and masked["text"] == ["< seuil"]
    offer = (out_dir / "offre.html").read_text(encoding="utf-8")
    assert "Pas encore publiés" not in offer


def test_an_indicator_without_rows_says_why_in_french(site):
    out_dir, _ = site
    page = html.unescape((out_dir / "accessibilite.html").read_text(encoding="utf-8"))
    assert 'id="indicateur-apl_medecins"' in page
    assert "Indicateur non calculé : coordonnées des communes non fournies" in page
    assert "La Poste" in page


def test_indicator_sheets_show_the_page_and_the_other_catalogue_keys(site):
    out_dir, _ = site
    sheets = html.unescape((out_dir / "fiches.html").read_text(encoding="utf-8"))
    apl = sheets[sheets.index('id="fiche-apl_medecins"'):]
    apl = apl[:apl.index("</section>")]
    assert "<dt>Données nécessaires</dt><dd>coordonnées des communes (dossier reference/)" in apl
    assert "<dt>Coefficient de détour</dt><dd>1,3</dd>" in apl
    assert '<a href="accessibilite.html#indicateur-apl_medecins">Accessibilité</a>' in apl
    assert "<dt>Règle du statut</dt><dd>écart de plus de 1 : à vérifier</dd>" in sheets
    assert "requires" not in sheets and "detour_factor" not in sheets


def test_the_shipped_plotly_bundle_matches_the_python_package_and_draws_every_figure(site):
    """The basic bundle has bar, scatter and pie only: every figure of the site must use them,
    and its version must be the one plotly.py writes figures for."""
    from plotly.offline import get_plotlyjs

    out_dir, _ = site
    shipped = (out_dir / "plotly.min.js").read_text(encoding="utf-8")[:300]
    version = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", get_plotlyjs()[:300])[1]
    assert re.search(r"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", shipped)[1] == version
    types = {trace.get("type", "scatter") for name in PAGES
             for figure in page_data(out_dir, name)["figures"] for trace in figure["data"]}
    assert types and types <= {"bar", "scatter", "pie"}, types


def test_every_figure_of_the_site_is_a_valid_plotly_figure(site):
    """The builders skip Plotly's validation for speed: a full validation runs here."""
    out_dir, _ = site
    for name in PAGES:
        data = page_data(out_dir, name)
        for figure in data["figures"]:
            go.Figure(figure)  # raises on any unknown or ill-typed property
        assert data["hauteurs"] == [f["layout"].get("height", 450) for f in data["figures"]]


def test_a_warehouse_without_census_nor_followup_says_what_to_drop_where(tmp_path):
    """An observatory with activity alone so far: the home page has no projects card, the
    projects and follow-up pages say which file goes in which folder, and nothing is printed on
    the analyst's terminal (polars warned of a comparison with None)."""
    import warnings

    warehouse = make_fixture_warehouse(tmp_path / "activite-seule.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM marts.indicator_values WHERE indicator_id LIKE 'projets_%' "
                "OR indicator_id LIKE 'suivi_%'")
    con.execute("DELETE FROM marts.census_projects")
    con.execute("DELETE FROM marts.followup_criteria")
    con.close()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_site(warehouse, tmp_path / "site")
    page = {name: html.unescape((tmp_path / "site" / f"{name}.html").read_text(encoding="utf-8"))
            for name in ("index", "projets", "suivi")}
    assert "Densité de professionnels" in page["index"]
    assert "Voir les projets par territoire" not in page["index"]
    assert ("Aucun recensement des maisons et pôles de santé n'a été reçu : déposez-le dans le "
            "dossier census/ du dépôt (CSV ou classeur Excel), la nuit suivante le chargera."
            ) in page["projets"]
    assert "dans le dossier followup/ du dépôt" in page["suivi"]


def test_the_home_counts_the_indicators_published_tonight_and_the_sheet_says_why_not(tmp_path):
    """A landing without activity files read « 24 indicateurs publiés » on the home page with
    13 of them not computed, and their sheets said nothing of it."""
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM marts.indicator_values WHERE indicator_id = 'etp_pour_10000'")
    catalogue = con.execute("SELECT count(*) FROM marts.indicator_catalogue").fetchone()[0]
    published = con.execute("SELECT count(DISTINCT indicator_id) FROM marts.indicator_values "
                            "WHERE indicator_id IN (SELECT indicator_id "
                            "FROM marts.indicator_catalogue)").fetchone()[0]
    con.execute("""CREATE TABLE marts.indicator_status AS
        SELECT indicator_id, CASE WHEN indicator_id = 'etp_pour_10000' THEN 'Aucune statistique '
               || 'd''activité des professionnels n''a été reçue.' END AS reason
        FROM marts.indicator_catalogue""")
    con.close()
    assert 0 < published < catalogue
    render_site(warehouse, tmp_path / "site")
    home = html.unescape((tmp_path / "site" / "index.html").read_text(encoding="utf-8"))
    assert _cards(home, "carte-indicateurs") == {"*": (
        str(published), f"sur {catalogue} au catalogue ; {catalogue - published} non calculé(s) "
        "cette nuit, leur fiche dit pourquoi")}
    sheets = html.unescape((tmp_path / "site" / "fiches.html").read_text(encoding="utf-8"))
    sheet = sheets[sheets.index('id="fiche-etp_pour_10000"'):]
    assert ("<dt>Cette nuit</dt><dd>non calculé : Aucune statistique d'activité des "
            "professionnels n'a été reçue.</dd>") in sheet[:sheet.index("</section>")]


def test_the_home_says_the_failed_rules_of_a_published_night_were_warnings(tmp_path):
    """« 2 en échec, dont 2 simple(s) avertissement(s) » read as if other failures were worse;
    a published night has no blocking failure."""
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    render_site(warehouse, tmp_path / "site")
    home = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert _cards(home, "carte-qualite") == {"*": (
        "2 / 4", "2 avertissements : signalés, sans bloquer la publication")}


def _cards(page: str, slot: str) -> dict[str, tuple[str, str]]:
    """The home page's cards of `slot`: territory key → (figure, detail)."""
    return {key: (html.unescape(figure), html.unescape(detail)) for key, figure, detail in
            re.findall(rf'data-emplacement="{slot}" data-vue="([^|"]+)\|\*"[^>]*>'
                       r'<div class="card"><p class="figure">([^<]*)</p>'
                       r'<p class="label">[^<]*</p><p class="detail">([^<]*)</p>', page)}


def test_several_regions_are_added_up_each_at_its_latest_census(tmp_path):
    """Nationally, each région has its own census dates. With no territory chosen, the home
    card and the projects page's summary showed one région's count as if it were all, its
    evolution one région's, and its figure a hundred territoires de santé; a région whose
    latest census was older than another's had no card."""
    warehouse = make_fixture_warehouse(tmp_path / "w.duckdb")
    con = duckdb.connect(str(warehouse))
    # Nouvelle-Aquitaine, censused in November 2012 only; Hauts-de-France again in May 2013
    con.execute("""INSERT INTO marts.indicator_values
        SELECT * REPLACE ('75' AS geo_code, 'Nouvelle-Aquitaine' AS geo_name)
        FROM marts.indicator_values
        WHERE indicator_id = 'projets_nombre' AND geo_level = 'region' AND period = '2012-11'
          AND category <> 'fonctionnement'""")  # none in operation there: no row for it
    latest = """FROM (SELECT * FROM marts.indicator_values WHERE indicator_id = 'projets_nombre'
        AND geo_level = 'region' AND category = ? QUALIFY period = max(period) OVER (
            PARTITION BY geo_code))"""
    [(regions, total)] = con.execute(f"SELECT count(*), sum(value) {latest}",
                                     ["ensemble"]).fetchall()
    [(operating,)] = con.execute(f"SELECT sum(value) {latest}", ["fonctionnement"]).fetchall()
    [(aquitaine,)] = con.execute(f"SELECT value {latest} WHERE geo_code = '75'",
                                 ["ensemble"]).fetchall()
    con.close()
    render_site(warehouse, tmp_path / "site")
    cards = _cards((tmp_path / "site" / "index.html").read_text(encoding="utf-8"),
                   "carte-projets")
    assert regions == 2
    assert cards["*"] == (format_number(total), (
        "recensés dans 2 régions au dernier recensement de chacune (de novembre 2012 à mai "
        f"2013), dont {format_number(operating)} en fonctionnement"))
    assert cards["region:75"][0] == format_number(aquitaine)
    assert cards["region:75"][1].startswith("recensés en novembre 2012 en région "
                                            "Nouvelle-Aquitaine")
    assert cards["region:32"][1].startswith("recensés en mai 2013 en région Hauts-de-France")
    page = html.unescape((tmp_path / "site" / "projets.html").read_text(encoding="utf-8"))
    assert (f"Recensements régionaux : {format_number(total)} maisons et pôles de santé, en "
            "fonctionnement ou en projet, dans 2 régions au dernier recensement de chacune (de "
            f"novembre 2012 à mai 2013), dont {format_number(operating)} en fonctionnement."
            ) in page
    census = page_data(tmp_path / "site", "projets.html")
    side_by_side = census["figures"][census["vues"]["projets-stades"]["*|2012-11"]]
    assert side_by_side["layout"]["xaxis"]["categoryarray"] == ["Hauts-de-France",
                                                                "Nouvelle-Aquitaine"]
    assert side_by_side["layout"]["xaxis"]["title"]["text"] == "Région"
    # one census date per région on the figure of a territory (région 32, both dates)
    assert census["figures"][census["vues"]["projets-stades"]["region:32|2012-11"]][
        "layout"]["xaxis"]["title"]["text"] == "Territoire de santé"
    assert "*|*" not in census["vues"]["projets-entonnoir"]
    assert "region:32|*" in census["vues"]["projets-entonnoir"]
    assert 'data-vide="Choisissez une région, ou un territoire recensé au moins deux fois' \
        in page
