"""What a page's script needs to redraw it without a server.

A page embeds one JSON block: the territory tree, the periods, and its figures, each figure
filed under a slot and a view key "<territory key>|<period>" where either part may be "*"
(any). When the analyst picks a territory and a period, the script draws in each slot the first
view found for the territory, then for each of its ancestors, then for "*": a département
without data of its own falls back to its région, and the page says so. Identical figures are
stored once.

The figures themselves are not in the page: they are written in script files under
`donnees/`, one per slot and département (an EPCI's figures, in every period, in its
département's file; a région's, France's, a programme's in their own), which the page's script
loads with a <script> element (it works from file://) when the selection needs them. A page
thus opens with the figures of its first view only, however many territories and indicators it
has, and the neighbours of a territory come with it.

A page's figures come in fragments (an indicator's section, the census block…): each numbers
its figures from 0 and names its files after itself (`donnees/<page>-<fragment>-<n>.js`), so
that a fragment whose inputs did not change since the last render can keep its files as they
are (dashboards/fragments.py). The page's block lists the fragments with the offset of their
first figure in the page's numbering, which the views use.
"""

import functools
import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import orjson
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from dashboards.figures import Figure
from dashboards.territories import ALL, TerritoryTree

PLOTLY_FILE = "plotly.min.js"
DATA_DIR = "donnees"


def view_key(territory: str = ALL, period: str = ALL) -> str:
    return f"{territory}|{period}"


# plotly's own encoder for what orjson does not know (a Decimal, a numpy value)
_plotly_default = PlotlyJSONEncoder().default


def json_text(value) -> str:
    """Compact JSON, non-ASCII characters as they are, NaN and infinities as null (as plotly's
    encoder writes them). orjson: a national site's figures and tables are about 300 MB of
    JSON, which the json module took four times as long to write."""
    return orjson.dumps(value, default=_plotly_default).decode()


def figure_json(fig: Figure) -> str:
    """Compact figure JSON; the page carries the template once."""
    return json_text(fig)


@functools.cache
def _template_json() -> str:
    template = pio.templates[pio.templates.default].to_plotly_json()
    return json.dumps(template, cls=PlotlyJSONEncoder, separators=(",", ":"))


PAGE_FRAGMENT = "page"  # the figures a page adds outside any named fragment


@dataclass
class FragmentFigures:
    """The figures one fragment of a page added: numbered from 0, each in the file of the first
    slot and view that used it; `reused` when they come from the previous render's files."""

    name: str
    heights: list[int] = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)  # figure -> its file
    views: dict[str, dict[str, int]] = field(default_factory=dict)  # slot -> view -> figure
    texts: list[str] = field(default_factory=list)
    reused: bool = False
    _index: dict[str, int] = field(default_factory=dict)
    _chunk_ids: dict[str, int] = field(default_factory=dict)

    def file(self, stem: str, chunk: int) -> str:
        return f"{DATA_DIR}/{stem}-{self.name}-{chunk}.js"

    def files(self, stem: str) -> list[str]:
        return [self.file(stem, chunk) for chunk in dict.fromkeys(self.chunks)]


class PageData:
    def __init__(self, tree: TerritoryTree, periods: list[tuple[str, str]] | None = None,
                 period_label: str = "Période", default_period: str | None = None,
                 scope_note: str | None = None, page: str | None = None):
        self.tree = tree
        self.page = page
        self.periods = periods or []
        self.period_label = period_label
        self.default_period = default_period or (self.periods[-1][0] if self.periods else ALL)
        self.scope_note = scope_note
        self.fragments: dict[str, FragmentFigures] = {}
        self._current: FragmentFigures | None = None
        # slot -> view -> (fragment, its figure): numbered in the page when written
        self.slots: dict[str, dict[str, tuple[FragmentFigures, int]]] = {}

    @contextmanager
    def fragment(self, name: str) -> Iterator[FragmentFigures]:
        """The figures added inside belong to the fragment `name` (unique in the page)."""
        if name in self.fragments or name == PAGE_FRAGMENT:
            raise ValueError(f"fragment {name!r} already in the page")
        outer, self._current = self._current, self.fragments.setdefault(
            name, FragmentFigures(name))
        try:
            yield self._current
        finally:
            self._current = outer

    def reuse(self, name: str, heights: list[int], chunks: list[int],
              views: dict[str, dict[str, int]]) -> FragmentFigures:
        """A fragment kept from the previous render: its views, and its files as they are."""
        if name in self.fragments:
            raise ValueError(f"fragment {name!r} already in the page")
        fragment = self.fragments[name] = FragmentFigures(
            name, list(heights), list(chunks), {}, reused=True)
        for slot, keys in views.items():
            for key, index in keys.items():
                self._view(fragment, slot, key, index)
        return fragment

    def _view(self, fragment: FragmentFigures, slot: str, key: str, index: int) -> None:
        fragment.views.setdefault(slot, {})[key] = index
        self.slots.setdefault(slot, {})[key] = (fragment, index)

    def add_figure(self, slot: str, key: str, fig: Figure) -> None:
        fragment = self._current or self.fragments.setdefault(
            PAGE_FRAGMENT, FragmentFigures(PAGE_FRAGMENT))
        text = figure_json(fig)
        if text not in fragment._index:
            fragment._index[text] = len(fragment.texts)
            fragment.texts.append(text)
            group = f"{slot}|{self._file_group(key)}"
            fragment.chunks.append(fragment._chunk_ids.setdefault(group,
                                                                  len(fragment._chunk_ids)))
            fragment.heights.append(fig["layout"].get("height") or 450)
        self._view(fragment, slot, key, fragment._index[text])

    def _file_group(self, key: str) -> str:
        """The territory whose file, in a slot, holds the figure first shown for the view `key`:
        an EPCI's (or a programme's) first département, any other territory itself, with all
        their periods. A file a view made 30,000 files of 9 KB for the national site, whose
        creation was most of its render's system time (5,077 files now); a département's file
        of its EPCIs is 100 KB or so, loaded once for every territory and period there."""
        territory = key.split("|", 1)[0]
        if territory == ALL or territory.startswith(("region:", "departement:")):
            return territory
        return next((a for a in self.tree.ancestors(territory)
                     if a.startswith("departement:")), territory)

    def figure_slot(self, slot: str, empty: str, by_territory: bool = True) -> str:
        """The place of a figure, filled by the page's script with the chosen view.

        A slot whose views are not by territory (the section around it is) never says that
        it shows another territory than the one chosen.
        """
        note = "" if by_territory else ' data-note="non"'
        return (f'<div class="panel emplacement figure" data-emplacement="{html.escape(slot)}" '
                f'data-vide="{html.escape(empty)}"{note}>'
                '<p class="note-vue" hidden></p>'
                f'<div id="{html.escape(slot)}" class="plotly-graph-div"></div>'
                '<p class="vide" hidden></p></div>')

    def to_json(self, stem: str) -> str:
        """The page's own block; `stem` names its figure files (`donnees/<stem>-…`)."""
        offsets, start = {}, 0
        for name, fragment in self.fragments.items():
            offsets[name] = start
            start += len(fragment.heights)
        head = json.dumps({
            "territoires": self.tree.to_json(),
            "periodes": [list(p) for p in self.periods],
            "periode": self.default_period,
            "libelle_periode": self.period_label,
            "note_portee": self.scope_note,
            "vues": {slot: {key: offsets[fragment.name] + index
                            for key, (fragment, index) in keys.items()}
                     for slot, keys in self.slots.items()},
            "fichiers": f"{DATA_DIR}/{stem}-",
            # [name, its first figure in the page's numbering, the file of each of its figures]
            "fragments": [[name, offsets[name], fragment.chunks]
                          for name, fragment in self.fragments.items()],
            "hauteurs": [h for fragment in self.fragments.values() for h in fragment.heights],
        }, ensure_ascii=False, separators=(",", ":"))
        text = head[:-1] + ',"modele":' + _template_json() + "}"
        return text.replace("</", "<\\/")

    def figure_files(self, stem: str) -> dict[str, str]:
        """Each figure file of the fragments made in this render (path under the site folder)
        and its script; a reused fragment's files are the previous render's."""
        files = {}
        for fragment in self.fragments.values():
            if fragment.reused:
                continue
            parts: dict[int, list[str]] = {}
            for index, (text, chunk) in enumerate(zip(fragment.texts, fragment.chunks,
                                                      strict=True)):
                parts.setdefault(chunk, []).append(f'"{index}":{text}')
            name = json.dumps(fragment.name)
            files |= {fragment.file(stem, chunk): f"observatoireFigures({name},{{"
                      + ",".join(texts) + "});\n" for chunk, texts in parts.items()}
        return files


def view_block(slot: str, key: str, content: str) -> str:
    """One HTML variant of a slot (a key figure for a territory), shown by the script."""
    return (f'<div class="vue" data-emplacement="{html.escape(slot)}" '
            f'data-vue="{html.escape(key)}" hidden>{content}</div>')


def block_slot(slot: str, blocks: list[str], empty: str, css_class: str = "",
               fallback_to_all: bool = True) -> str:
    """Blocks of a slot. Without `fallback_to_all`, a territory with no block of its own or of
    its ancestors shows nothing rather than the view of all territories."""
    attributes = "" if fallback_to_all else ' data-repli-global="non"'
    return (f'<div class="emplacement blocs {css_class}" data-emplacement="{html.escape(slot)}" '
            f'data-vide="{html.escape(empty)}"{attributes}><p class="note-vue" hidden></p>'
            + "".join(blocks) + '<p class="vide" hidden></p></div>')
