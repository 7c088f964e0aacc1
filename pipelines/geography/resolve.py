"""Resolve place names written in census and follow-up files into current INSEE commune codes.

The rules are tried in this order; the first that answers wins:

1. an INSEE code: current commune, commune déléguée/associée (→ its commune), former code;
2. the name of a commune or of a commune déléguée/associée (strict, then without articles);
3. a historical territory of data/reference/territory_aliases.csv;
4. a slash that stands for "sur", as "s/" does ("Boulogne/Mer"), when that makes the name of
   one commune;
5. communes listed with "/", ",", ";", "+", "&", " et " or a line break, each read as a
   commune: "Lens, Liévin" is two communes, though "Lens-Liévin" is an EPCI's name;
6. the name of an EPCI (status "epci", with its member communes);
7. a postal or INSEE code then a name, as an address or a table writes it ("59100 Roubaix",
   "59512 - Roubaix");
8. a list, as in 5, or split on "-" when every piece is a commune, answering for its parts
   (ambiguous or unresolved when one is); in a list that names a commune of the départements
   given, an INSEE code of a commune outside them is that commune (a project at a région's
   border serving the next one: Cap Atlantique straddles Loire-Atlantique and Morbihan, the
   Grand Avignon Vaucluse and Gard);
9. the first words of a few communes' names, as a name is shortened ("Boulogne",
   "Le Touquet"), from 4 letters on: unresolved, those communes suggested, never a typo's
   reading ("Boulogne" was Coulogne, one letter away);
10. a typo within a bounded edit distance (2 from 6 letters on, 1 from 4, none below: "Mer"
   one letter from "Méru" is no evidence);
11. a commune name followed by a neighbourhood ("Lille Moulins"), by longest prefix.

Whenever two answers are equally good the result is "ambiguous" with its candidates; when no
rule answers it is "unresolved" with the nearest names. The resolver never picks for the analyst.
"""

import csv
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl
from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from pipelines.settings import REFERENCE_DIR

TERRITORY_ALIASES = REFERENCE_DIR / "territory_aliases.csv"

RESOLVED, EPCI, AMBIGUOUS, UNRESOLVED = "resolved", "epci", "ambiguous", "unresolved"

CODE_PATTERN = re.compile(r"^(\d{5}|2[AB]\d{3})$", re.IGNORECASE)
SUR_SOUS_ABBREVIATIONS = (
    (re.compile(r"\bs\s*/\s*s\b\.?", re.I), " sous "),
    (re.compile(r"\bs\s*/\s*", re.I), " sur "),
)
# a line break too: a census cell lists its communes one a line (Alt+Entrée in a spreadsheet)
LIST_SEPARATORS = re.compile(r"\s*(?:[/,;+&]|[\r\n\t])\s*|\s+et\s+", re.IGNORECASE)
HYPHEN = re.compile(r"\s*-\s*")
SLASH = re.compile(r"\s*/\s*")
# beyond this many communes, a name's start ("Saint") suggests nothing useful
MAX_NAME_STARTS = 5
CODE_THEN_NAME = re.compile(r"^(\d{5}|2[AB]\d{3})\s*(?:-\s*)?(\D.*)$", re.IGNORECASE)
# INSEE codes alone, separated by spaces or hyphens ("62364 62447")
CODES_ALONE = re.compile(r"^(?:\d{5}|2[AB]\d{3})(?:[\s-]+(?:\d{5}|2[AB]\d{3}))+$", re.IGNORECASE)
WORD_FORMS = {"st": "saint", "ste": "sainte", "lez": "les"}  # "lès" is "les" once unaccented
ARTICLES = {"le", "la", "les", "l"}
PARTICLES = {"de", "du", "des", "d"}
# A neighbourhood never starts with these words: "Sailly sur la Lyss" is a typo, not Sailly.
NAME_CONTINUATIONS = {"sur", "sous", "en", "de", "du", "des", "d", "aux", "au", "et"}
EPCI_PREFIXES = (
    ("communaute", "communes"),
    ("communaute", "agglomeration"),
    ("communaute", "urbaine"),
    ("metropole",),
    ("cc",),
    ("cdc",),
    ("ca",),
    ("cu",),
)
MAX_PIECES = 8
SUGGESTIONS = 5

Candidate = tuple[str, str, float]


@dataclass(frozen=True)
class Resolution:
    text: str  # as written
    status: str  # "resolved" | "epci" | "ambiguous" | "unresolved"
    commune_codes: tuple[str, ...]  # current commune codes (several for "Baralle/Marquion")
    epci_code: str | None  # when the text names an EPCI (then commune_codes = members)
    # "code", "attached", "former_code", "exact", "alias", "epci", "list(...)", "fuzzy",
    # "prefix", "postal_code" (a postal code, not an INSEE code), "none", or, in a list,
    # "code_across_border" (a code outside the départements given)
    method: str
    candidates: tuple[Candidate, ...] = ()  # (code, name, score) when not certain


def expand_sur_sous(text: str) -> str:
    """Spell out "s/" and "s/s", whose slash is not a list separator."""
    for pattern, replacement in SUR_SOUS_ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    return text


def strict_key(text: str) -> str:
    """Lower case, no accents, no punctuation, Saint/Sainte spelt out, lès/lez → les."""
    text = unicodedata.normalize("NFKD", text.replace("œ", "oe").replace("Œ", "OE"))
    text = expand_sur_sous("".join(c for c in text if not unicodedata.combining(c)).lower())
    return " ".join(WORD_FORMS.get(word, word) for word in re.findall(r"[a-z0-9]+", text))


def loose_key(strict: str) -> str:
    """The strict key without articles: "Condé sur Escaut" meets "Condé-sur-l'Escaut"."""
    return " ".join(word for word in strict.split() if word not in ARTICLES)


def _epci_words(strict: str) -> tuple[list[str], int]:
    """The words of a name without articles and particles, and how many of the first make an
    EPCI's prefix ("cc", "communaute communes"…), 0 when none does."""
    words = [w for w in strict.split() if w not in ARTICLES and w not in PARTICLES]
    for prefix in EPCI_PREFIXES:
        if tuple(words[: len(prefix)]) == prefix and len(words) > len(prefix):
            return words, len(prefix)
    return words, 0


def epci_key(strict: str) -> str:
    words, prefix = _epci_words(strict)
    return " ".join(words[prefix:])


def _letters(key: str) -> int:
    return len(key.replace(" ", ""))


def _max_distance(key: str) -> int:
    letters = _letters(key)
    return 2 if letters >= 6 else 1 if letters >= 4 else 0


def normalise_departments(department_codes: Sequence[str] | str | None) -> frozenset[str] | None:
    if not department_codes:
        return None
    if isinstance(department_codes, str):
        department_codes = [department_codes]
    return frozenset(str(code).strip().upper().zfill(2) for code in department_codes)


class CommuneResolver:
    """Reads ref.communes, ref.attached_communes, ref.former_communes and ref.epci once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, aliases_path: Path = TERRITORY_ALIASES):
        communes = con.sql(
            "SELECT commune_code, commune_name, department_code, epci_code, postal_codes "
            "FROM ref.communes"
        ).fetchall()
        self.name = {code: name for code, name, *_ in communes}
        self.department = {code: dept for code, _, dept, *_ in communes}
        self.postal = defaultdict(set)
        for code, *_, postal_codes in communes:
            for postal_code in (postal_codes or "").split(","):
                self.postal[postal_code].add(code)
        self.parent = dict(
            con.sql(
                "SELECT commune_code, parent_commune_code FROM ref.attached_communes"
            ).fetchall()
        )
        self.former = defaultdict(list)
        for former, current in con.sql(
            "SELECT former_code, current_code FROM ref.former_communes ORDER BY 1, 2"
        ).fetchall():
            self.former[former].append(current)

        # name key -> {current code: "exact" | "attached"}
        self.strict_names: dict[str, dict[str, str]] = defaultdict(dict)
        self.loose_names: dict[str, dict[str, str]] = defaultdict(dict)
        for code, name, *_ in communes:
            self._index_name(name, code, "exact")
        for _, name, _, parent in con.sql(
            "SELECT commune_code, commune_name, commune_type, parent_commune_code "
            "FROM ref.attached_communes"
        ).fetchall():
            self._index_name(name, parent, "attached")
            # "Hellemmes-Lille" is written "Hellemmes": drop the parent's name at the end.
            own, parent_name = strict_key(name), strict_key(self.name[parent])
            if own.endswith(" " + parent_name):
                self._index_name(own.removesuffix(" " + parent_name), parent, "attached")

        self.epci_name, self.epci_members = {}, defaultdict(list)
        for code, epci in sorted((c, e) for c, *_, e, _ in communes if e):
            self.epci_members[epci].append(code)
        self.epci_by_key: dict[str, set[str]] = defaultdict(set)
        for code, name in con.sql("SELECT epci_code, epci_name FROM ref.epci").fetchall():
            self.epci_name[code] = name
            key = epci_key(strict_key(name))
            self.epci_by_key[key].add(code)
            if key.startswith("pays "):  # "CC du Pays de Lauzun" is also "CdC de Lauzun"
                self.epci_by_key[key.removeprefix("pays ")].add(code)

        self.aliases = self._read_aliases(aliases_path)
        self._choices: dict[frozenset[str] | None, tuple[list[str], list[set[str]]]] = {}
        self._cache: dict[tuple[str, frozenset[str] | None], Resolution] = {}

    def _index_name(self, name: str, code: str, method: str) -> None:
        strict = strict_key(name)
        for index, key in ((self.strict_names, strict), (self.loose_names, loose_key(strict))):
            if index[key].get(code) != "exact":
                index[key][code] = method

    def _read_aliases(self, path: Path) -> dict[str, tuple[str, ...]]:
        aliases = {}
        with path.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                codes = tuple(row["commune_codes"].split())
                unknown = [code for code in codes if code not in self.name]
                if unknown:
                    raise ValueError(
                        f"{path.name} : l'alias « {row['alias']} » cite des codes qui ne sont pas "
                        f"des communes actuelles : {', '.join(unknown)}"
                    )
                aliases[epci_key(strict_key(row["alias"]))] = codes
        return aliases

    # --- public -----------------------------------------------------------------------------

    def resolve(self, text: str, department_codes: Sequence[str] | str | None = None) -> Resolution:
        departments = normalise_departments(department_codes)
        cache_key = (text, departments)
        if cache_key not in self._cache:
            result = self._resolve_part(text or "", departments, allow_list=True)
            self._cache[cache_key] = replace(result, text=text)
        return self._cache[cache_key]

    # --- rules --------------------------------------------------------------------------------

    def _resolve_part(
        self, text: str, departments: frozenset[str] | None, allow_list: bool
    ) -> Resolution:
        text = text.strip()
        if CODE_PATTERN.match(text):
            return self._resolve_code(text.upper(), departments)
        strict = strict_key(text)
        if not strict:
            return Resolution(text, UNRESOLVED, (), None, "none")
        return (
            self._by_name(text, strict, departments)
            or self._by_alias(text, strict, departments)
            or self._by_slash_for_sur(text, departments)
            or (allow_list and self._by_communes_listed(text, strict, departments))
            or self._by_epci(text, strict, departments)
            or self._by_code_and_name(text, departments)
            or (allow_list and self._by_list(text, departments))
            or self._by_hyphen_split(text, departments)
            or self._by_name_start(text, strict, departments)
            or self._by_fuzzy(text, strict, departments)
            or self._by_prefix(text, strict, departments)
            or Resolution(
                text, UNRESOLVED, (), None, "none", self._suggestions(strict, departments)
            )
        )

    def _resolve_code(self, code: str, departments: frozenset[str] | None) -> Resolution:
        if code in self.name:
            currents, method = [code], "code"
        elif code in self.parent:
            currents, method = [self.parent[code]], "attached"
        elif code in self.former:
            currents, method = self.former[code], "former_code"
        else:
            near = sorted(self.postal.get(code, ()))
            return Resolution(
                code,
                UNRESOLVED,
                (),
                None,
                "postal_code" if near else "none",
                tuple((c, self.name[c], 1.0) for c in near),
            )
        inside = [c for c in currents if self._inside(c, departments)]
        candidates = tuple((c, self.name[c], 1.0) for c in currents)
        if not inside:
            return Resolution(code, UNRESOLVED, (), None, method, candidates)
        if len(inside) > 1:
            return Resolution(code, AMBIGUOUS, (), None, method, candidates)
        return Resolution(code, RESOLVED, (inside[0],), None, method)

    def _by_name(self, text, strict, departments) -> Resolution | None:
        hits = self._name_hits(strict, departments)
        if not hits:
            return None
        if len(hits) > 1:
            return Resolution(text, AMBIGUOUS, (), None, "exact", self._candidates(hits))
        ((code, method),) = hits.items()
        return Resolution(text, RESOLVED, (code,), None, method)

    def _by_alias(self, text, strict, departments) -> Resolution | None:
        codes = self.aliases.get(epci_key(strict))  # "CC du Pays de Cassel" too
        if codes and any(self._inside(code, departments) for code in codes):
            return Resolution(text, RESOLVED, codes, None, "alias")
        return None

    def _by_epci(self, text, strict, departments) -> Resolution | None:
        found = sorted(
            code
            for code in self.epci_by_key.get(epci_key(strict), ())
            if any(self._inside(m, departments) for m in self.epci_members[code])
        )
        if not found:
            return None
        if len(found) > 1:
            candidates = tuple((code, self.epci_name[code], 1.0) for code in found)
            return Resolution(text, AMBIGUOUS, (), None, "epci", candidates)
        code = found[0]
        return Resolution(text, EPCI, tuple(self.epci_members[code]), code, "epci")

    def _by_slash_for_sur(self, text, departments) -> Resolution | None:
        if "/" not in text:
            return None
        hits = self._name_hits(strict_key(SLASH.sub(" sur ", text)), departments)
        if len(hits) != 1:
            return None
        ((code, method),) = hits.items()
        return Resolution(text, RESOLVED, (code,), None, method)

    def _by_code_and_name(self, text, departments) -> Resolution | None:
        """« 59100 Roubaix », as an address writes it, or « 59512 - Roubaix », as a table
        writes a commune's INSEE code and name: the commune of that name that has that postal
        or INSEE code."""
        written = CODE_THEN_NAME.match(text)
        if not written:
            return None
        code, name = written.groups()
        by_code = self._resolve_code(code.upper(), departments).commune_codes
        hits = [(hit, "code+name" if hit in by_code else "postal_code+name")
                for hit in self._name_hits(strict_key(name), departments)
                if hit in by_code or hit in self.postal.get(code, ())]
        if len(hits) != 1:
            return None
        ((hit, method),) = hits
        return Resolution(text, RESOLVED, (hit,), None, method)

    def _by_communes_listed(self, text, strict, departments) -> Resolution | None:
        """Communes written with a separator, each read as a commune ("Lens, Liévin"), are
        those communes, though together their names make an EPCI's (the CA de Lens-Liévin and
        its 36 communes). A text that starts as an EPCI's name does ("CA de …") is an EPCI's."""
        if _epci_words(strict)[1]:
            return None
        listed = self._by_list(text, departments)
        return listed if listed is not None and listed.status == RESOLVED else None

    def _by_list(self, text, departments) -> Resolution | None:
        if CODES_ALONE.match(text.strip()):
            parts = re.split(r"[\s-]+", text.strip())
        else:
            parts = [p for p in LIST_SEPARATORS.split(expand_sur_sous(text)) if p.strip()]
        if len(parts) < 2:
            return None
        resolved = [self._resolve_part(p, departments, False) for p in parts]
        if any(part.status in (RESOLVED, EPCI) for part in resolved):
            resolved = [self._across_border(part) for part in resolved]
        return _combine(text, resolved)

    def _across_border(self, part: Resolution) -> Resolution:
        """A code the départements left unresolved, read anywhere in France. A code alone stays
        unresolved: a project filed under the wrong région, or a mistyped code."""
        if part.status != UNRESOLVED or not CODE_PATTERN.match(part.text):
            return part
        anywhere = self._resolve_code(part.text.upper(), None)
        if anywhere.status != RESOLVED:
            return part
        return replace(anywhere, method="code_across_border")

    def _by_hyphen_split(self, text, departments) -> Resolution | None:
        pieces = HYPHEN.split(text)
        if not 2 <= len(pieces) <= MAX_PIECES:
            return None
        partitions = [p for p in self._partitions(pieces, 0, departments) if len(p) > 1]
        if not partitions:
            return None
        if len(partitions) > 1:
            codes = {code for partition in partitions for code in partition}
            return Resolution(text, AMBIGUOUS, (), None, "list", self._candidates(codes))
        return Resolution(text, RESOLVED, tuple(dict.fromkeys(partitions[0])), None, "list")

    def _partitions(self, pieces, start, departments) -> list[list[str]]:
        """Every way to cut pieces[start:] into consecutive groups that each name one commune."""
        if start == len(pieces):
            return [[]]
        found = []
        for end in range(start + 1, len(pieces) + 1):
            hits = self._name_hits(strict_key("-".join(pieces[start:end])), departments)
            if len(hits) == 1:
                (code,) = hits
                found += [[code, *rest] for rest in self._partitions(pieces, end, departments)]
        return found

    def _by_name_start(self, text, strict, departments) -> Resolution | None:
        """A shortened name (« Boulogne », « Miramont ») is suggested as the communes it starts,
        never taken for one of them, nor for a commune one letter away (Coulogne)."""
        if _letters(loose_key(strict)) < 4:
            return None
        found = self._communes_starting_with(strict, departments)
        if not 1 <= len(found) <= MAX_NAME_STARTS:
            return None
        return Resolution(text, UNRESOLVED, (), None, "name_start", self._candidates(found))

    def _by_fuzzy(self, text, strict, departments) -> Resolution | None:
        query = loose_key(strict)
        keys, codes = self._choices_in(departments)
        distance_of: dict[str, int] = {}
        for key, distance, i in process.extract(
            query, keys, scorer=Levenshtein.distance, score_cutoff=2, limit=None
        ):
            if distance <= min(_max_distance(query), _max_distance(key)):
                for code in codes[i]:
                    distance_of[code] = min(distance, distance_of.get(code, distance))
        if not distance_of:
            return None
        best = min(distance_of.values())
        closest = sorted(code for code, d in distance_of.items() if d == best)
        length = max(_letters(query), 1)
        candidates = tuple(
            (code, self.name[code], round(1 - d / length, 3))
            for code, d in sorted(distance_of.items(), key=lambda item: (item[1], item[0]))
        )
        if len(closest) > 1:
            return Resolution(text, AMBIGUOUS, (), None, "fuzzy", candidates)
        return Resolution(text, RESOLVED, (closest[0],), None, "fuzzy", candidates[:1])

    def _by_prefix(self, text, strict, departments) -> Resolution | None:
        words = strict.split()
        for end in range(len(words) - 1, 0, -1):
            rest = words[end:]
            if rest[0] in NAME_CONTINUATIONS:
                continue
            hits = self._name_hits(" ".join(words[:end]), departments)
            if not hits:
                continue
            if len(hits) > 1:
                return Resolution(text, AMBIGUOUS, (), None, "prefix", self._candidates(hits))
            (code,) = hits
            # "Vars Saint Amant" is two places, not Vars with a neighbourhood "Saint Amant"; nor
            # is "Fruges Hesdin Montreuil-sur-Mer" Fruges with a neighbourhood "Hesdin …"
            department = frozenset([self.department[code]])
            rest_hits = self._communes_starting_with(" ".join(rest), department).union(
                *(self._name_hits(" ".join(rest[:k]), department) for k in range(1, len(rest))))
            if rest_hits:
                candidates = self._candidates({code, *rest_hits})
                return Resolution(text, AMBIGUOUS, (), None, "prefix", candidates)
            return Resolution(text, RESOLVED, (code,), None, "prefix")
        return None

    # --- helpers ------------------------------------------------------------------------------

    def _inside(self, code: str, departments: frozenset[str] | None) -> bool:
        return departments is None or self.department[code] in departments

    def _name_hits(self, strict: str, departments) -> dict[str, str]:
        for index, key in ((self.strict_names, strict), (self.loose_names, loose_key(strict))):
            hits = {c: m for c, m in index.get(key, {}).items() if self._inside(c, departments)}
            if hits:
                return hits
        return {}

    def _communes_starting_with(self, strict: str,
                                departments: frozenset[str] | None) -> set[str]:
        """The communes whose name is these words, or starts with them."""
        key = loose_key(strict)
        found = set()
        for name_key, codes in zip(*self._choices_in(departments), strict=True):
            if name_key == key or name_key.startswith(key + " "):
                found |= codes
        return found

    def _choices_in(self, departments) -> tuple[list[str], list[set[str]]]:
        """Loose name keys of the communes in these départements, with their codes."""
        if departments not in self._choices:
            keys, codes = [], []
            for key, hits in self.loose_names.items():
                inside = {code for code in hits if self._inside(code, departments)}
                if inside:
                    keys.append(key)
                    codes.append(inside)
            self._choices[departments] = (keys, codes)
        return self._choices[departments]

    def _suggestions(self, strict: str, departments) -> tuple[Candidate, ...]:
        keys, codes = self._choices_in(departments)
        best: dict[str, float] = {}
        for _, score, i in process.extract(
            loose_key(strict), keys, scorer=fuzz.token_set_ratio, score_cutoff=70, limit=SUGGESTIONS
        ):
            for code in codes[i]:
                best[code] = max(best.get(code, 0.0), round(score / 100, 3))
        ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:SUGGESTIONS]
        return tuple((code, self.name[code], score) for code, score in ranked)

    def _candidates(self, codes: Iterable[str]) -> tuple[Candidate, ...]:
        return tuple((code, self.name[code], 1.0) for code in sorted(codes))


def _combine(text: str, parts: list[Resolution]) -> Resolution:
    method = f"list({'+'.join(part.method for part in parts)})"
    if all(part.status in (RESOLVED, EPCI) for part in parts):
        codes = tuple(dict.fromkeys(code for part in parts for code in part.commune_codes))
        candidates = tuple(c for part in parts for c in part.candidates)
        return Resolution(text, RESOLVED, codes, None, method, candidates)
    status = UNRESOLVED if any(part.status == UNRESOLVED for part in parts) else AMBIGUOUS
    candidates = tuple(
        c for part in parts if part.status not in (RESOLVED, EPCI) for c in part.candidates
    )
    return Resolution(text, status, (), None, method, candidates)


def resolve_many(
    resolver: CommuneResolver,
    texts: Iterable[str | None],
    department_codes: Sequence[str] | str | None = None,
) -> pl.DataFrame:
    """One row per text, in order; list columns for the codes and the candidates."""
    rows = [resolver.resolve(text or "", department_codes) for text in texts]
    return pl.DataFrame(
        {
            "text": [r.text for r in rows],
            "status": [r.status for r in rows],
            "commune_codes": [list(r.commune_codes) for r in rows],
            "epci_code": [r.epci_code for r in rows],
            "method": [r.method for r in rows],
            "candidates": [
                [{"code": c, "name": n, "score": s} for c, n, s in r.candidates] for r in rows
            ],
        },
        schema={
            "text": pl.String,
            "status": pl.String,
            "commune_codes": pl.List(pl.String),
            "epci_code": pl.String,
            "method": pl.String,
            "candidates": pl.List(
                pl.Struct({"code": pl.String, "name": pl.String, "score": pl.Float64})
            ),
        },
    )
