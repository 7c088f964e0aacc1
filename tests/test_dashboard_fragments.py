"""A render keeps the fragments of the previous site whose inputs did not change
(dashboards/fragments.py), and the site it writes is byte for byte the one a whole render
writes."""

import json
import os
from datetime import datetime
from pathlib import Path

import pytest
from dashboard_fixture import make_fixture_warehouse

from dashboards.fragments import MANIFEST
from dashboards.render import render_site
from dashboards.territories import Territory, TerritoryTree
from dashboards.views import PageData

LATER_NIGHT = ("night-20261115", datetime(2026, 11, 15, 2, 9))


def _files(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes()
            for p in sorted(site.rglob("*")) if p.is_file()}


def _inodes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_ino for p in site.rglob("*")
            if p.is_file()}


def _fragment_files(site: Path) -> dict[tuple[str, str], list[str]]:
    manifest = json.loads((site / MANIFEST).read_text(encoding="utf-8"))
    return {(page, name): entry["files"] for page, fragments in manifest.items()
            for name, entry in fragments.items()}


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory) -> tuple[Path, Path]:
    """Two nights: the second moved every density and nothing else."""
    work = tmp_path_factory.mktemp("fragments")
    return (make_fixture_warehouse(work / "first" / "observatoire.duckdb"),
            make_fixture_warehouse(work / "later" / "observatoire.duckdb", night=LATER_NIGHT,
                                   density_shift=0.5))


def _two_renders(first: Path, later: Path, out: Path, reuse: bool,
                 before_second=None) -> tuple[dict[str, int], list[str]]:
    render_site(first, out, reuse=reuse)
    inodes = _inodes(out)
    if before_second:
        before_second(out)
    return inodes, render_site(later, out, reuse=reuse)


def test_a_render_keeps_every_fragment_whose_rows_did_not_change(warehouses, tmp_path):
    first, later = warehouses
    kept, whole = tmp_path / "kept" / "dashboards", tmp_path / "whole" / "dashboards"
    inodes, written = _two_renders(first, later, kept, reuse=True)
    _two_renders(first, later, whole, reuse=False)

    assert _files(kept) == _files(whole)
    assert sorted(kept / name for name in written) == sorted(
        p for p in kept.rglob("*") if p.is_file())
    fragments = _fragment_files(kept)
    assert {name for _, name in fragments} >= {"densite", "recensement", "programmes",
                                               "etp_pour_10000", "part_medecins_60_ans"}
    for (page, name), files in fragments.items():
        changed = name == "densite"  # the only rows that moved
        same = [inodes.get(f) == (kept / f).stat().st_ino for f in files]
        assert same == [not changed] * len(files), (page, name)


def test_a_fragment_with_a_file_gone_is_rendered_again(warehouses, tmp_path):
    first, later = warehouses
    kept, whole = tmp_path / "kept" / "dashboards", tmp_path / "whole" / "dashboards"
    lost = []

    def lose_one_file(site: Path) -> None:
        files = _fragment_files(site)[("offre", "etp_pour_10000")]
        lost.append(files[0])
        os.unlink(site / files[0])

    inodes, _ = _two_renders(first, later, kept, reuse=True, before_second=lose_one_file)
    _two_renders(first, later, whole, reuse=False)

    assert _files(kept) == _files(whole)
    rebuilt = _fragment_files(kept)[("offre", "etp_pour_10000")]
    assert lost[0] in rebuilt
    assert all(inodes.get(f) != (kept / f).stat().st_ino for f in rebuilt)
    census = _fragment_files(kept)[("projets", "recensement")]
    assert all(inodes[f] == (kept / f).stat().st_ino for f in census)


def test_a_site_without_its_list_of_fragments_is_rendered_whole(warehouses, tmp_path):
    first, later = warehouses
    kept, whole = tmp_path / "kept" / "dashboards", tmp_path / "whole" / "dashboards"
    inodes, _ = _two_renders(first, later, kept, reuse=True,
                             before_second=lambda site: os.unlink(site / MANIFEST))
    _two_renders(first, later, whole, reuse=False)

    assert _files(kept) == _files(whole)
    for files in _fragment_files(kept).values():
        assert all(inodes.get(f) != (kept / f).stat().st_ino for f in files)


def test_a_departements_epcis_share_its_figure_file_in_a_slot():
    """A figure file per view made 30,000 files of 9 KB for the national site, whose creation
    was most of its render's system time: a slot's figures for an EPCI, in every period, go in
    its département's file, where the département's own are; a région, France, another
    département and another slot have theirs."""
    tree = TerritoryTree([
        Territory("region:75", "region", "75", "Nouvelle-Aquitaine", ()),
        Territory("departement:47", "departement", "47", "Lot-et-Garonne", ("region:75",)),
        Territory("departement:24", "departement", "24", "Dordogne", ("region:75",)),
        Territory("epci:1", "epci", "1", "CC du Pays de Duras", ("departement:47",)),
        Territory("epci:2", "epci", "2", "CC du Pays de Lauzun", ("departement:47",)),
        Territory("epci:3", "epci", "3", "CC Isle Double Landais", ("departement:24",)),
    ])
    data = PageData(tree)
    views = ["epci:1|2023", "epci:1|2024", "epci:2|2023", "departement:47|2023", "epci:3|2023",
             "region:75|2023", "*|2023"]
    with data.fragment("densite"):
        for number, view in enumerate(views):
            data.add_figure("densite-profil", view, {"data": [{"x": [number]}], "layout": {}})
        data.add_figure("densite-evolution", "epci:1|*", {"data": [{"y": [1]}], "layout": {}})
    files = {name: json.loads(script[script.index(",") + 1:script.rindex(")")])
             for name, script in data.figure_files("offre").items()}
    held = sorted(sorted(figures) for figures in files.values())
    assert held == [["0", "1", "2", "3"], ["4"], ["5"], ["6"], ["7"]]
    assert all(name.startswith("donnees/offre-densite-") for name in files)
