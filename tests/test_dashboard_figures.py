"""Figure builders on small frames, and the rendered site on a hand-made warehouse."""

import csv
import hashlib
import re
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import polars as pl
import pytest
from dashboard_fixture import SEED_002_STAGE_COUNTS, make_fixture_warehouse

from dashboards.figures import density_figure, followup_figure, projects_by_stage_figure
from dashboards.formatting import format_number, format_period, suppression_note
from dashboards.render import render_site

PAGES = ["index.html", "projets.html", "offre.html", "suivi.html", "fiches.html"]
STAGE_LABELS = {"reflexion": ("En réflexion", 1), "conception": ("En conception", 2),
                "operationnalisation": ("En opérationnalisation", 3),
                "fonctionnement": ("En fonctionnement", 4)}
SENTINEL = 4242.0  # a value no real cell holds: it must never reach a figure


def _census_frame(hidden: set[tuple[str, str]] = frozenset()) -> pl.DataFrame:
    rows = []
    for territory, stages in SEED_002_STAGE_COUNTS.items():
        rows.append({"geo_name": territory, "category": "ensemble", "category_label": "Ensemble",
                     "category_order": 0, "value": float(sum(stages.values())),
                     "suppressed": False})
        for stage, count in stages.items():
            masked = (territory, stage) in hidden
            label, order = STAGE_LABELS[stage]
            rows.append({"geo_name": territory, "category": stage, "category_label": label,
                         "category_order": order, "value": SENTINEL if masked else float(count),
                         "suppressed": masked})
    return pl.DataFrame(rows).with_columns(period=pl.lit("2013-05"))


def _trace(fig: go.Figure, name: str):
    return next(trace for trace in fig.data if trace.name == name)


def test_projects_figure_shows_the_seed_002_census():
    fig = projects_by_stage_figure(_census_frame())

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


def test_projects_figure_never_plots_a_suppressed_cell():
    hidden = {("Littoral", "operationnalisation"), ("Métropole-Flandre intérieure",
                                                    "operationnalisation")}
    fig = projects_by_stage_figure(_census_frame(hidden))

    assert "4242" not in fig.to_json()
    stage = _trace(fig, "En opérationnalisation")
    assert list(stage.x) == ["Artois-Douaisis", "Hainaut-Cambrésis"]
    assert any("masqués" in a.text for a in fig.layout.annotations)


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
    fig = density_figure(_density_frame(), "EPCI")

    doctors = _trace(fig, "Médecin généraliste")
    assert list(doctors.y) == ["CC du Pays de Duras", "CC du Pays de Lauzun"]
    assert list(doctors.x) == [6.1, 5.4]
    assert list(doctors.error_x.array) == pytest.approx([10.0 - 6.1, 9.7 - 5.4])
    assert list(doctors.error_x.arrayminus) == pytest.approx([6.1 - 2.2, 5.4 - 1.1])
    assert list(_trace(fig, "Référence : Médecin généraliste").x) == [7.9, 7.9]
    nurses = _trace(fig, "Infirmier")
    assert list(nurses.y) == ["CC du Pays de Duras"]
    assert nurses.visible is False
    assert "4242" not in fig.to_json()
    buttons = fig.layout.updatemenus[0].buttons
    assert [b.label for b in buttons] == ["Médecin généraliste", "Infirmier"]
    assert buttons[1].args[0]["visible"] == [False, False, True, True]
    # Dictionary order, first territory at the top, no empty band above it.
    assert list(fig.layout.yaxis.categoryarray) == ["CC du Pays de Duras",
                                                    "CC du Pays de Lauzun"]
    assert list(fig.layout.yaxis.range) == [1.5, -0.5]
    assert fig.layout.title.text == "Densité de professionnels par EPCI (2024)"
    assert fig.layout.xaxis.title.text == "Professionnels pour 10 000 habitants"


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
          "period": p, "value": float(v), "target": t, "unit": u, "status": s,
          "value_nature": n} for c, p, v, t, u, s, n in rows],
        schema_overrides={"target": pl.Float64})


def test_followup_figure_compares_values_with_targets():
    fig = followup_figure(_followup_frame())

    reached = _trace(fig, "Atteint")
    assert (list(reached.x), list(reached.y)) == (["2024"], [6])
    on_track = _trace(fig, "En bonne voie")
    assert (list(on_track.x), list(on_track.y)) == (["2023"], [5])
    targets = [t for t in fig.data if t.name == "Cible"]
    assert len(targets) == 1  # the criterion without a target gets no target line
    assert list(targets[0].y) == [6, 6]
    no_target = _trace(fig, "Sans cible")
    assert list(no_target.marker.pattern.shape) == ["/"]  # illustrative value: hatched
    assert list(fig.layout.xaxis.categoryarray) == ["2023", "2024"]
    assert fig.layout.title.text.startswith("CLS du Pays Ruffécois : valeur et cible")


def test_french_number_and_period_formats():
    assert format_number(12345.678) == "12\u202f345,7"
    assert format_number(12345.678, grouped=False, decimals=2) == "12345,68"
    assert format_number(53.0) == "53"
    assert format_period("2013-05") == "mai 2013"
    assert format_period("2024") == "2024"
    assert suppression_note("Moins de 11 professionnels : masqué", "professionnels") == (
        "Valeur masquée : moins de 11 professionnels (secret statistique)")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return make_fixture_warehouse(tmp_path_factory.mktemp("warehouse") / "observatoire.duckdb")


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory) -> tuple[Path, list[Path]]:
    out_dir = tmp_path_factory.mktemp("home") / "dashboards"
    return out_dir, render_site(warehouse, out_dir)


def test_render_site_writes_every_page_light_and_offline(site):
    out_dir, written = site
    assert all(path.exists() and path.parent == out_dir for path in written)
    assert {p.name for p in written} >= set(PAGES) | {"plotly.min.js"}
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(p.name for p in written)
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
        if 'class="plotly-graph-div"' in page:
            assert '<script src="plotly.min.js"' in page
            assert '"showSendToCloud": false' in page


def test_csv_files_open_in_french_excel_and_match_the_warehouse(site, warehouse):
    out_dir, _ = site
    raw = (out_dir / "part-des-projets-par-territoire.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (out_dir / "part-des-projets-par-territoire.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter=";"))
    assert rows[0][:3] == ["Territoire", "Projets", "Part (%)"]
    con = duckdb.connect(str(warehouse), read_only=True)
    expected = con.sql("SELECT geo_name, numerator, value FROM marts.indicator_values "
                       "WHERE indicator_id = 'projets_part_territoire' AND category = 'ensemble'"
                       ).fetchall()
    con.close()
    shown = {row[0]: (float(row[1]), float(row[2].replace(",", "."))) for row in rows[1:]}
    assert shown == {name: (n, pytest.approx(v, abs=0.005)) for name, n, v in expected}
    assert "35,85" in raw.decode("utf-8-sig")  # 19 / 53, decimal comma


def test_suppressed_cells_show_as_below_threshold_with_the_reason(site):
    out_dir, _ = site
    with (out_dir / "projets-par-territoire-et-stade.csv").open(encoding="utf-8-sig") as f:
        rows = {row[0]: row for row in csv.reader(f, delimiter=";")}
    header = rows["Territoire"]
    column = header.index("En cours d'opérationnalisation")
    assert rows["Littoral"][column] == "< seuil"
    assert rows["Artois-Douaisis"][column] == "4"
    assert rows["Littoral"][header.index("Total")] == "9"
    page = (out_dir / "projets.html").read_text(encoding="utf-8")
    assert ('<abbr title="Valeur masquée : moins de 2 projets (secret statistique)">'
            "&lt; seuil</abbr>") in page
    offer = (out_dir / "offre.html").read_text(encoding="utf-8")
    assert "moins de 5 professionnels (secret statistique)" in offer


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


def test_no_demo_banner_when_activity_is_real(tmp_path):
    warehouse = make_fixture_warehouse(tmp_path / "real.duckdb", demo_activity=False)
    out_dir = tmp_path / "dashboards"
    render_site(warehouse, out_dir)
    for name in PAGES:
        assert "Données de démonstration" not in (out_dir / name).read_text(encoding="utf-8")


def test_indicator_sheets_speak_french(site):
    out_dir, _ = site
    sheets = (out_dir / "fiches.html").read_text(encoding="utf-8")
    assert sheets.count('<section class="panel">') == 6  # one per catalogue entry
    assert 'id="fiche-densite_professionnels"' in sheets
    assert "<dd>Département, EPCI, Région</dd>" in sheets
    assert "<dd>une valeur plus élevée est meilleure</dd>" in sheets
    assert "<dd>de 2023 à 2024</dd>" in sheets
    assert "higher_is_better" not in sheets
