"""What a page's script needs to redraw it without a server.

A page embeds one JSON block: the territory tree, the periods, and its figures, each figure
filed under a slot and a view key "<territory key>|<period>" where either part may be "*"
(any). When the analyst picks a territory and a period, the script draws in each slot the first
view found for the territory, then for each of its ancestors, then for "*": a département
without data of its own falls back to its région, and the page says so. Identical figures are
stored once.
"""

import functools
import html
import json

import plotly.graph_objects as go
import plotly.io as pio
from plotly.utils import PlotlyJSONEncoder

from dashboards.territories import ALL, TerritoryTree

PLOTLY_FILE = "plotly.min.js"


def view_key(territory: str = ALL, period: str = ALL) -> str:
    return f"{territory}|{period}"


def figure_json(fig: go.Figure) -> str:
    """Compact figure JSON without its template: the page carries the template once."""
    plain = fig.to_plotly_json()
    plain["layout"].pop("template", None)
    return json.dumps(plain, cls=PlotlyJSONEncoder, separators=(",", ":"), ensure_ascii=False)


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
        self._index: dict[str, int] = {}
        self.slots: dict[str, dict[str, int]] = {}

    def add_figure(self, slot: str, key: str, fig: go.Figure) -> None:
        text = figure_json(fig)
        if text not in self._index:
            self._index[text] = len(self._figures)
            self._figures.append(text)
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

    def to_json(self) -> str:
        head = json.dumps({
            "territoires": self.tree.to_json(),
            "periodes": [list(p) for p in self.periods],
            "periode": self.default_period,
            "libelle_periode": self.period_label,
            "note_portee": self.scope_note,
            "vues": self.slots,
        }, ensure_ascii=False, separators=(",", ":"))
        text = (head[:-1] + ',"modele":' + _template_json()
                + ',"figures":[' + ",".join(self._figures) + "]}")
        return text.replace("</", "<\\/")


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
