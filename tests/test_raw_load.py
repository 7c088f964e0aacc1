"""The raw load splits a text file without quotes in DuckDB (pipelines/ingest/raw.py): every
row, value, hash and set-aside line must be what the Python reader reads (`read_source_file`,
then `pseudonymise`), and every line number the physical one.
"""

import random
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.ingest import raw
from pipelines.ingest.pseudonymise import pseudonymise
from pipelines.sources.reader import WHITESPACE, PlainText, open_source_file, read_source_file

KEY = b"une cle de test"
HEADER = ["Période", "RPPS", "Profession", "Code commune INSEE", "ETP", "Nombre d'actes"]
RAW_IDS = ["10001234567", "10001234568", "10001234569", "10001234570", "10001234571",
           "10001234572", "10001234573", "10001234574"]


def load(tmp_path: Path, landing: Path, family: str = "activity") -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "entrepot.duckdb"))
    raw.load_family(con, landing, family, "chargement-1", KEY)
    return con


def loaded_rows(con: duckdb.DuckDBPyConnection, name: str, family: str = "activity"):
    return con.sql(
        f"""SELECT COLUMNS(lambda c: c NOT IN ('_source_file', '_source_sha256', '_load_id',
                                                '_source_column'))
            FROM raw.{family} WHERE _source_file = $name ORDER BY _source_row""",
        params={"name": name}).pl()


def read_by_the_reader(path: Path, family: str = "activity") -> tuple[pl.DataFrame, list]:
    table = read_source_file(path, family)
    frame = table.frame
    if family in raw.PSEUDONYMISED:
        frame = pseudonymise(frame, raw.PSEUDONYMISED[family], KEY)
    columns = raw.raw_columns(family)
    frame = frame.with_columns(pl.lit(None, pl.String).alias(c) for c in columns
                               if c not in frame.columns)
    return frame.select(*columns, "_source_row"), table.bad_rows


def assert_loaded_as_read(con, landing: Path, name: str, family: str = "activity"):
    expected, bad_rows = read_by_the_reader(landing / name, family)
    assert loaded_rows(con, name, family).equals(expected)
    malformed = con.execute(
        """SELECT source_row, reason FROM raw.malformed_lines WHERE source_file = ?
           ORDER BY source_row""", [name]).fetchall()
    assert malformed == bad_rows
    assert con.execute(
        """SELECT row_count FROM raw.loaded_files WHERE source_file = ? AND status = 'chargé'""",
        [name]).fetchall() == [(expected.height,)]


def tricky_lines(sep: str, encoding: str) -> list[str]:
    """Title rows, blank and white-space lines, values padded with every kind of white space,
    a stray carriage return, malformed rows, identifiers of each format. `Nombre d'actes` holds
    the physical line number of each row that must load."""
    etp = "0.5" if sep == "," else "0,5"
    pad = "\t" if sep != "\t" else "\x0b"
    unicode_only = encoding != "cp1252"
    return [
        f"Statistiques d'activité{sep}{sep}",                                   # 1
        "Extraction du 3 janvier 2025",                                        # 2
        "",                                                                     # 3
        sep.join(HEADER),                                                       # 4
        sep.join(["2024-01", RAW_IDS[0], "Médecin généraliste", "01001", etp, "5"]),
        "",                                                                     # 6
        sep.join(["  2024-01 ", f"\xa0{RAW_IDS[1]}\xa0", " Infirmière œ € ’ ", "2A004 ",
                  f"{pad}{etp}{pad}", " 7 "]),                                  # 7
        "   ",                                                                  # 8
        sep * 5,                                                                # 9
        sep.join(["2024-01", RAW_IDS[2]]),                                      # 10: too few
        sep.join(["2024-01", RAW_IDS[3], "Médecin", "généraliste", "01001", etp, "11"]),
        sep.join(["2024-01", "123456789", "Kiné", "01001", etp, "12", "", " "]),  # 12: blanks
        sep.join(["2024-01", "", "Sage-femme", "01001", etp, "13"]),           # 13: absent
        sep.join(["2024-01", "ABC", "Sage-femme", "01001", f" {etp}", "14"]),  # 14: invalide
        sep.join(["2024-01", "١٢٣٤٥٦٧٨٩٠١" if unicode_only else RAW_IDS[4], "Dentiste",
                  "01001", etp, "15"]),                                         # 15
        sep.join(["2024-01", RAW_IDS[5], "Pédicure\rpodologue", "01001", etp, "16"]),
        sep.join(["\u30002024-01\u2028" if unicode_only else "\xa02024-01", RAW_IDS[6],
                  "x", "01001", etp, "17"]),                                    # 17
        sep.join(["2024-01", RAW_IDS[7], "Orthophoniste", "01001", etp, "18"]),  # 18
    ]


def write(path: Path, lines: list[str], encoding: str, newline: str,
          final_newline: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = newline.join(lines) + (newline if final_newline else "")
    path.write_bytes(text.encode(encoding))
    return path


CASES = [(sep, encoding, newline) for sep in (";", ",", "\t", "|")
         for encoding in ("utf-8", "utf-8-sig", "cp1252", "utf-16")
         for newline in ("\n", "\r\n")]


@pytest.mark.parametrize(("sep", "encoding", "newline"), CASES)
def test_a_tricky_file_loads_row_for_row_as_the_reader_reads_it(tmp_path, sep, encoding,
                                                                  newline):
    landing = tmp_path / "depot"
    path = write(landing / "activity" / "activite.csv", tricky_lines(sep, encoding), encoding,
                 newline)
    assert isinstance(open_source_file(path, "activity"), PlainText)
    con = load(tmp_path, landing)
    assert_loaded_as_read(con, landing, "activity/activite.csv")
    rows = loaded_rows(con, "activity/activite.csv")
    # physical line numbers, counted here and not by the reader
    assert rows["_source_row"].to_list() == [5, 7, 12, 13, 14, 15, 16, 17, 18]
    assert rows["nb_actes"].cast(pl.Int64).to_list() == rows["_source_row"].to_list()
    assert rows["id_professionnel_format"].to_list() == [
        "rpps", "rpps", "adeli", "absent", "invalide", "rpps", "rpps", "rpps", "rpps"]
    assert rows.row(1, named=True)["profession"] == "Infirmière œ € ’"
    assert rows.row(1, named=True)["etp"] == ("0.5" if sep == "," else "0,5")
    assert con.execute("SELECT list(source_row ORDER BY source_row) FROM raw.malformed_lines"
                       ).fetchone()[0] == [10, 11]


@pytest.mark.parametrize(("trailing", "rows"), [
    # a trailing separator on the header too: the row of line 11 has one field too many,
    # and an empty one at that, so it loads (shifted, as the reader reads it)
    ("every line", [5, 7, 11, 12, 13, 14, 15, 16, 17, 18]),
    ("data rows only", [5, 7, 12, 13, 14, 15, 16, 17, 18]),
])
def test_trailing_separators_and_a_last_line_with_its_newline(tmp_path, trailing, rows):
    landing = tmp_path / "depot"
    lines = tricky_lines(";", "utf-8")
    if trailing == "every line":
        lines = [line + ";" for line in lines]
    else:
        lines = lines[:4] + [line + ";" if line.strip() else line for line in lines[4:]]
    write(landing / "activity" / "activite.csv", lines, "utf-8", "\r\n", final_newline=True)
    con = load(tmp_path, landing)
    assert_loaded_as_read(con, landing, "activity/activite.csv")
    assert loaded_rows(con, "activity/activite.csv")["_source_row"].to_list() == rows


TOKENS = ["2024", "a", "é", "œ€’", "x y", " ", "  ", "\t", "\xa0", "\u3000", "\u2028", "\x85",
          "\x0b", "\r", "١٢٣", "10001234567", ""]


@pytest.mark.parametrize("sep", [";", ",", "\t", "|"])
def test_random_lines_split_as_the_reader_splits_them(tmp_path, sep):
    """Values of random white space and text, rows of 3 to 9 fields against a header of 6
    (or 7 with a trailing separator): what DuckDB keeps, trims and sets aside is what polars
    does."""
    rng = random.Random(sep)
    landing = tmp_path / "depot"
    for number, header in enumerate([sep.join(HEADER), sep.join(HEADER) + sep]):
        # the reader parses the line below the header with the csv module while it looks for
        # the header, and a lone "\r" there stops it (a bug of its own, left as it is)
        lines = [header, sep.join(["2024-01", "10001234567", "x", "01001", "1", "2"])]
        for _ in range(3000):
            fields = ["".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 3)))
                      for _ in range(rng.choice([3, 5, 6, 6, 6, 6, 6, 6, 7, 7, 8, 9]))]
            lines.append(sep.join(fields))
        write(landing / "activity" / f"aleatoire-{number}.csv", lines, "utf-8",
              rng.choice(["\n", "\r\n"]))
    con = load(tmp_path, landing)
    for number in range(2):
        assert_loaded_as_read(con, landing, f"activity/aleatoire-{number}.csv")


def test_a_quoted_file_and_a_census_file_load_as_the_reader_reads_them(tmp_path):
    landing = tmp_path / "depot"
    write(landing / "activity" / "guillemets.csv", [
        ";".join(HEADER), '2024-01;10001234567;"Médecin; généraliste";01001;1;2',
        "2024-01;10001234568;Infirmier;01001;1", ""], "utf-8", "\n")
    write(landing / "census" / "recensement.csv", [
        "date_recensement;region;territoire;nom_projet;type_structure;communes;stade",
        "2013-05; Nord-Pas-de-Calais ;Littoral;Fruges;MSP;Fruges;En fonctionnement", "",
        "2013-05;Nord-Pas-de-Calais;Littoral;Wimereux;MSP"], "cp1252", "\r\n")
    con = load(tmp_path, landing)
    raw.load_family(con, landing, "census", "chargement-1", KEY)
    assert_loaded_as_read(con, landing, "activity/guillemets.csv")
    assert_loaded_as_read(con, landing, "census/recensement.csv", "census")
    assert loaded_rows(con, "activity/guillemets.csv")["profession"].to_list() == [
        "Médecin; généraliste"]


def test_whitespace_is_what_polars_strips():
    every = "".join(chr(c) for c in range(1, 0x110000) if not 0xD800 <= c <= 0xDFFF)
    stripped = pl.Series([f"{c}x{c}" for c in every]).str.strip_chars()
    assert "".join(c for c, s in zip(every, stripped, strict=True) if s == "x") == WHITESPACE


def test_no_raw_identifier_is_written_to_the_database(tmp_path):
    landing = tmp_path / "depot"
    write(landing / "activity" / "activite.csv", tricky_lines(";", "utf-8"), "utf-8", "\n")
    con = load(tmp_path, landing)
    columns = con.execute(
        """SELECT table_schema, table_name, column_name FROM information_schema.columns
           WHERE data_type = 'VARCHAR'""").fetchall()
    for schema, table, column in columns:
        found = con.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" WHERE '
            + " OR ".join(f"contains(\"{column}\", '{i}')" for i in RAW_IDS)).fetchone()[0]
        assert found == 0, (schema, table, column)
    con.close()
    for written in tmp_path.glob("entrepot.duckdb*"):
        files = [written] if written.is_file() else list(written.rglob("*"))
        assert not [i for f in files if f.is_file() for i in RAW_IDS
                    if i.encode() in f.read_bytes()]


def test_reloading_skips_copies_and_corrections_supersede_a_refused_file_alone(tmp_path):
    landing = tmp_path / "depot"
    lines = tricky_lines(";", "utf-8")
    write(landing / "activity" / "a.csv", lines, "utf-8", "\n")
    write(landing / "activity" / "b.csv", ["sans en-tête", "1;2"], "utf-8", "\n")
    write(landing / "activity" / "c.csv", lines[:6], "utf-8", "\n")
    con = load(tmp_path, landing)
    statuses = dict(con.execute("SELECT source_file, status FROM raw.loaded_files").fetchall())
    assert statuses == {"activity/a.csv": "chargé", "activity/b.csv": "refusé",
                        "activity/c.csv": "chargé"}
    (landing / "activity" / "d.csv").write_bytes((landing / "activity" / "c.csv").read_bytes())
    assert raw.load_family(con, landing, "activity", "chargement-2", KEY).skipped == [
        "activity/a.csv", "activity/c.csv", "activity/d.csv"]
    assert con.execute("SELECT status, message FROM raw.loaded_files WHERE source_file = ?",
                       ["activity/d.csv"]).fetchall() == [
        ("doublon", "contenu identique à activity/c.csv, déjà chargé")]
    write(landing / "activity" / "a.csv", lines[:10], "utf-8", "\n")  # corrected: fewer rows
    again = raw.load_family(con, landing, "activity", "chargement-3", KEY)
    assert again.superseded == ["activity/a.csv"]
    assert_loaded_as_read(con, landing, "activity/a.csv")
    assert con.execute("SELECT count(*) FROM raw.activity").fetchone()[0] == 2 + 1


def test_an_error_while_reading_ahead_leaves_no_half_file(tmp_path, monkeypatch):
    landing = tmp_path / "depot"
    for name in ("a", "b", "c"):
        lines = [f"Fichier {name}", *tricky_lines(";", "utf-8")]
        write(landing / "activity" / f"{name}.csv", lines, "utf-8", "\n")
    read = raw._read

    def failing(path, family, key):
        if path.name == "b.csv":
            raise OSError("partage réseau indisponible")
        return read(path, family, key)

    monkeypatch.setattr(raw, "_read", failing)
    con = duckdb.connect(str(tmp_path / "entrepot.duckdb"))
    with pytest.raises(OSError):
        raw.load_family(con, landing, "activity", "chargement-1", KEY)
    assert con.execute("SELECT DISTINCT _source_file FROM raw.activity").fetchall() == [
        ("activity/a.csv",)]
    monkeypatch.setattr(raw, "_read", read)
    assert raw.load_family(con, landing, "activity", "chargement-2", KEY).loaded == [
        "activity/b.csv", "activity/c.csv"]
