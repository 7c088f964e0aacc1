"""Issue 5, acceptance 4: no published figure gives away a small count.

Scans every table and view of schema marts in a published night, and the dashboards' extracts
(the CSV files and valeurs-publiees.parquet written next to the pages), for:
1. an unsuppressed cell holding a headcount of professionals or patients under its threshold
   (a zero describes nobody and is allowed, as stats.suppress documents);
2. a suppressed cell that still shows its value, interval or numerator, or that another row
   gives back as its reference value;
3. a suppressed cell recoverable by subtraction: in a group of cells sharing a total (same
   indicator, territory, period and breakdown, with the « ensemble » row as total), exactly one
   cell hidden while the total is published;
4. the same across geographic levels, for the indicators the catalogue marks `additive_levels`:
   a territory and the territories of a finer level that tile it exactly (read from
   ref.communes here, independently of the pipeline), all reported for the same indicator,
   period and category, with exactly one of them hidden (a lone hidden child under a published
   parent, or a hidden parent whose children are all published).

Which columns hold headcounts is written below per indicator and per mart, from the catalogue's
numerator and denominator; a new indicator or mart fails the scan until it is classified here.
"""

import csv
from collections import defaultdict
from pathlib import Path

import duckdb
import polars as pl
import pytest

from dashboards.changes import STATE_FILE, PublishedValues, write_state
from dashboards.formatting import MASKED_TEXT
from pipelines.settings import Settings
from pipelines.transform.assets import load_catalogue

_DEFAULTS = Settings(home=Path("."), landing=Path("."))
THRESHOLDS = {"count": _DEFAULTS.count_threshold, "activity": _DEFAULTS.activity_threshold}

# indicator → columns of marts.indicator_values that count professionals or patients
HEADCOUNTS = {
    "densite_professionnels": ("numerator",),
    "densite_etp": (),  # FTE over population
    "part_60_ans_et_plus": ("numerator", "denominator"),
    "installations": ("value", "numerator"),
    "departs": ("value", "numerator"),
    "solde_installations": (),  # a difference, hidden with the smaller of its two counts
    "departs_remplaces": ("numerator", "denominator"),
    "actes_par_etp": (),  # acts over FTE
    "patients_mt_par_etp_mg": ("numerator",),  # patients
    "part_soins_non_programmes": (),  # acts over acts
    "suivi_installations_observees": ("value", "numerator"),
    "apl_medecins_generalistes": (),  # accessible FTE over population
}
# marts that describe no person: projects, programmes' declared values, metadata
NO_PERSON_COUNTS = {"category_labels", "census_projects", "followup_criteria",
                    "indicator_catalogue", "indicator_status", "publication",
                    "v_historique_projets"}
INDICATOR_MARTS = {"indicator_values", "v_indicateurs", "v_profil_territoire"}
HIDDEN_COLUMNS = ("value", "numerator", "ci_low", "ci_high")
# the dashboards' CSV files that carry no indicator cell, by name prefix
NON_INDICATOR_CSV = ("catalogue-des-indicateurs", "communes-non-resolues", "controles",
                     "dictionnaire-des-donnees", "fichiers-de-la-nuit", "fichiers-non-lus",
                     "fichiers-refuses", "lignes-rejetees", "liste-des-projets",
                     "part-des-projets-par-stade",
                     "part-des-projets-par-territoire", "projets-par-territoire-et-stade",
                     "suivi-contrat-", "suivi-feuille-de-route-", "suivi-cpts-")
CSV_COLUMNS = {"Valeur": "value", "Numérateur": "numerator", "Dénominateur": "denominator"}


def suppressed_catalogue() -> dict[str, int]:
    """indicator → threshold, for every indicator the catalogue submits to suppression."""
    return {e["id"]: THRESHOLDS[e["suppression"]] for e in load_catalogue()
            if e["suppression"] != "none"}


LEVEL_CODES = {"commune": "commune_code", "epci": "epci_code",
               "departement": "department_code", "region": "region_code"}


def tilings(con: duckdb.DuckDBPyConnection) -> list[tuple[tuple, list[tuple]]]:
    """(parent, children) for every parent tiled exactly by the territories of a finer level:
    all its communes belong to a child, and no child has a commune outside it."""
    levels = list(LEVEL_CODES)
    result = []
    for i, fine in enumerate(levels):
        for coarse in levels[i + 1:]:
            f, c = LEVEL_CODES[fine], LEVEL_CODES[coarse]
            rows = con.execute(f"""
                WITH straddling AS (
                    SELECT {f} FROM ref.communes WHERE {f} IS NOT NULL
                    GROUP BY {f} HAVING count(DISTINCT {c}) > 1)
                SELECT {c}, list(DISTINCT {f}) FROM ref.communes WHERE {c} IS NOT NULL
                GROUP BY {c}
                HAVING count(*) FILTER (WHERE {f} IS NULL) = 0
                   AND count(*) FILTER (WHERE {f} IN (SELECT {f} FROM straddling)) = 0
            """).fetchall()
            result += [((coarse, parent), [(fine, child) for child in children])
                       for parent, children in rows]
    return result


def recoverable_across_levels(cells, partitions) -> list[tuple]:
    """cells: ((indicator, period, category), (level, code), hidden). The tilings with exactly
    one hidden member among a reported parent and all its reported children."""
    cells = list(cells)
    hidden = {(cell, territory): is_hidden for cell, territory, is_hidden in cells}
    cell_keys = {cell for cell, _, _ in cells}
    found = []
    for parent, children in partitions:
        for cell in cell_keys:
            members = [(cell, t) for t in (parent, *children)]
            if all(m in hidden for m in members) and sum(hidden[m] for m in members) == 1:
                found.append((*cell, *parent))
    return found


def under_threshold(value, threshold: int) -> bool:
    return value is not None and 0 < abs(value) < threshold


def recoverable(cells) -> list[tuple]:
    """cells: (territory key, dimension, hidden) triples, the « ensemble » dimension being the
    total of every other dimension of the same key. The (key, dimension) groups where exactly
    one cell is hidden while the total is published: subtraction gives that cell back."""
    totals, hidden = {}, defaultdict(int)
    for key, dimension, is_hidden in cells:
        if dimension == "ensemble":
            totals[key] = is_hidden
        else:
            hidden[key, dimension] += is_hidden
    return [(*key, dimension) for (key, dimension), count in hidden.items()
            if count == 1 and totals.get(key) is False]


# --- marts --------------------------------------------------------------------------------------


def scan_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    problems = []
    marts = {r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' UNION "
        "SELECT view_name FROM duckdb_views() WHERE schema_name = 'marts' AND NOT internal"
    ).fetchall()}
    unclassified = marts - NO_PERSON_COUNTS - INDICATOR_MARTS
    problems += [f"marts.{t} : table non classée dans le scan" for t in sorted(unclassified)]
    thresholds = suppressed_catalogue()
    problems += [f"{i} : colonnes d'effectifs non déclarées dans le scan"
                 for i in sorted(set(thresholds) - set(HEADCOUNTS))]
    rows = con.execute(
        "SELECT indicator_id, geo_level, geo_code, period, dimension, category, value, "
        "numerator, denominator, ci_low, ci_high, reference_geo_level, reference_geo_code, "
        "reference_value, comparison_flag, suppressed FROM marts.indicator_values"
    ).fetchall()
    names = ("indicator_id", "geo_level", "geo_code", "period", "dimension", "category",
             "value", "numerator", "denominator", "ci_low", "ci_high", "reference_geo_level",
             "reference_geo_code", "reference_value", "comparison_flag", "suppressed")
    cells = [dict(zip(names, r, strict=True)) for r in rows]
    hidden = {(c["indicator_id"], c["geo_level"], c["geo_code"], c["period"], c["category"])
              for c in cells if c["suppressed"]}
    for c in cells:
        where = f"{c['indicator_id']} {c['geo_level']} {c['geo_code']} {c['period']} " \
                f"{c['dimension']}={c['category']}"
        if c["suppressed"]:
            shown = [k for k in HIDDEN_COLUMNS if c[k] is not None]
            if shown:
                problems.append(f"{where} : masquée mais {', '.join(shown)} publiés")
        elif c["indicator_id"] in thresholds:
            for column in HEADCOUNTS.get(c["indicator_id"], ()):
                if under_threshold(c[column], thresholds[c["indicator_id"]]):
                    problems.append(f"{where} : {column} = {c[column]} sous le seuil")
        reference = (c["indicator_id"], c["reference_geo_level"], c["reference_geo_code"],
                     c["period"], c["category"])
        if c["reference_value"] is not None and reference in hidden:
            problems.append(f"{where} : sa valeur de référence est une cellule masquée")
    problems += [f"{' '.join(map(str, k))} : une seule cellule masquée, total publié"
                 for k in recoverable(
                     ((c["indicator_id"], c["geo_level"], c["geo_code"], c["period"]),
                      c["dimension"], bool(c["suppressed"]))
                     for c in cells if c["indicator_id"] in thresholds)]
    additive = {e["id"] for e in load_catalogue() if e.get("additive_levels")} & set(thresholds)
    problems += [f"{' '.join(map(str, k))} : un seul territoire masqué parmi un territoire "
                 "publié et ceux qui le composent"
                 for k in recoverable_across_levels(
                     (((c["indicator_id"], c["period"], c["category"]),
                       (c["geo_level"], c["geo_code"]), bool(c["suppressed"]))
                      for c in cells if c["indicator_id"] in additive), tilings(con))]
    for view, flag, columns in (
        ("v_indicateurs", "secret_statistique", ("valeur", "ic_bas", "ic_haut", "numerateur")),
        ("v_profil_territoire", "secret_statistique", ("valeur", "ic_bas", "ic_haut")),
    ):
        shown = con.execute(
            f"SELECT count(*) FROM marts.{view} WHERE {flag} AND NOT "
            f"({' AND '.join(f'{c} IS NULL' for c in columns)})").fetchone()[0]
        if shown:
            problems.append(f"marts.{view} : {shown} lignes masquées montrent une valeur")
    return problems


# --- dashboards ---------------------------------------------------------------------------------


def _number(text: str):
    text = (text or "").replace("\u202f", "").replace(" ", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def scan_published_values(path: Path) -> list[str]:
    thresholds = suppressed_catalogue()
    # every night the file keeps (the one shown, and the one before it)
    values = pl.read_parquet(path).select("key", "v", "m").rows(named=True)
    problems, cells = [], []
    for cell in values:
        key = cell["key"]
        indicator, level, code, period, dimension, _category = key.split("|")
        if cell["m"] and cell["v"] is not None:
            problems.append(f"{path.name} {key} : masquée avec une valeur")
        if indicator not in thresholds:
            continue
        if not cell["m"] and "value" in HEADCOUNTS.get(indicator, ()) \
                and under_threshold(cell["v"], thresholds[indicator]):
            problems.append(f"{path.name} {key} : {cell['v']:g} sous le seuil")
        cells.append(((indicator, level, code, period), dimension, bool(cell["m"])))
    problems += [f"{path.name} {' '.join(k)} : une seule cellule masquée, total publié"
                 for k in recoverable(cells)]
    return problems


def _csv_indicator(path: Path, indicators: set[str]) -> str | None:
    slug = path.stem.removesuffix("_tous-territoires").replace("-", "_")
    return slug if slug in indicators else None


def scan_csv(path: Path) -> list[str]:
    catalogue = {e["id"] for e in load_catalogue()}
    thresholds = suppressed_catalogue()
    indicator = _csv_indicator(path, catalogue)
    if indicator is None:
        if path.stem.startswith(NON_INDICATOR_CSV):
            return []
        return [f"{path.name} : extrait non classé dans le scan"]
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    if indicator not in thresholds:
        return []
    threshold = thresholds[indicator]
    problems, cells = [], []
    category = next((c for c in ("Catégorie", "Profession") if rows and c in rows[0]), None)
    for line, row in enumerate(rows, start=2):
        masked = row.get("Valeur", row.get("Densité")) == MASKED_TEXT
        figures = [c for c in ("Valeur", "Densité", "IC 95 % bas", "IC 95 % haut", "Numérateur")
                   if c in row]
        if masked:
            shown = [c for c in figures if row[c] not in (MASKED_TEXT, "")]
            if shown:
                problems.append(f"{path.name}:{line} : masquée mais {', '.join(shown)} publiés")
        else:
            for column, field in CSV_COLUMNS.items():
                if column in row and field in HEADCOUNTS.get(indicator, ()) \
                        and under_threshold(_number(row[column]), threshold):
                    problems.append(f"{path.name}:{line} : {column} = {row[column]} sous le seuil")
        if category:
            key = (row.get("Territoire"), row.get("Niveau"), row.get("Période"))
            total = row[category].startswith("Ensemble")
            cells.append((key, "ensemble" if total else category, masked))
    problems += [f"{path.name} {' '.join(map(str, k))} : une seule cellule masquée, total publié"
                 for k in recoverable(cells)]
    return problems


def scan_dashboards(folder: Path) -> list[str]:
    problems = scan_published_values(folder / STATE_FILE)
    for path in sorted(folder.glob("*.csv")):
        problems += scan_csv(path)
    return problems


# --- the scan on a published night --------------------------------------------------------------


def test_every_mart_keeps_small_counts_hidden(published):
    problems = scan_marts(published)
    assert problems == [], "\n".join(problems[:30])
    # the scan looked at something: suppressed and published cells of activity indicators
    hidden, shown = published.execute(
        "SELECT count(*) FILTER (WHERE suppressed), count(*) FILTER (WHERE NOT suppressed) "
        "FROM marts.indicator_values WHERE indicator_id IN ('densite_professionnels', "
        "'installations', 'part_60_ans_et_plus')").fetchone()
    assert hidden > 0 and shown > 0
    # ... and the levels it links: additive cells reported both for a territory and for all
    # the territories tiling it
    additive = {e["id"] for e in load_catalogue() if e.get("additive_levels")}
    cells = [((i, p, c), (lv, cd), bool(h)) for i, lv, cd, p, c, h in published.execute(
        "SELECT indicator_id, geo_level, geo_code, period, category, suppressed "
        "FROM marts.indicator_values").fetchall() if i in additive]
    reported = {(cell, territory) for cell, territory, _ in cells}
    linked = sum(all((cell, t) in reported for t in (parent, *children))
                 for parent, children in tilings(published) for cell in {c for c, _, _ in cells})
    assert linked > 0


def test_every_dashboard_extract_keeps_small_counts_hidden(night):
    home, _ = night
    folder = home / "dashboards"
    csvs = sorted(folder.glob("*.csv"))
    assert len(csvs) > 10 and (folder / STATE_FILE).exists()
    problems = scan_dashboards(folder)
    assert problems == [], "\n".join(problems[:30])
    masked = sum(MASKED_TEXT in p.read_text(encoding="utf-8-sig") for p in csvs)
    assert masked > 0  # the extracts do carry hidden cells, as « < seuil »


# --- the scan catches what it must catch --------------------------------------------------------


def _values_table(con, rows, communes=()) -> None:
    con.execute("CREATE SCHEMA ref")
    con.execute("CREATE TABLE ref.communes (commune_code VARCHAR, epci_code VARCHAR, "
                "department_code VARCHAR, region_code VARCHAR)")
    if communes:
        con.executemany("INSERT INTO ref.communes VALUES (?, ?, ?, ?)", communes)
    con.execute("CREATE SCHEMA marts")
    con.execute("CREATE TABLE marts.indicator_values (indicator_id VARCHAR, geo_level VARCHAR, "
                "geo_code VARCHAR, period VARCHAR, dimension VARCHAR, category VARCHAR, "
                "value DOUBLE, numerator DOUBLE, denominator DOUBLE, ci_low DOUBLE, "
                "ci_high DOUBLE, reference_geo_level VARCHAR, reference_geo_code VARCHAR, "
                "reference_value DOUBLE, comparison_flag VARCHAR, suppressed BOOLEAN)")
    con.executemany(f"INSERT INTO marts.indicator_values VALUES ({', '.join('?' * 16)})", rows)
    for view in ("v_indicateurs", "v_profil_territoire"):
        con.execute(f"CREATE VIEW marts.{view} AS SELECT value AS valeur, ci_low AS ic_bas, "
                    "ci_high AS ic_haut, numerator AS numerateur, "
                    "suppressed AS secret_statistique FROM marts.indicator_values")


def _cell(category, numerator, suppressed, dimension="profession", reference=None, code="D1"):
    value = None if suppressed else numerator
    return ("densite_professionnels", "departement", code, "2024",
            "ensemble" if category == "ensemble" else dimension, category, value, value, 1e5,
            value, value, "region", "R1", reference, "non comparable", suppressed)


@pytest.mark.parametrize("rows, expected", [
    # a published cell of 4 professionals
    ([_cell("ensemble", 30, False), _cell("mg", 4, False), _cell("inf", 26, False)],
     "numerator = 4.0 sous le seuil"),
    # one hidden cell beside its published total: 30 − 20 gives it back
    ([_cell("ensemble", 30, False), _cell("mg", 4, True), _cell("inf", 26, False)],
     "une seule cellule masquée, total publié"),
    # a hidden cell that kept its numerator
    ([("densite_professionnels", "departement", "D1", "2024", "ensemble", "ensemble", None, 3,
       1e5, None, None, None, None, None, "non comparable", True)],
     "masquée mais numerator publiés"),
    # a commune compared with its hidden département
    ([_cell("ensemble", 3, True), _cell("mg", 3, True),
      ("densite_professionnels", "epci", "E1", "2024", "ensemble", "ensemble", 40, 40, 1e5,
       30, 50, "departement", "D1", 3.0, "similaire", False)],
     "sa valeur de référence est une cellule masquée"),
])
def test_the_scan_finds_each_kind_of_leak(rows, expected):
    con = duckdb.connect()
    _values_table(con, rows)
    problems = scan_marts(con)
    assert any(expected in p for p in problems), problems


def _apl(level, code, accessible_fte, suppressed):
    value = None if suppressed else accessible_fte
    return ("apl_medecins_generalistes", level, code, "2024", "ensemble", "ensemble", value,
            value, 1e3, value, value, None, None, None, "non comparable", suppressed)


# communes a, b, c tile EPCI E; E and the EPCI-less commune z tile nothing above them
COMMUNES = [("a", "E", "16", "75"), ("b", "E", "16", "75"), ("c", "E", "16", "75"),
            ("z", None, "16", "75")]


@pytest.mark.parametrize("hidden, leak", [
    ({"a"}, True),  # E − b − c gives a back
    ({"E"}, True),  # a + b + c gives E back
    ({"a", "b"}, False),
    (set(), False),
])
def test_the_scan_links_geographic_levels(hidden, leak):
    con = duckdb.connect()
    _values_table(con, [_apl("epci", "E", 40, "E" in hidden),
                        *(_apl("commune", c, 12 + i, c in hidden) for i, c in enumerate("abc")),
                        _apl("departement", "16", 60, False), _apl("commune", "z", 20, False)],
                  communes=COMMUNES)
    assert tilings(con) and (("epci", "E"), [("commune", c) for c in "abc"]) in [
        (parent, sorted(children)) for parent, children in tilings(con)]
    # the département is tiled by its communes but not by EPCIs (z belongs to none)
    assert not any(p == ("departement", "16") and ch[0][0] == "epci" for p, ch in tilings(con))
    problems = [p for p in scan_marts(con) if "un seul territoire masqué" in p]
    assert bool(problems) is leak, problems
    if leak:  # E's own tiling; with a hidden, the département's communes a, b, c, z too
        assert problems[0] == ("apl_medecins_generalistes 2024 ensemble epci E : un seul "
                               "territoire masqué parmi un territoire publié et ceux qui le "
                               "composent")
        assert len(problems) == (2 if "a" in hidden else 1)


def test_the_scan_accepts_well_suppressed_cells():
    con = duckdb.connect()
    _values_table(con, [_cell("ensemble", 30, False), _cell("mg", 4, True),
                        _cell("inf", 14, True), _cell("kine", 12, False), _cell("sf", 0, False)])
    assert scan_marts(con) == []


def test_the_scan_finds_leaks_in_extracts(tmp_path):
    write_state(tmp_path / STATE_FILE, PublishedValues.of("n", "2026-11-14T02:14:00", {
        "installations|departement|16|2024|ensemble|ensemble": {"v": 30, "m": False},
        "installations|departement|16|2024|profession|mg": {"v": None, "m": True},
        "installations|departement|16|2024|profession|infirmier": {"v": 26, "m": False},
        "departs|departement|16|2024|ensemble|ensemble": {"v": 3, "m": False},
        "departs|departement|16|2024|profession|mg": {"v": 2, "m": True},
    }), None)
    header = "Territoire;Niveau;Catégorie;Période;Valeur;IC 95 % bas;IC 95 % haut;Numérateur\n"
    (tmp_path / "installations_tous-territoires.csv").write_text(
        header + "Charente;Département;Ensemble;2024;30;20;42;30\n"
        "Charente;Département;Médecin généraliste;2024;< seuil;1,2;< seuil;< seuil\n"
        "Charente;Département;Infirmier;2024;3;1;8;3\n", encoding="utf-8-sig")
    (tmp_path / "inconnu.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    problems = "\n".join(scan_dashboards(tmp_path))
    assert "installations departement 16 2024 profession : une seule cellule masquée" in problems
    assert "departs|departement|16|2024|ensemble|ensemble : 3 sous le seuil" in problems
    assert "departs|departement|16|2024|profession|mg : masquée avec une valeur" in problems
    assert "installations_tous-territoires.csv:3 : masquée mais IC 95 % bas publiés" in problems
    assert "installations_tous-territoires.csv:4 : Valeur = 3 sous le seuil" in problems
    assert "inconnu.csv : extrait non classé" in problems
