"""What a page's script needs to redraw it without a server.

A page embeds one JSON block: the territory tree, the periods, and its figures, each figure
filed under a slot and a view key "<territory key>|<period>" where either part may be "*"
(any). When the analyst picks a territory and a period, the script draws in each slot the first
view found for the territory, then for each of its ancestors, then for "*": a département
without data of its own falls back to its région, and the page says so. Identical figures are
stored once.

The figures themselves are not in the page: they are written in small script files under
`donnees/`, one per slot and view key (the first view that uses a figure), which the page's
script loads
with a <script> element (it works from file://) when the selection needs them. A page thus
opens with the figures of its first view only, however many territories and indicators it has.
"""

import functools
import html
import json

import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from dashboards.figures import Figure
from dashboards.territories import ALL, TerritoryTree

PLOTLY_FILE = "plotly.min.js"
DATA_DIR = "donnees"


def view_key(territory: str = ALL, period: str = ALL) -> str:
    return f"{territory}|{period}"


def figure_json(fig: Figure) -> str:
    """Compact figure JSON; the page carries the template once."""
    return json.dumps(fig, cls=PlotlyJSONEncoder, separators=(",", ":"), ensure_ascii=False)


@functools.cache
def _template_json() -> str:
    template = pio.templates[pio.templates.default].to_plotly_json()
    return json.dumps(template, cls=PlotlyJSONEncoder, separators=(",", ":"))


class PageData:
    def __init__(self, tree: TerritoryTree, periods: list[tuple[str, str]] | None = None,
                 period_label: str = "Période", default_period: str | None = None,
                 scope_note: str | None = None):
        self.tree = tree
        self.periods = periods or []
        self.period_label = period_label
        self.default_period = default_period or (self.periods[-1][0] if self.periods else ALL)
        self.scope_note = scope_note
        self._figures: list[str] = []
        self._chunk_of: list[int] = []  # figure -> its file: the first slot and view using it
        self._heights: list[int] = []
        self._chunks: dict[str, int] = {}
        self._index: dict[str, int] = {}
        self.slots: dict[str, dict[str, int]] = {}

    def add_figure(self, slot: str, key: str, fig: Figure) -> None:
        text = figure_json(fig)
        if text not in self._index:
            self._index[text] = len(self._figures)
            self._figures.append(text)
            self._chunk_of.append(self._chunks.setdefault(f"{slot}|{key}", len(self._chunks)))
            self._heights.append(fig["layout"].get("height") or 450)
        self.slots.setdefault(slot, {})[key] = self._index[text]

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
        """The page's own block; `stem` names its figure files (`donnees/<stem>-<n>.js`)."""
        head = json.dumps({
            "territoires": self.tree.to_json(),
            "periodes": [list(p) for p in self.periods],
            "periode": self.default_period,
            "libelle_periode": self.period_label,
            "note_portee": self.scope_note,
            "vues": self.slots,
            "fichiers": f"{DATA_DIR}/{stem}-",
            "morceaux": self._chunk_of,
            "hauteurs": self._heights,
        }, ensure_ascii=False, separators=(",", ":"))
        text = head[:-1] + ',"modele":' + _template_json() + "}"
        return text.replace("</", "<\\/")

    def figure_files(self, stem: str) -> dict[str, str]:
        """Each figure file (path under the site folder) and its script."""
        parts: dict[int, list[str]] = {}
        for index, (text, chunk) in enumerate(zip(self._figures, self._chunk_of, strict=True)):
            parts.setdefault(chunk, []).append(f'"{index}":{text}')
        return {f"{DATA_DIR}/{stem}-{chunk}.js": "observatoireFigures({" + ",".join(texts)
                + "});\n" for chunk, texts in parts.items()}


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
