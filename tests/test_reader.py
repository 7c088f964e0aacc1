import datetime as dt
import gzip
import hashlib
import time
import zipfile
from pathlib import Path

import polars as pl
import pytest
import xlrd
import xlsxwriter
import xlwt
from support import real_data

from pipelines.sources.contracts import Column, Contract
from pipelines.sources.reader import FOOTER_REASON, SourceFileError, is_footer, read_source_file

ACTIVITY_HEADER = ["Période", "RPPS", "Profession", "Code commune INSEE", "ETP", "Nombre d'actes"]
ACTIVITY_ROWS = [
    ["2024-01", "10001234567", "Médecin généraliste", "01001", "0,85", "412"],
    ["2024-01", "00012345678", "Infirmière", "2A004", "1", "903"],
]
CENSUS_HEADER = ["Date du recensement", "Région", "Territoire de santé", "Nom du projet",
                 "Type de structure", "Commune(s)", "Stade"]
CENSUS_ROW = ["2013-05", "Nord-Pas-de-Calais", "Littoral", "Fruges", "MSP", "Fruges",
              "En fonctionnement"]



def write_lines(path: Path, lines: list[str], sep: str = ";", encoding: str = "utf-8",
                newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join(lines).encode(encoding) + newline.encode())
    return path


def activity_csv(path: Path, sep: str = ";", **kwargs) -> Path:
    lines = [sep.join(r) for r in [ACTIVITY_HEADER, *ACTIVITY_ROWS]]
    return write_lines(path, lines, **kwargs)


def expected_activity_frame(rows: list[int] | None = None) -> list[dict]:
    """ACTIVITY_ROWS as read, on lines `rows` (default: right below the header)."""
    return [
        {"periode": r[0], "id_professionnel": r[1], "profession": r[2],
         "code_commune_exercice": r[3], "etp": r[4], "nb_actes": r[5], "_source_row": line}
        for r, line in zip(ACTIVITY_ROWS, rows or range(2, len(ACTIVITY_ROWS) + 2), strict=True)
    ]


@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
def test_each_separator_is_detected(tmp_path, sep):
    rows = [[v.replace(",", ".") if sep == "," else v for v in r] for r in ACTIVITY_ROWS]
    write_lines(tmp_path / "activity" / "a.csv", [sep.join(r) for r in [ACTIVITY_HEADER, *rows]])
    table = read_source_file(tmp_path / "activity" / "a.csv", "activity")
    assert table.separator == sep
    assert table.frame["etp"].to_list() == [r[4] for r in rows]
    assert table.frame["code_commune_exercice"].to_list() == ["01001", "2A004"]


def test_values_are_kept_as_written_text(tmp_path):
    table = read_source_file(activity_csv(tmp_path / "a.csv"), "activity")
    assert table.encoding == "utf-8"
    assert table.header_line == 1
    assert table.frame.to_dicts() == expected_activity_frame()
    assert all(dtype == pl.String for name, dtype in table.frame.schema.items()
               if name != "_source_row")
    assert table.frame.schema["_source_row"] == pl.Int64


def test_windows_1252_is_detected(tmp_path):
    path = activity_csv(tmp_path / "a.csv", encoding="cp1252")
    assert "é".encode("cp1252") in path.read_bytes()
    table = read_source_file(path, "activity")
    assert table.encoding == "cp1252"
    assert table.frame["profession"].to_list() == ["Médecin généraliste", "Infirmière"]


def test_a_spreadsheet_unicode_text_export_is_read(tmp_path):
    """« Texte Unicode (*.txt) »: UTF-16 with its byte order mark, tab-separated."""
    for codec in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{codec}.txt"
        bom = "\ufeff".encode(codec)
        path.write_bytes(bom + activity_csv(tmp_path / "plain.csv", sep="\t").read_text(
            encoding="utf-8").replace("\n", "\r\n").encode(codec))
        table = read_source_file(path, "activity")
        assert (table.encoding, table.separator) == ("utf-16", "\t")
        assert table.frame.to_dicts() == expected_activity_frame()


def test_a_damaged_utf16_file_names_its_line(tmp_path):
    path = tmp_path / "a.txt"
    lines = "\t".join(ACTIVITY_HEADER) + "\n" + "\t".join(ACTIVITY_ROWS[0]) + "\n"
    # a lone high surrogate on line 3
    path.write_bytes("\ufeff".encode("utf-16-le") + lines.encode("utf-16-le")
                     + b"\x00\xd8" + "2024-01\n".encode("utf-16-le"))
    with pytest.raises(SourceFileError) as caught:
        read_source_file(path, "activity")
    assert caught.value.line == 3
    assert "UTF-16" in str(caught.value) and "ligne 3" in str(caught.value)


def test_utf8_bom_does_not_stick_to_the_first_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"\xef\xbb\xbf" + activity_csv(tmp_path / "plain.csv").read_bytes())
    table = read_source_file(path, "activity")
    assert table.encoding == "utf-8-sig"
    assert table.frame.to_dicts() == expected_activity_frame()


def test_crlf_line_endings(tmp_path):
    table = read_source_file(activity_csv(tmp_path / "a.csv", newline="\r\n"), "activity")
    assert table.frame.to_dicts() == expected_activity_frame()


@pytest.mark.parametrize("encoding", ["utf-8", "mac_roman"])
def test_an_old_mac_csv_ends_its_lines_with_a_carriage_return_alone(tmp_path, encoding):
    """« CSV (Macintosh) » of an older Excel for Mac, in Mac Roman: read as one line, the file
    was refused for a missing column; and read as Windows-1252, its « é » was « Ž »."""
    path = activity_csv(tmp_path / "a.csv", newline="\r", encoding=encoding)
    table = read_source_file(path, "activity")
    assert table.encoding == encoding
    assert table.frame.to_dicts() == expected_activity_frame()
    assert table.frame["_source_row"].to_list() == [2, 3]


@pytest.mark.parametrize("quoted", [False, True])
def test_the_header_again_below_is_set_aside_as_a_title_line(tmp_path, quoted):
    """Two exports put end to end, the second with its byte order mark."""
    rows = [";".join(row) for row in ACTIVITY_ROWS]
    if quoted:
        rows[1] = rows[1].replace("Infirmière", '"Infirmière"')
    lines = [";".join(ACTIVITY_HEADER), rows[0], "\ufeff" + ";".join(ACTIVITY_HEADER), rows[1]]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.frame.to_dicts() == expected_activity_frame(rows=[2, 4])
    assert table.bad_rows == [(3, FOOTER_REASON)]


def test_a_lone_carriage_return_below_the_header_is_kept_in_its_value(tmp_path):
    """It used to stop the header search with a csv error instead of loading the file: the
    value reaches staging, which rejects it with its line."""
    rows = [list(r) for r in ACTIVITY_ROWS]
    rows[0][1] = rows[0][1][:4] + "\r" + rows[0][1][4:]
    path = write_lines(tmp_path / "a.csv", [";".join(r) for r in [ACTIVITY_HEADER, *rows]])
    table = read_source_file(path, "activity")
    assert table.bad_rows == []
    assert table.frame["id_professionnel"].to_list()[0] == rows[0][1]
    assert table.frame["_source_row"].to_list() == list(range(2, len(rows) + 2))


def test_trailing_separator_on_every_line(tmp_path):
    lines = ["|".join(r) + "|" for r in [ACTIVITY_HEADER, *ACTIVITY_ROWS]]
    table = read_source_file(write_lines(tmp_path / "a.txt", lines), "activity")
    assert table.bad_rows == []
    assert table.frame.to_dicts() == expected_activity_frame()


def test_trailing_separator_on_data_rows_only(tmp_path):
    lines = [";".join(ACTIVITY_HEADER)] + [";".join(r) + ";" for r in ACTIVITY_ROWS]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.bad_rows == []
    assert table.frame.to_dicts() == expected_activity_frame()


def test_whitespace_is_trimmed_and_empty_values_are_null(tmp_path):
    header = ACTIVITY_HEADER + ["Structure"]
    lines = [";".join(header), "  2024-02 ; 10001234567;Infirmier;16292; 0,5 ;  ;   "]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    row = table.frame.row(0, named=True)
    assert (row["periode"], row["etp"], row["nb_actes"], row["structure"]) == (
        "2024-02", "0,5", None, None)


def test_extra_columns_are_ignored_and_reported(tmp_path):
    header = ["Couleur"] + ACTIVITY_HEADER + ["Remarque interne"]
    lines = [";".join(header), ";".join(["bleu", *ACTIVITY_ROWS[0], "rien"])]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.ignored_columns == ["Couleur", "Remarque interne"]
    assert "Couleur" not in table.frame.columns
    assert table.frame.drop("_source_row").row(0) == tuple(ACTIVITY_ROWS[0])


def test_headers_with_their_filler_words_are_the_contracts_columns(tmp_path):
    """Headers as software exports write them, with « nb de », « n° » or an article the
    contract's names lack; a header matching none is still ignored."""
    header = ["Mois d'activité", "N° ADELI", "Profession", "Code INSEE de la commune d'exercice",
              "ETP", "Nb d'actes", "Nb de visites", "Patients MT", "Nom de la structure",
              "Nb de jours"]
    lines = [";".join(header), "2024-03;012345678;Infirmier;16015;0,8;640;12;80;MSP Ruffec;18"]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.ignored_columns == ["Nb de jours"]
    assert table.frame.columns == [
        "periode", "id_professionnel", "profession", "code_commune_exercice", "structure", "etp",
        "nb_actes", "nb_visites", "nb_patients_medecin_traitant", "_source_row"]


@pytest.mark.parametrize("family, header, columns", [
    ("census", ["Date de recensement", "Région", "Territoire de démocratie sanitaire",
                "Nom de la MSP", "Type de projet", "Communes d'implantation",
                "Stade d'avancement", "Zone fragile (oui/non)", "Quartier politique de la ville",
                "Module(s) NMR"],
     ["date_recensement", "region", "territoire", "nom_projet", "type_structure", "communes",
      "stade", "zone_fragile", "zus", "modules_nmr"]),
    # seed 000's action sheets name their criteria « critères d'évaluation »
    ("followup", ["Intitulé du programme", "Périmètre", "Fiche action",
                  "Critères d'évaluation", "Année", "Valeur atteinte", "Source"],
     ["programme", "territoire", "action", "critere", "periode", "valeur", "commentaire"]),
])
def test_census_and_roadmap_headers_as_their_tables_write_them(tmp_path, family, header,
                                                               columns):
    lines = [";".join(header), ";".join(["x"] * len(header))]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), family)
    assert table.ignored_columns == []
    assert table.frame.columns == [*columns, "_source_row"]


def test_title_rows_above_the_header_and_line_numbers(tmp_path):
    lines = ["Statistiques d'activité;;", "Extraction du 3 janvier 2025", "",
             ";".join(ACTIVITY_HEADER), ";".join(ACTIVITY_ROWS[0]), "",
             ";".join(ACTIVITY_ROWS[1])]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.header_line == 4
    assert table.frame["_source_row"].to_list() == [5, 7]
    assert table.frame["id_professionnel"].to_list() == [ACTIVITY_ROWS[0][1], ACTIVITY_ROWS[1][1]]


def test_truncated_last_line_is_set_aside_with_its_line_number(tmp_path):
    lines = [";".join(r) for r in [ACTIVITY_HEADER, *ACTIVITY_ROWS]] + ["2024-01;1000"]
    path = tmp_path / "a.csv"
    path.write_text("\n".join(lines))  # no final newline: the export stopped mid-row
    table = read_source_file(path, "activity")
    assert table.frame.to_dicts() == expected_activity_frame()
    assert [line for line, _ in table.bad_rows] == [4]
    assert "2 champ(s) au lieu de 6" in table.bad_rows[0][1]


def test_a_total_or_a_note_on_a_short_line_is_set_aside_as_a_footer(tmp_path):
    """« Total;1315 » or « Source : … » below the table, written with fewer fields than the
    header, in a file with and without quotes: set aside with the reason staging gives such a
    line when it has all its fields; a short line of data is still a truncated line."""
    footers = ["Total;1315", "Source : export du logiciel métier, janvier 2024",
               "Sous-total Infirmiers;1 204;;"]
    for name, extra in (("plain.csv", []), ("quoted.csv", ['"2024-01";"10001234568";'
                                                           '"Infirmière";"2A004";"1";"12"'])):
        lines = [";".join(r) for r in [ACTIVITY_HEADER, *ACTIVITY_ROWS]] + extra + [
            "2024-01;10001234569;Infirmière", *footers]
        table = read_source_file(write_lines(tmp_path / name, lines), "activity")
        first = 4 + len(extra)
        assert [line for line, _ in table.bad_rows] == list(range(first, first + 4)), name
        assert "3 champ(s) au lieu de 6" in table.bad_rows[0][1]
        assert [reason for _, reason in table.bad_rows[1:]] == [FOOTER_REASON] * 3, name


FOOTER_CASES = [["Total", "1315"], ["Source : ARS, mai 2013"], ["", "Ensemble", "12,5", ""],
                ["Total", "23 lignes"], ["Note", "voir", "annexe"], ["2024-01", "1000"],
                ["", ""], ["Artois-Douaisis"], ["Notes de lecture", "", "3"],
                ["Lecture : un professionnel sur deux"], ["Totalement", "3"]]


@pytest.mark.parametrize("fields", FOOTER_CASES, ids=lambda f: "|".join(f))
def test_a_short_lines_footer_rule_is_staging_footer_rule(fields):
    """The reader's rule for short lines and staging's footer_of (models/macros.sql) judge the
    same cells alike, and give the same reason."""
    import duckdb

    from pipelines.sql import macros_sql

    con = duckdb.connect()
    con.execute(macros_sql())
    cells = [{"c": str(i), "v": v} for i, v in enumerate(fields)]
    footer, reason = con.execute("SELECT footer_of(?) IS NOT NULL, footer_reason()",
                                 [cells]).fetchone()
    assert is_footer(fields) == footer
    assert reason == FOOTER_REASON


def test_row_with_too_many_fields_is_not_shifted_into_wrong_columns(tmp_path):
    bad = ["2024-01", "10001234567", "Médecin", "généraliste", "01001", "0,85", "412"]
    lines = [";".join(r) for r in [ACTIVITY_HEADER, ACTIVITY_ROWS[0], bad, ACTIVITY_ROWS[1]]]
    table = read_source_file(write_lines(tmp_path / "a.csv", lines), "activity")
    assert table.frame["_source_row"].to_list() == [2, 4]
    assert [line for line, _ in table.bad_rows] == [3]
    assert "7 champs au lieu de 6" in table.bad_rows[0][1]


def test_quoted_values_with_separators_and_line_breaks(tmp_path):
    header = ",".join(CENSUS_HEADER)
    lines = [header,
             '2013-05,"Nord, Pas-de-Calais",Littoral,"Fruges\n(site principal)",MSP,Fruges,'
             "En fonctionnement",
             "2013-05,Nord-Pas-de-Calais,Littoral",
             ",".join(CENSUS_ROW)]
    table = read_source_file(write_lines(tmp_path / "c.csv", lines), "census")
    assert table.frame["_source_row"].to_list() == [2, 5]
    assert table.frame["region"].to_list() == ["Nord, Pas-de-Calais", "Nord-Pas-de-Calais"]
    assert table.frame["nom_projet"][0] == "Fruges\n(site principal)"
    assert [line for line, _ in table.bad_rows] == [4]


def test_header_only_gives_an_empty_table(tmp_path):
    table = read_source_file(write_lines(tmp_path / "a.csv", [";".join(ACTIVITY_HEADER)]),
                             "activity")
    assert table.frame.height == 0
    assert table.frame.columns == ["periode", "id_professionnel", "profession",
                                   "code_commune_exercice", "etp", "nb_actes", "_source_row"]


@pytest.mark.parametrize("content", [b"", b"\n\n  \r\n"])
def test_empty_file_is_an_error(tmp_path, content):
    path = tmp_path / "activity" / "vide.csv"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match="activity/vide.csv est vide"):
        read_source_file(path, "activity")


def test_missing_required_column_is_named_with_accepted_synonyms(tmp_path):
    header = [h for h in CENSUS_HEADER if h != "Stade"]
    path = write_lines(tmp_path / "census" / "recensement.csv",
                       ["Recensement;;", "", "", ";".join(header)])
    with pytest.raises(SourceFileError) as caught:
        read_source_file(path, "census")
    error = caught.value
    assert (error.file, error.line, error.column) == ("census/recensement.csv", 4, "stade")
    message = str(error)
    assert "census/recensement.csv" in message
    assert "« stade »" in message and "ligne d'en-tête 4" in message
    assert "stade_projet" in message and "maturite" in message
    assert "Ajoutez cette colonne" in message


WIDE_FOLLOWUP = ["programme;territoire;action;critere;2022;2023;T1 2024;cible",
                 "CLS;PETR du Pays Ruffécois;Action 2;Installations;2;3;;3",
                 "CLS;PETR du Pays Ruffécois;Action 2;Départs remplacés;1; 0 ;1;2"]


@pytest.mark.parametrize("quoted", [False, True])
def test_a_table_with_a_column_per_period_is_read_a_row_per_period(tmp_path, quoted):
    """Roadmaps are often laid out with a row per criterion and a column per year: each
    period's cell is a row, the header its period (refused before for lacking « periode »
    and « valeur »). An empty cell is a value not known yet, as in a row per period."""
    lines = list(WIDE_FOLLOWUP)
    if quoted:  # the slower path, for a value holding the separator
        lines[1] = lines[1].replace("PETR du Pays Ruffécois", '"PETR; Pays Ruffécois"')
    table = read_source_file(write_lines(tmp_path / "followup" / "suivi.csv", lines),
                             "followup")
    assert table.ignored_columns == []
    assert table.frame.columns == ["programme", "territoire", "action", "critere", "periode",
                                   "valeur", "cible", "_source_row", "_source_column"]
    assert table.frame.select("critere", "periode", "valeur", "cible", "_source_row").rows() == [
        ("Installations", "2022", "2", "3", 2), ("Installations", "2023", "3", "3", 2),
        ("Installations", "T1 2024", None, "3", 2),
        ("Départs remplacés", "2022", "1", "2", 3), ("Départs remplacés", "2023", "0", "2", 3),
        ("Départs remplacés", "T1 2024", "1", "2", 3)]
    assert table.frame["territoire"][0] == ("PETR; Pays Ruffécois" if quoted
                                            else "PETR du Pays Ruffécois")


def test_a_workbook_with_a_column_per_year_is_read_a_row_per_year(tmp_path):
    """Years typed as numbers in the header cells of a workbook."""
    path = write_workbook(tmp_path / "suivi.xlsx", {"Feuille de route": [
        (0, ["Feuille de route du pôle de santé"]),
        (2, ["Programme", "Territoire", "Fiche action", "Critère de suivi", 2021, 2022,
             "Réalisé 2023", "Valeur T1 2024", "Référent"]),
        (3, ["Pôle", "Duras", "Action 1", "Remplacements accueillis", 4, 6, 7, 2, "Dr Martin"]),
    ]})
    table = read_source_file(path, "followup")
    assert table.ignored_columns == ["Référent"]
    assert table.frame.select("periode", "valeur", "_source_row").rows() == [
        ("2021", "4", 4), ("2022", "6", 4), ("2023", "7", 4), ("T1 2024", "2", 4)]
    # each value keeps the header of its column, as the sheet shows it, for a rejection to name
    assert table.frame["_source_column"].to_list() == ["2021", "2022", "Réalisé 2023",
                                                       "Valeur T1 2024"]


def test_a_period_column_twice_is_a_duplicated_header(tmp_path):
    path = write_lines(tmp_path / "followup" / "suivi.csv", [
        "programme;territoire;action;critere;2022;2023;Réalisé 2023", "CLS;Ruffec;A;C;1;2;3"])
    with pytest.raises(SourceFileError, match="« 2023 » et « Réalisé 2023 »"):
        read_source_file(path, "followup")


def test_a_file_without_any_recognisable_header(tmp_path):
    path = write_lines(tmp_path / "a.csv", ["x;y;z", "1;2;3"])
    with pytest.raises(SourceFileError, match="pas de ligne d'en-tête reconnaissable"):
        read_source_file(path, "activity")


def test_duplicated_header_is_an_error(tmp_path):
    header = ACTIVITY_HEADER + ["CODGEO"]
    path = write_lines(tmp_path / "a.csv", [";".join(header)])
    with pytest.raises(SourceFileError) as caught:
        read_source_file(path, "activity")
    assert caught.value.column == "code_commune_exercice"
    assert "« Code commune INSEE » et « CODGEO »" in str(caught.value)


def test_bytes_neither_utf8_nor_windows_1252(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(";".join(ACTIVITY_HEADER).encode() + b"\n2024-01;\x81\x8d;x;01001;1;2\n")
    with pytest.raises(SourceFileError) as caught:
        read_source_file(path, "activity")
    assert caught.value.line == 2


def _compressed(path: Path, suffix: str, members: dict[str, bytes]) -> Path:
    """`members` packed as a gzip file (one member) or a zip archive, at `path` + `suffix`."""
    packed = path.with_name(path.name + suffix)
    if suffix == ".gz":
        [content] = members.values()
        packed.write_bytes(gzip.compress(content))
    else:
        with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, content in members.items():
                archive.writestr(name, content)
    return packed


@pytest.mark.parametrize("suffix", [".gz", ".zip"])
def test_a_compressed_csv_is_read_as_the_csv_it_holds(tmp_path, suffix):
    """Large exports travel compressed: activite_2024-01.csv.gz, or a .zip of the CSV (with
    the folder a Mac adds to it); the file is known by the sha256 of what was dropped."""
    plain = activity_csv(tmp_path / "activity" / "activite_2024-01.csv", encoding="cp1252")
    members = {plain.name: plain.read_bytes()}
    if suffix == ".zip":
        members["__MACOSX/._activite_2024-01.csv"] = b"\x00\x05\x16\x07"
    packed = _compressed(plain, suffix, members)
    table = read_source_file(packed, "activity")
    assert table.frame.to_dicts() == read_source_file(plain, "activity").frame.to_dicts()
    assert table.frame.to_dicts() == expected_activity_frame()
    assert table.encoding == "cp1252"
    assert table.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()


def test_an_archive_of_several_files_is_refused_with_what_to_do(tmp_path):
    plain = activity_csv(tmp_path / "activity" / "activite.csv")
    packed = _compressed(plain, ".zip", {"janvier.csv": plain.read_bytes(),
                                         "fevrier.csv": plain.read_bytes()})
    with pytest.raises(SourceFileError) as caught:
        read_source_file(packed, "activity")
    assert str(caught.value) == (
        "L'archive activity/activite.csv.zip contient 2 fichier(s) (janvier.csv, fevrier.csv) : "
        "la nuit lit une archive .zip d'un seul fichier CSV. Décompressez-la dans le même "
        "dossier (un classeur .xlsx se dépose tel quel), ou déposez une archive par fichier CSV.")


@pytest.mark.parametrize("suffix", [".gz", ".zip"])
def test_a_damaged_archive_is_named_with_what_to_do(tmp_path, suffix):
    plain = activity_csv(tmp_path / "activity" / "activite.csv")
    packed = _compressed(plain, suffix, {plain.name: plain.read_bytes()})
    packed.write_bytes(packed.read_bytes()[:40])  # a copy cut short
    with pytest.raises(SourceFileError,
                       match=rf"activite.csv{suffix} n'est pas une archive .* lisible .*"
                             "déposez le fichier CSV lui-même"):
        read_source_file(packed, "activity")


def test_unknown_family_is_a_programming_error(tmp_path):
    with pytest.raises(ValueError, match="unknown source family"):
        read_source_file(activity_csv(tmp_path / "a.csv"), "pharmacie")


def write_workbook(path: Path, sheets: dict[str, list[tuple[int, list]]]) -> Path:
    """sheets: name → [(0-based row, values)]."""
    workbook = xlsxwriter.Workbook(path)
    date_format = workbook.add_format({"num_format": "dd/mm/yyyy"})
    for name, rows in sheets.items():
        sheet = workbook.add_worksheet(name)
        for row, values in rows:
            for column, value in enumerate(values):
                if isinstance(value, dt.datetime):
                    sheet.write_datetime(row, column, value, date_format)
                elif value is not None:
                    sheet.write(row, column, value)
    workbook.close()
    return path


def test_xlsx_with_title_rows_on_the_first_matching_sheet(tmp_path):
    (tmp_path / "census").mkdir()
    path = write_workbook(tmp_path / "census" / "recensement.xlsx", {
        "Lisez-moi": [(0, ["Ce classeur recense les projets"]), (2, ["Contact : ARS"])],
        "Recensement": [
            (0, ["Recensement des maisons et pôles de santé — Mai 2013"]),
            (1, ["Source : ARS Nord-Pas-de-Calais"]),
            (3, [*CENSUS_HEADER, "Nombre de professionnels"]),
            (4, [dt.datetime(2013, 5, 1), *CENSUS_ROW[1:], 12]),
            (6, [dt.datetime(2013, 5, 1), *CENSUS_ROW[1:3], "  Marquise ", "MSP", "Marquise",
                 "En fonctionnement", 7.5]),
        ],
    })
    table = read_source_file(path, "census")
    assert (table.sheet, table.header_line, table.encoding) == ("Recensement", 4, "xlsx")
    assert table.separator is None
    assert table.ignored_columns == ["Nombre de professionnels"]
    assert table.frame["_source_row"].to_list() == [5, 7]
    assert table.frame["date_recensement"].to_list() == ["2013-05-01", "2013-05-01"]
    assert table.frame["nom_projet"].to_list() == ["Fruges", "Marquise"]
    assert table.frame["stade"].to_list() == ["En fonctionnement"] * 2


def test_a_workbook_with_a_table_on_several_sheets_is_refused_whole(tmp_path):
    """A sheet per month: reading the first alone lost the others' rows without a word."""
    path = write_workbook(tmp_path / "activite.xlsx", {
        "Lisez-moi": [(0, ["Activité des professionnels, une feuille par mois"])],
        "janvier": [(0, ACTIVITY_HEADER), (1, ACTIVITY_ROWS[0])],
        "février": [(2, ACTIVITY_HEADER), (3, ACTIVITY_ROWS[1])],
    })
    with pytest.raises(SourceFileError) as refused:
        read_source_file(path, "activity")
    message = str(refused.value)
    assert "activite.xlsx" in message and "« janvier », « février »" in message
    assert "Lisez-moi" not in message
    assert "un classeur ou un CSV par feuille" in message


def test_a_sheet_repeating_its_header_sets_it_aside_as_a_title_line(tmp_path):
    """Two months pasted one under the other, each with its header: the second header was a
    row of data, rejected (« période illisible ») and the night blocked."""
    path = write_workbook(tmp_path / "activite.xlsx", {"Activité": [
        (0, ACTIVITY_HEADER), (1, ACTIVITY_ROWS[0]),
        (3, [f" {cell} " for cell in ACTIVITY_HEADER]), (4, ACTIVITY_ROWS[1]),
    ]})
    table = read_source_file(path, "activity")
    assert table.frame["_source_row"].to_list() == [2, 5]
    assert table.bad_rows == [(4, FOOTER_REASON)]


def test_a_sheet_with_the_header_alone_is_no_table(tmp_path):
    """A template sheet before the data: its header was taken, and no row loaded."""
    path = write_workbook(tmp_path / "activite.xlsx", {
        "Modèle": [(0, ACTIVITY_HEADER)],
        "Données": [(0, ACTIVITY_HEADER), (1, ACTIVITY_ROWS[0]), (2, ACTIVITY_ROWS[1])],
    })
    table = read_source_file(path, "activity")
    assert table.sheet == "Données"
    assert table.frame["_source_row"].to_list() == [2, 3]


FOLLOWUP_XLSX_HEADER = ["Programme", "Territoire", "Action", "Critère", "Période", "Valeur",
                        "Cible", "Unité"]


def test_xlsx_numbers_in_a_percent_format_are_read_as_shown(tmp_path):
    """A share typed « 75 % » in a spreadsheet is held as 0.75: read as its number, it was
    published as 0,75 % beside a target of 80 typed as a number."""
    path = tmp_path / "suivi.xlsx"
    workbook = xlsxwriter.Workbook(path)
    percent = workbook.add_format({"num_format": "0%"})
    tenths = workbook.add_format({"num_format": "0.0 %"})
    literal = workbook.add_format({"num_format": '0"%"'})  # a sign beside the number, unscaled
    sheet = workbook.add_worksheet("Suivi")
    # the table starts in column B, row 3, below a title: positions as fastexcel reads them
    sheet.write(0, 1, "Feuille de route du pôle")
    sheet.write_row(2, 1, FOLLOWUP_XLSX_HEADER)
    rows = [("Part des patients", 2024, (0.75, percent), (0.8, percent), "%"),
            ("Part des patients", 2025, (0.825, tenths), (80, None), "%"),
            ("Part des jeunes", 2025, (12, literal), (1, percent), "%"),
            ("Réunions", 2025, (6, None), (10, None), "réunions")]
    for index, (criterion, period, value, target, unit) in enumerate(rows, start=3):
        sheet.write_row(index, 1, ["Pôle", "Ruffec", "Action 1", criterion, period])
        for column, (number, style) in ((6, value), (7, target)):
            sheet.write_number(index, column, number, style)
        sheet.write(index, 8, unit)
    workbook.close()

    frame = read_source_file(path, "followup").frame
    assert frame["valeur"].to_list() == ["75 %", "82,5 %", "12", "6"]
    assert frame["cible"].to_list() == ["80 %", "80", "100 %", "10"]
    assert frame["periode"].to_list() == ["2024", "2025", "2025", "2025"]


def test_xlsx_cells_merged_over_several_rows_give_each_row_their_value(tmp_path):
    """A roadmap merges its programme's and its actions' cells over their periods: the rows
    under the first came without programme nor action, and were rejected."""
    path = tmp_path / "fiches_actions.xlsx"
    workbook = xlsxwriter.Workbook(path)
    sheet = workbook.add_worksheet("Suivi")
    sheet.merge_range(0, 1, 0, 8, "Feuille de route du pôle")  # a title merged along its row
    sheet.write_row(2, 1, FOLLOWUP_XLSX_HEADER)
    sheet.merge_range(3, 1, 8, 1, "Pôle")
    sheet.merge_range(3, 2, 8, 2, "Ruffec")
    for first, action, criterion in ((3, "Action 1", "Stagiaires"), (6, "Action 2", "Ateliers")):
        sheet.merge_range(first, 3, first + 2, 3, action)
        sheet.merge_range(first, 4, first + 2, 4, criterion)
        for row, year in enumerate((2022, 2023, 2024), start=first):
            sheet.write_row(row, 5, [year, row, 10, "nombre"])
    workbook.close()

    table = read_source_file(path, "followup")
    frame = table.frame
    assert table.header_line == 3
    assert frame["_source_row"].to_list() == [4, 5, 6, 7, 8, 9]
    assert frame["programme"].to_list() == ["Pôle"] * 6
    assert frame["territoire"].to_list() == ["Ruffec"] * 6
    assert frame["action"].to_list() == ["Action 1"] * 3 + ["Action 2"] * 3
    assert frame["critere"].to_list() == ["Stagiaires"] * 3 + ["Ateliers"] * 3
    assert frame["valeur"].to_list() == ["3", "4", "5", "6", "7", "8"]


def test_xls_cells_merged_and_in_a_percent_format_are_read_as_shown(tmp_path):
    """Old censuses and roadmaps come as .xls: its merged cells gave their value to the first
    row alone (the others rejected without programme nor action) and its percent cells were
    read as the share they hold (0,75 for 75 %)."""
    path = tmp_path / "feuille_de_route.xls"
    workbook = xlwt.Workbook()
    sheet = workbook.add_sheet("Suivi")
    percent = xlwt.easyxf(num_format_str="0.0%")
    sheet.write(0, 0, "Feuille de route du pôle")
    for column, header in enumerate(FOLLOWUP_XLSX_HEADER):
        sheet.write(2, column, header)
    for column, value in enumerate(("Pôle", "Ruffec", "Action 1", "Part des patients")):
        sheet.write_merge(3, 5, column, column, value)
    for row, (year, share) in enumerate(((2022, 0.5), (2023, 0.625), (2024, 0.75)), start=3):
        sheet.write(row, 4, year)
        sheet.write(row, 5, share, percent)
        sheet.write(row, 6, 80)
        sheet.write(row, 7, "%")
    workbook.save(path)

    table = read_source_file(path, "followup")
    assert (table.encoding, table.header_line) == ("xls", 3)
    assert table.frame.select("programme", "action", "critere", "periode", "valeur",
                              "cible", "_source_row").rows() == [
        ("Pôle", "Action 1", "Part des patients", "2022", "50 %", "80", 4),
        ("Pôle", "Action 1", "Part des patients", "2023", "62,5 %", "80", 5),
        ("Pôle", "Action 1", "Part des patients", "2024", "75 %", "80", 6)]


def test_xlsx_missing_column_names_the_sheet(tmp_path):
    path = write_workbook(tmp_path / "r.xlsx", {"Feuil1": [(2, CENSUS_HEADER[:-1])]})
    with pytest.raises(SourceFileError) as caught:
        read_source_file(path, "census")
    assert caught.value.line == 3
    assert "feuille « Feuil1 »" in str(caught.value)


def test_xlsx_header_only(tmp_path):
    path = write_workbook(tmp_path / "r.xlsx", {"Feuil1": [(0, CENSUS_HEADER)]})
    assert read_source_file(path, "census").frame.height == 0


def test_workbook_with_only_empty_sheets_is_empty(tmp_path):
    path = write_workbook(tmp_path / "r.xlsx", {"Feuil1": [], "Feuil2": []})
    with pytest.raises(SourceFileError, match="est vide"):
        read_source_file(path, "census")


@pytest.mark.parametrize("content", [b"PK\x03\x04 not really a zip", b"plain text, not excel"])
def test_corrupt_xlsx_is_a_source_file_error(tmp_path, content):
    path = tmp_path / "census" / "abime.xlsx"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match="census/abime.xlsx n'est pas un classeur XLSX"):
        read_source_file(path, "census")


def test_truncated_xlsx_is_a_source_file_error(tmp_path):
    good = write_workbook(tmp_path / "ok.xlsx", {"Feuil1": [(0, CENSUS_HEADER), (1, CENSUS_ROW)]})
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(SourceFileError):
        read_source_file(broken, "census")


AMELI_2018_COLUMNS = (
    Column("departement", True, "Département"),
    Column("effectif", True, "Effectif"),
    Column("densite", False, "Densité", ("DENSITE /100 000 hab.",)),
)


def test_real_xls_reads_the_sheet_holding_the_contract():
    """Each sheet's first header names its professions: a contract that requires the
    midwives' finds their sheet, the sixth of eight."""
    path = real_data("ameli/Effectif_et_densite_par_departement_en_2018.xls")
    contract = Contract("ameli_2018", "effectifs 2018",
                        (Column("groupe", True, "Groupe", ("Sages-femmes",)),
                         *AMELI_2018_COLUMNS))
    table = read_source_file(path, contract)
    sheet = xlrd.open_workbook(path).sheet_by_name("Sages-femmes")
    assert table.sheet == "Sages-femmes"
    assert (table.encoding, table.header_line) == ("xls", 1)
    assert table.frame.height == sheet.nrows - 1
    first = table.frame.row(0, named=True)
    assert first["departement"] == sheet.cell_value(1, 1)
    assert first["effectif"] == str(int(sheet.cell_value(1, 2)))
    assert table.frame["_source_row"][-1] == sheet.nrows


def test_real_xls_with_a_table_on_each_sheet_is_refused_naming_them():
    path = real_data("ameli/Effectif_et_densite_par_departement_en_2018.xls")
    with pytest.raises(SourceFileError) as refused:
        read_source_file(path, Contract("ameli_2018", "effectifs 2018", AMELI_2018_COLUMNS))
    tables = [s.name for s in xlrd.open_workbook(path).sheets()][2:]
    assert len(tables) == 6
    assert ", ".join(f"« {name} »" for name in tables) in str(refused.value)


def test_real_cartosante_export_with_bom_and_title_lines():
    path = real_data("cartosante/zonage-raw.csv")
    contract = Contract("zonage", "zonage infirmiers", (
        Column("code", True, "Code commune"),
        Column("libelle", True, "Libellé"),
        Column("zonage", True, "Zonage", ("Zonage infirmiers",)),
    ))
    table = read_source_file(path, contract)
    raw = path.read_bytes()
    physical_lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    title_and_header_lines = 3  # "CartoSanté; ; ", "Référentiel géographique…", the header
    assert (table.encoding, table.separator, table.header_line) == ("utf-8-sig", ";", 3)
    assert table.bad_rows == []
    assert table.frame.height == physical_lines - title_and_header_lines
    ruffec = table.frame.filter(pl.col("code") == "16292").row(0, named=True)
    assert (ruffec["libelle"], ruffec["zonage"]) == ("Ruffec", "3_intermediaire")
    assert table.frame["_source_row"].to_list()[:2] == [4, 5]


def test_500k_row_activity_csv_reads_in_under_3_seconds(tmp_path):
    rows = 500_000
    index = pl.int_range(0, rows, eager=True)
    frame = pl.DataFrame({
        "periode": "2024-" + (index % 12 + 1).cast(pl.String).str.zfill(2),
        "id_professionnel": "10" + (index * 7919 % 1_000_000_000).cast(pl.String).str.zfill(9),
        "profession": pl.Series(["Médecin généraliste", "Infirmier"] * (rows // 2)),
        "code_commune_exercice": (index % 95_000 + 1000).cast(pl.String).str.zfill(5),
        "structure": pl.Series(["MSP de Ruffec", "", "", "", ""] * (rows // 5)),
        "annee_naissance": (index % 40 + 1955).cast(pl.String),
        "etp": pl.Series(["0,85", "1", "0,5", "1,2"] * (rows // 4)),
        "nb_actes": (index % 600).cast(pl.String),
        "nb_consultations": (index % 400).cast(pl.String),
        "nb_visites": (index % 30).cast(pl.String),
        "nb_patients": (index % 900).cast(pl.String),
        "nb_patients_medecin_traitant": (index % 1000).cast(pl.String),
        "nb_soins_non_programmes": (index % 50).cast(pl.String),
    })
    path = tmp_path / "activity" / "activite_2024.csv"
    path.parent.mkdir()
    frame.write_csv(path, separator=";", quote_style="never")
    start = time.perf_counter()
    table = read_source_file(path, "activity")
    elapsed = time.perf_counter() - start
    assert table.frame.height == rows
    assert table.frame["_source_row"][-1] == rows + 1
    for i in (0, rows - 1):
        assert table.frame.row(i)[:-1] == tuple(value or None for value in frame.row(i))
    assert elapsed < 3, f"reading {rows} rows took {elapsed:.2f} s"
