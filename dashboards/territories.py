"""The territories an analyst can pick: région → département → EPCI → programme territories.

Only territories present in the published data are offered, with the ancestors they need to be
found (a département that has data brings its région). Each territory knows its parents, so a
row tagged with a territory can also be found from any of its ancestors: the page's script shows
a row when the selected key is among the row's keys.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from dashboards.warehouse import Snapshot

ALL = "*"
ALL_LABEL = "Tous les territoires"
LEVELS = ("region", "departement", "epci", "territoire_sante", "programme")
LEVEL_LABELS = {
    "france": "France",
    "region": "Région",
    "departement": "Département",
    "epci": "EPCI",
    "commune": "Commune",
    "territoire_sante": "Territoire de santé",
    "programme": "Programme",
}


@dataclass(frozen=True)
class Territory:
    key: str
    level: str
    code: str
    name: str
    parents: tuple[str, ...]


def territory_key(level: str, code: str) -> str:
    return f"{level}:{code}"


def alphabetical(name: str) -> str:
    """Dictionary order: 'CA d'Hénin' between 'CA de Cambrai' and 'CA Douaisis'."""
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


def _comparable(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", alphabetical(name)).strip()


def comparable_names(names: pl.Expr) -> pl.Expr:
    """`_comparable` on a column: the 35,000 commune names of France one by one took a fifth of
    an incremental night's render."""
    return (names.str.normalize("NFKD").str.replace_all(r"[^\x00-\x7f]", "")
            .str.to_lowercase().str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars())


class TerritoryTree:
    def __init__(self, territories: Iterable[Territory]):
        ordered = sorted(territories,
                         key=lambda t: (LEVELS.index(t.level), alphabetical(t.name), t.code))
        self.by_key = {t.key: t for t in ordered}
        # asked for every territory of every period of every indicator: a scan of the tree
        # each time took a fifth of the national site's render
        self._children: dict[str, list[str]] = {}
        self._ancestors: dict[str, list[str]] = {}
        for t in ordered:
            for parent in dict.fromkeys(t.parents):
                self._children.setdefault(parent, []).append(t.key)

    def __contains__(self, key: str) -> bool:
        return key in self.by_key

    def __iter__(self):
        return iter(self.by_key.values())

    def name(self, key: str) -> str:
        return ALL_LABEL if key == ALL else self.by_key[key].name

    def ancestors(self, key: str) -> list[str]:
        """Parents first, then grand-parents (breadth first), each once."""
        if key not in self._ancestors:  # asked for every row of every table
            found: list[str] = []
            frontier = list(self.by_key[key].parents) if key in self.by_key else []
            while frontier:
                parent = frontier.pop(0)
                if parent not in found and parent in self.by_key:
                    found.append(parent)
                    frontier += self.by_key[parent].parents
            self._ancestors[key] = found
        return list(self._ancestors[key])

    def children(self, key: str) -> list[str]:
        return list(self._children.get(key, ()))

    def membership(self, keys: Iterable[str]) -> list[str]:
        """The keys a row about these territories answers to: themselves and their ancestors."""
        found: list[str] = []
        for key in keys:
            for member in [key, *self.ancestors(key)]:
                if member in self.by_key and member not in found:
                    found.append(member)
        return found

    def to_json(self) -> list[dict]:
        return [{"k": t.key, "n": t.name, "l": t.level, "p": list(t.parents)} for t in self]


@dataclass(frozen=True)
class Geography:
    """Reference lookups: commune → EPCI, département, région; EPCI → main département."""

    commune: dict[str, tuple[str | None, str | None, str | None]]
    epci_department: dict[str, str]
    department_region: dict[str, str]
    names: dict[str, str]

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot) -> "Geography":
        communes = snapshot.communes
        commune = {r[0]: (r[1], r[2], r[3]) for r in communes.select(
            "commune_code", "epci_code", "department_code", "region_code").iter_rows()}
        by_population = (communes.filter(pl.col("epci_code").is_not_null())
                         .group_by("epci_code", "department_code")
                         .agg(pl.col("population").sum())
                         .sort("population", "department_code", descending=[True, False])
                         .unique("epci_code", keep="first", maintain_order=True))
        names = {territory_key("epci", c): n for c, n in snapshot.epci.iter_rows()}
        names |= {territory_key("departement", c): n for c, n, _ in
                  snapshot.departements.iter_rows()}
        names |= {territory_key("region", c): n for c, n in snapshot.regions.iter_rows()}
        return cls(
            commune=commune,
            epci_department=dict(by_population.select("epci_code", "department_code")
                                 .iter_rows()),
            department_region={c: r for c, _, r in snapshot.departements.iter_rows()},
            names=names,
        )

    def parents(self, level: str, code: str) -> tuple[str, ...]:
        if level == "epci" and code in self.epci_department:
            return (territory_key("departement", self.epci_department[code]),)
        if level == "departement" and code in self.department_region:
            return (territory_key("region", self.department_region[code]),)
        return ()

    def commune_keys(self, code: str) -> list[str]:
        epci, department, region = self.commune.get(code, (None, None, None))
        return [territory_key(level, value) for level, value in
                (("epci", epci), ("departement", department), ("region", region)) if value]


def commune_codes(text: str | None) -> list[str]:
    return [code for code in re.split(r"[,;\s]+", text or "") if code]


def build_tree(snapshot: Snapshot, geography: Geography) -> TerritoryTree:
    territories: dict[str, Territory] = {}

    def add(level: str, code: str, name: str | None, parents: tuple[str, ...] = ()) -> None:
        key = territory_key(level, code)
        parents = parents or geography.parents(level, code)
        known = territories.get(key)
        if known:
            parents = tuple(dict.fromkeys(known.parents + parents))
        territories[key] = Territory(key, level, code,
                                     name or geography.names.get(key, code), parents)
        for parent in parents:
            if parent not in territories:
                parent_level, parent_code = parent.split(":", 1)
                add(parent_level, parent_code, None)

    places = snapshot.indicators.filter(pl.col("geo_level").is_in(["region", "departement",
                                                                   "epci"]))
    for level, code, name in places.select("geo_level", "geo_code", "geo_name").unique(
            maintain_order=True).iter_rows():
        add(level, code, name)
    for code in _commune_codes_in_data(snapshot):
        for key in geography.commune_keys(code):
            level, value = key.split(":", 1)
            add(level, value, None)
    for code, name, parents in _health_territories(snapshot, geography):
        add("territoire_sante", code, name, parents)
    for code, name, parents in _programmes(snapshot, geography):
        add("programme", code, name, parents)
    return TerritoryTree(territories.values())


def _commune_codes_in_data(snapshot: Snapshot) -> list[str]:
    projects = snapshot.census_projects
    texts = projects["commune_codes"] if "commune_codes" in projects.columns else []
    codes = [code for text in texts for code in commune_codes(text)]
    communes = snapshot.indicators.filter(pl.col("geo_level") == "commune")["geo_code"]
    return list(dict.fromkeys(codes + communes.to_list()))


def _health_territories(snapshot: Snapshot, geography: Geography):
    """Territoires de santé, under the région of their projects' communes."""
    rows = snapshot.indicators.filter(pl.col("geo_level") == "territoire_sante")
    # one pass over the rows and the projects, not two filters per territory
    regions: dict[str, set[str]] = {}
    for code, level, reference in rows.select("geo_code", "reference_geo_level",
                                              "reference_geo_code").iter_rows():
        if level == "region":
            regions.setdefault(code, set()).add(territory_key("region", reference))
    texts: dict[str, list[str | None]] = {}
    projects = snapshot.census_projects
    if "territory" in projects.columns:
        for territory, text in projects.select("territory", "commune_codes").iter_rows():
            texts.setdefault(territory, []).append(text)
    for code, name in rows.select("geo_code", "geo_name").unique(maintain_order=True).iter_rows():
        parents = set(regions.get(code, ()))
        for text in texts.get(name, []):
            parents |= {k for c in commune_codes(text) for k in geography.commune_keys(c)
                        if k.startswith("region:")}
        yield code, name, tuple(sorted(parents))


def _programmes(snapshot: Snapshot, geography: Geography):
    """Programmes, under the EPCI named in their territory when the name is unambiguous."""
    rows = snapshot.indicators.filter(pl.col("geo_level") == "programme")
    territory_of = dict(snapshot.followup.select("programme", "territory").unique(
        "programme", keep="first").iter_rows()) if "territory" in snapshot.followup.columns else {}
    programmes = rows.select("geo_code", "geo_name").unique(maintain_order=True).rows()
    parts_of = {name: [_comparable(part) for part in
                       re.split(r",|;| et ", territory_of.get(name) or "")]
                for _, name in programmes}
    # the places a programme's territory names, out of 35,000 communes
    named = sorted({part for parts in parts_of.values() for part in parts})
    epci_by_name = _unique_names(snapshot.epci.select(
        comparable_names(pl.col("epci_name")),
        pl.lit(territory_key("epci", "")) + pl.col("epci_code")), named)
    commune_by_name = _unique_names(snapshot.communes.select(
        comparable_names(pl.col("commune_name")), "commune_code"), named)
    for code, name in programmes:
        parents = []
        for part in parts_of[name]:
            if part in epci_by_name:
                parents.append(epci_by_name[part])
            elif part in commune_by_name:
                parents += geography.commune_keys(commune_by_name[part])[:1]
        yield code, name, tuple(dict.fromkeys(parents))


def _unique_names(pairs: pl.DataFrame, names: list[str]) -> dict[str, str]:
    """Name → value (the frame's two columns) for the `names` asked, leaving out names that two
    places share."""
    name, value = pairs.columns
    unique = pairs.filter(pl.col(name).is_in(names)).unique().filter(pl.len().over(name) == 1)
    return dict(unique.select(name, value).iter_rows())
