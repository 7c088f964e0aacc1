"""The rendered pages in a real headless Chromium, from file:// and without any network.

One Chromium runs for the module, driven over its DevTools pipe (`--remote-debugging-pipe`,
standard library only): each page is opened with the network emulated offline, its console and
requests are recorded, its load time is read from `performance`, and a 1280×900 screenshot goes
to artifacts/screenshots/. The selectors are driven like an analyst would (pick a value, the
`change` event fires) and the values the page then draws are compared with the warehouse.

`python tests/test_dashboards_browser.py <site folder>` measures an existing site (the demo
night's var/dashboards) and prints each page's load time and weight.
"""

import csv
import io
import json
import os
import queue
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dashboard_fixture import make_fixture_warehouse

from dashboards.figures import checks_figure
from dashboards.render import render_site
from pipelines.settings import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
VENDOR = REPO_ROOT / "dashboards" / "vendor"
PAGES = ["index", "offre", "projets", "suivi", "accessibilite", "qualite", "fiches",
         "dictionnaire"]
LOAD_BUDGET_MS = 1500
# A page this many times slower than the floor page (below) is too slow whatever the load of
# the machine: the budget grows with the floor when other jobs share the two CPUs.
FLOOR_RATIO = 5
FLOOR_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<div id="f"></div><script src="{plotly}"></script>
<script>Plotly.newPlot("f", [{{"type": "bar", "x": ["a", "b", "c"], "y": [1, 3, 2]}}])
.then(() => performance.mark("observatoire-pret"));</script></body></html>"""
WEIGHT_BUDGET = 5_000_000


class Chromium:
    """Headless Chromium over the DevTools protocol on file descriptors 3 and 4."""

    def __init__(self, profile: Path):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()

        def wire_pipes() -> None:
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)
            os.set_inheritable(3, True)
            os.set_inheritable(4, True)

        self.process = subprocess.Popen(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update", "--no-first-run",
             "--disable-sync", "--hide-scrollbars", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "about:blank"],
            preexec_fn=wire_pipes, close_fds=False, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser)
        os.close(from_browser)
        self._next_id = 0
        self._replies: dict[int, queue.Queue] = {}
        self.events: list[dict] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._from_browser, 1 << 16):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for raw in messages:
                message = json.loads(raw)
                if "id" in message:
                    self._replies.pop(message["id"]).put(message)
                else:
                    with self._lock:
                        self.events.append(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        with self._lock:
            self._next_id += 1
            number = self._next_id
            reply: queue.Queue = queue.Queue()
            self._replies[number] = reply
        message = {"id": number, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        answer = reply.get(timeout=timeout)
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def events_of(self, session: str, *methods: str, since: int = 0) -> list[dict]:
        with self._lock:
            return [e for e in self.events[since:]
                    if e.get("sessionId") == session and e["method"] in methods]

    def new_tab(self) -> "Tab":
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target,
                                                      "flatten": True})["sessionId"]
        return Tab(self, session)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        os.close(self._to_browser)


class Tab:
    def __init__(self, browser: Chromium, session: str):
        self.browser, self.session = browser, session
        self.since = 0  # events before this index belong to earlier pages
        for method in ("Page.enable", "Runtime.enable", "Log.enable", "Network.enable"):
            self.call(method)
        self.call("Network.emulateNetworkConditions", {
            "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})

    def call(self, method: str, params: dict | None = None) -> dict:
        return self.browser.call(method, params, self.session)

    def open(self, url: str) -> None:
        """Go to the page and wait until its script says the first figures are drawn."""
        self.since = len(self.browser.events)
        self.call("Page.navigate", {"url": url})
        self.wait_until("document.readyState === 'complete' && "
                        "document.documentElement.getAttribute('data-etat') === 'pret'")

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def wait_until(self, condition: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                raise TimeoutError(condition)
            time.sleep(0.02)

    def choose(self, select_id: str, value: str) -> None:
        """Pick an option as an analyst would: the page reacts to the `change` event."""
        self.evaluate(f"""(() => {{
            const select = document.getElementById({json.dumps(select_id)});
            document.documentElement.setAttribute('data-etat', 'choix');
            select.value = {json.dumps(value)};
            select.dispatchEvent(new Event('change'));
        }})()""")
        self.wait_until("document.documentElement.getAttribute('data-etat') === 'pret'")

    def figure_data(self, div_id: str) -> list[dict]:
        """The traces Plotly drew in a figure, or [] when nothing is drawn there. The figure is
        scrolled into view first: a page draws only what is on the screen."""
        div = f"document.getElementById({json.dumps(div_id)})"
        self.evaluate(f"{div}.hidden || {div}.scrollIntoView()")
        self.wait_until(f"{div}.hidden || {div}.hasAttribute('data-figure') && "
                        f"{div}.querySelector('svg.main-svg')")
        return self.evaluate(f"JSON.parse(JSON.stringify({div}.data || []))")

    def screenshot(self, path: Path) -> None:
        import base64

        shot = self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def console_errors(self) -> list[str]:
        events = self.browser.events_of(self.session, "Runtime.exceptionThrown",
                                        "Runtime.consoleAPICalled", "Log.entryAdded",
                                        since=self.since)
        errors = []
        for event in events:
            params = event["params"]
            if event["method"] == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                errors.append(details.get("exception", {}).get("description")
                              or details["text"])
            elif event["method"] == "Runtime.consoleAPICalled" and params["type"] == "error":
                errors.append(json.dumps(params["args"])[:500])
            elif event["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
                errors.append(params["entry"]["text"])
        return errors

    def requested_urls(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.browser.events_of(
            self.session, "Network.requestWillBeSent", since=self.since)]

    def load_times(self) -> dict[str, float]:
        return self.evaluate("""(() => {
            const navigation = performance.getEntriesByType('navigation')[0];
            const ready = performance.getEntriesByName('observatoire-pret')[0];
            return {load: navigation.loadEventEnd, ready: ready ? ready.startTime : null};
        })()""")


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} est absent : installez le paquet Debian chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


SCROLL_THROUGH = """(async () => {
    for (const div of document.querySelectorAll('.emplacement.figure .plotly-graph-div')) {
        if (div.closest('[hidden]')) continue;
        div.scrollIntoView();
        for (let i = 0; i < 200 && !div.querySelector('svg.main-svg'); i++) {
            await new Promise(resolve => setTimeout(resolve, 25));
        }
    }
    window.scrollTo(0, 0);
})()"""
DRAWN_FIGURES = """[...document.querySelectorAll('.emplacement.figure .plotly-graph-div')]
    .filter(div => !div.closest('[hidden]'))
    .map(div => ({id: div.id, svg: !!div.querySelector('svg.main-svg'),
                  traces: (div.data || []).length, legend_scrolls: LEGEND_SCROLLS(div)}))"""
# Plotly gives a legend taller than its figure a scroll bar, and hides the entries below it
LEGEND_SCROLLS = """(div => [...div.querySelectorAll('.legend .scrollbar')]
    .some(bar => +bar.getAttribute('height') > 0))"""
DRAWN_FIGURES = DRAWN_FIGURES.replace("LEGEND_SCROLLS", LEGEND_SCROLLS)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory) -> Path:
    return make_fixture_warehouse(tmp_path_factory.mktemp("wh") / "observatoire.duckdb",
                                  with_accessibility=True)


@pytest.fixture(scope="module")
def site(warehouse, tmp_path_factory) -> Path:
    out_dir = tmp_path_factory.mktemp("home") / "dashboards"
    render_site(warehouse, out_dir)
    return out_dir


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    require_chromium()
    chromium = Chromium(tmp_path_factory.mktemp("profile"))
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def visits(site, browser) -> dict[str, dict]:
    """Every page in turn in one tab, as an analyst clicking through the site from Accueil.

    Each page is then scrolled to its end, so that figures drawn on approach are drawn too.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    results = {}
    tab = browser.new_tab()
    for name in PAGES:
        tab.open((site / f"{name}.html").as_uri())
        results[name] = {"times": tab.load_times()}
        tab.screenshot(SCREENSHOTS / f"{name}.png")
        tab.evaluate(SCROLL_THROUGH)
        results[name] |= {"figures": tab.evaluate(DRAWN_FIGURES),
                          "errors": tab.console_errors(), "urls": tab.requested_urls()}
    return results


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("name", PAGES)
def test_page_opens_offline_without_console_error(name, visits):
    visit = visits[name]
    assert visit["errors"] == []
    assert visit["urls"], "the page's own request was not seen"
    assert all(url.startswith(("file:", "data:", "blob:")) for url in visit["urls"]), (
        visit["urls"])


@pytest.mark.parametrize("name", ["offre", "projets", "suivi", "qualite"])
def test_every_shown_figure_draws_its_svg(name, visits):
    figures = visits[name]["figures"]
    assert figures, "no figure shown"
    assert all(f["svg"] and f["traces"] > 0 for f in figures), figures
    assert not [f["id"] for f in figures if f["legend_scrolls"]]


def test_the_checks_of_a_night_that_checked_one_table_show_their_whole_legend(browser,
                                                                             tmp_path):
    """A night with one new month checks staging.activity alone: its figure is one bar high,
    and was once too short for the legend of the three outcomes."""
    results = pl.DataFrame({"table_name": ["staging.activity"] * 3,
                            "severity": ["WARN", "ERROR", "ERROR"],
                            "success": [False, True, False]})
    figure = checks_figure(results, "nuit du 5 décembre 2026 à 02:00")
    shutil.copy(VENDOR / "plotly-basic.min.js", tmp_path)
    page = tmp_path / "controles.html"
    page.write_text(
        '<html><body><div id="f" class="plotly-graph-div" style="width:1100px"></div>'
        '<script src="plotly-basic.min.js"></script><script>'
        f"var f = {json.dumps(figure)}; Plotly.newPlot('f', f.data, f.layout).then(() =>"
        " document.documentElement.setAttribute('data-etat', 'pret'));</script></body></html>",
        encoding="utf-8")
    tab = browser.new_tab()
    tab.open(page.as_uri())
    assert tab.evaluate("document.querySelectorAll('#f .legend .traces').length") == 3
    assert tab.evaluate(f"{LEGEND_SCROLLS}(document.getElementById('f'))") is False


def test_a_column_of_sentences_keeps_a_readable_width_beside_many_columns(site, browser):
    """The quality page's checks have nine columns: the examples of the values in breach were
    squeezed to a word a line, a national night's ten names into a column 30 lines tall."""
    tab = browser.new_tab()
    tab.open((site / "qualite.html").as_uri())
    widths = tab.evaluate("""[...document.querySelectorAll(
        'table[data-tableau=controles] thead th')].map(th => [th.textContent,
        th.getBoundingClientRect().width])""")
    em = tab.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)")
    wide = {name: width for name, width in widths
            if name in ("Valeur observée", "Exemples de valeurs en écart")}
    assert len(wide) == 2 and min(wide.values()) >= 12 * em, widths


@pytest.mark.parametrize("name", PAGES)
def test_screenshot_is_taken_at_1280_by_900(name, visits):
    png = (SCREENSHOTS / f"{name}.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 900)


def floor_ms(browser: Chromium, site: Path, folder: Path) -> float:
    """Ready time of the smallest page with a figure (the site's Plotly, one bar chart) in a
    fresh tab, best of three: what the machine can do at this moment."""
    page = folder / "plancher.html"
    page.write_text(FLOOR_PAGE.format(plotly=(site / "plotly.min.js").as_uri()), encoding="utf-8")
    times = []
    for _ in range(3):
        tab = browser.new_tab()
        tab.call("Page.navigate", {"url": page.as_uri()})
        tab.wait_until("performance.getEntriesByName('observatoire-pret').length > 0")
        times.append(tab.load_times()["ready"])
    return min(times)


def budget_ms(floor: float) -> float:
    return max(LOAD_BUDGET_MS, FLOOR_RATIO * floor)


def test_pages_load_fast_and_stay_light(site, visits, browser, tmp_path):
    """Ready means the page's first figures are drawn (a `performance` mark set by its script).

    The first page with figures in a fresh browser also compiles Plotly's bundle (the 1.2 MB
    basic bundle, dashboards/vendor): it is recorded and held to twice the budget, for a loaded
    machine. Every other page must be ready within the budget.
    """
    first_figures = next(name for name in PAGES if visits[name]["figures"])
    measures = {name: {"ready_ms": round(visits[name]["times"]["ready"]),
                       "load_ms": round(visits[name]["times"]["load"]),
                       "html_bytes": (site / f"{name}.html").stat().st_size}
                for name in PAGES}
    floor = floor_ms(browser, site, tmp_path)
    (SCREENSHOTS / "mesures.json").write_text(json.dumps(
        {"first_page_compiling_plotly": first_figures, "floor_ms": round(floor),
         "pages": measures}, indent=1))
    budgets = {name: budget_ms(floor) * (2 if name == first_figures else 1) for name in PAGES}
    slow = {n: m for n, m in measures.items()
            if max(m["ready_ms"], m["load_ms"]) >= budgets[n]}
    heavy = {n: m for n, m in measures.items() if m["html_bytes"] >= WEIGHT_BUDGET}
    assert not slow and not heavy, measures


def test_territory_selector_redraws_the_figures_with_the_warehouse_values(site, browser,
                                                                         warehouse):
    tab = browser.new_tab()
    tab.open((site / "offre.html").as_uri())
    assert tab.figure_data("densite-profil") == []  # nothing chosen yet: no profile
    tab.choose("choix-region", "region:75")
    tab.choose("choix-departement", "departement:47")
    bars = tab.figure_data("densite-profil")[0]
    expected = dict(_query(warehouse, """
        SELECT l.label, v.value FROM marts.indicator_values v JOIN marts.category_labels l
        ON l.dimension = v.dimension AND l.category = v.category
        WHERE indicator_id = 'densite_professionnels' AND geo_level = 'departement'
          AND geo_code = '47' AND period = '2024' AND v.category <> 'ensemble'"""))
    shown = dict(zip(bars["y"], bars["x"], strict=True))
    shown.pop("Ensemble des professions")
    assert shown == pytest.approx(expected)
    compared = tab.figure_data("densite-comparaison")[0]
    assert sorted(compared["y"]) == ["CC du Pays de Duras", "CC du Pays de Lauzun"]

    tab.choose("choix-epci", "epci:244701389")
    tab.screenshot(SCREENSHOTS / "offre-cc-du-pays-de-duras.png")
    traces = {t["name"]: t for t in tab.figure_data("densite-profil")}
    assert traces["Valeur masquée"]["y"] == ["Masseur-kinésithérapeute"]
    assert traces["Valeur masquée"]["text"] == ["< seuil"]
    duras = dict(zip(traces["Densité"]["y"], traces["Densité"]["x"], strict=True))
    assert "Masseur-kinésithérapeute" not in duras
    assert duras["Médecin généraliste"] == pytest.approx(_query(warehouse, """
        SELECT value FROM marts.indicator_values WHERE indicator_id = 'densite_professionnels'
        AND geo_code = '244701389' AND period = '2024' AND category = 'medecin_generaliste'
        """)[0][0])
    note = tab.evaluate("document.querySelector('[data-emplacement=\"densite-comparaison\"] "
                        ".note-vue').textContent")
    assert "CC du Pays de Duras" in note and "Lot-et-Garonne" in note

    tab.choose("choix-periode", "2023")
    earlier = {t["name"]: t for t in tab.figure_data("densite-profil")}["Densité"]
    assert dict(zip(earlier["y"], earlier["x"], strict=True))["Médecin généraliste"] == (
        pytest.approx(_query(warehouse, """
            SELECT value FROM marts.indicator_values WHERE geo_code = '244701389'
            AND period = '2023' AND category = 'medecin_generaliste'""")[0][0]))
    assert tab.evaluate("location.hash") == "#territoire=epci%3A244701389&periode=2023"
    assert tab.console_errors() == []


def test_the_choice_follows_the_analyst_to_the_other_pages(site, browser):
    tab = browser.new_tab()
    tab.open((site / "index.html").as_uri())
    tab.choose("choix-region", "region:32")
    tab.choose("choix-departement", "departement:62")
    link = tab.evaluate("document.querySelector('nav a[href^=\"projets.html\"]').href")
    assert link.endswith("projets.html#territoire=departement%3A62")
    tab.open(link)
    assert tab.evaluate("document.getElementById('choix-departement').value") == (
        "departement:62")
    # the list is read from donnees/ when it comes into view (13,000 rows nationally)
    selector = 'table[data-tableau="liste-des-projets"]'
    assert tab.evaluate(f"document.querySelector('{selector}').getAttribute('data-source')") \
        == "donnees/tableau-liste-des-projets.js"
    tab.evaluate(f"document.querySelector('{selector}').scrollIntoView()")
    tab.wait_until(f"document.querySelector('{selector}').getAttribute('data-charge') === 'oui'")
    projects = tab.evaluate(f"""[...document.querySelectorAll('{selector} tbody tr')]
        .map(r => r.cells[0].textContent)""")
    assert sorted(projects) == ["Frévent", "Outreau"]  # the Pas-de-Calais projects of 2013
    tab.screenshot(SCREENSHOTS / "projets-pas-de-calais.png")
    stages = tab.figure_data("projets-stades")
    assert stages[-1]["name"] == "Total"  # the région's census, shown for its département
    assert "Pas-de-Calais" in tab.evaluate(
        "document.querySelector('[data-emplacement=\"projets-stades\"] .note-vue')"
        ".textContent")


def test_followup_shows_the_programmes_of_the_chosen_territory(site, browser, warehouse):
    tab = browser.new_tab()
    tab.open((site / "suivi.html").as_uri())
    shown = """[...document.querySelectorAll('section.programme')].filter(s => !s.hidden)
        .map(s => s.querySelector('h2').textContent)"""
    # the list of programmes at the top: what it shows, and where each of its links leads
    listed = """[...document.querySelectorAll('.programmes li')].filter(l => !l.hidden)
        .map(l => document.getElementById(l.querySelector('a').getAttribute('href').slice(1))
                  .textContent)"""
    assert tab.evaluate(shown) == ["CLS du Pays Ruffécois", "Pôle de santé Duras-Lauzun"]
    assert tab.evaluate(listed) == tab.evaluate(shown)
    tab.choose("choix-region", "region:75")
    tab.choose("choix-departement", "departement:47")
    tab.choose("choix-epci", "epci:244701405")
    assert tab.evaluate(shown) == ["Pôle de santé Duras-Lauzun"]
    assert tab.evaluate(listed) == tab.evaluate(shown)
    assert tab.evaluate("[...document.getElementById('choix-programme').options]"
                        ".map(o => o.value)") == ["", "programme:pole_de_sante_duras_lauzun"]
    tab.choose("choix-periode", "2024")
    bars = tab.figure_data("figure-suivi-2")
    assert [(t["name"], t["x"], t["y"]) for t in bars if t["type"] == "bar"] == [
        ("En bonne voie", ["2024"], [4])]
    # each programme's criteria are read from donnees/ when its table comes into view (400
    # programmes nationally)
    table = "table[data-tableau^=\"suivi-\"][data-source]"
    section = "[...document.querySelectorAll('section.programme')].find(s => !s.hidden)"
    tab.evaluate(f"{section}.querySelector('{table}').scrollIntoView()")
    tab.wait_until(f"{section}.querySelector('{table}').getAttribute('data-charge') === 'oui'")
    criteria = tab.evaluate(f"""[...{section}.querySelectorAll('{table} tbody tr')]
        .map(r => [r.cells[0].textContent, r.cells[3].textContent, r.cells[8].textContent])""")
    assert sorted(criteria) == sorted(map(list, _query(warehouse, """
        SELECT criterion, period, status FROM marts.followup_criteria
        WHERE programme = 'Pôle de santé Duras-Lauzun' AND period = '2024'""")))
    assert criteria  # the criterion of the bar above
    tab.screenshot(SCREENSHOTS / "suivi-cc-du-pays-de-lauzun.png")
    tab.choose("choix-region", "region:32")
    assert tab.evaluate(shown) == [] and tab.evaluate(listed) == []
    assert tab.evaluate("document.querySelector('.vide-section').hidden") is False


def test_a_programmes_title_and_its_first_criterions_name_do_not_touch(site, browser):
    """The follow-up figure's title has two lines (the programme, how to read its panels),
    then each panel has its criterion's name above it: the second line and the first name
    touched."""
    tab = browser.new_tab()
    tab.open((site / "suivi.html").as_uri())
    assert tab.figure_data("figure-suivi-1")
    title, name = tab.evaluate("""(() => {
        const figure = document.getElementById('figure-suivi-1');
        return [figure.querySelector('.gtitle'), figure.querySelector('.annotation')]
            .map(e => e.getBoundingClientRect()).map(r => [r.top, r.bottom]);
    })()""")
    assert name[0] - title[1] >= 8, (title, name)


def test_a_download_link_yields_the_selected_rows_as_french_csv(site, browser, warehouse,
                                                                tmp_path):
    tab = browser.new_tab()
    tab.call("Browser.setDownloadBehavior", {"behavior": "allow", "eventsEnabled": True,
                                             "downloadPath": str(tmp_path)})
    tab.open((site / "offre.html").as_uri() + "#territoire=departement%3A47&periode=2024")
    tab.evaluate("document.querySelector('a.csv-selection[data-tableau=\"densite-professionnels\"]')"
                 ".click()")
    name = "densite-professionnels_lot-et-garonne_2024.csv"
    deadline = time.monotonic() + 20
    while not (tmp_path / name).exists() or (tmp_path / f"{name}.crdownload").exists():
        assert time.monotonic() < deadline, list(tmp_path.iterdir())
        time.sleep(0.05)
    raw = (tmp_path / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, body = rows[0], rows[1:]
    assert {"IC 95 % bas", "IC 95 % haut", "Densité de référence", "Comparaison"} <= set(header)
    expected = _query(warehouse, """
        SELECT geo_name, category, value, suppressed FROM marts.indicator_values
        WHERE indicator_id = 'densite_professionnels' AND period = '2024'
          AND (geo_code = '47' OR geo_code IN ('244701389', '244701405'))""")
    assert len(body) == len(expected)
    assert {r[0] for r in body} == {"Lot-et-Garonne", "CC du Pays de Duras",
                                    "CC du Pays de Lauzun"}
    density = header.index("Densité")
    shown = sorted(float(r[density].replace(",", ".")) for r in body if r[density] != "< seuil")
    assert shown == pytest.approx(sorted(v for _, _, v, s in expected if not s), abs=0.005)
    assert sum(r[density] == "< seuil" for r in body) == sum(s for *_, s in expected)


def test_a_long_table_shows_the_first_rows_of_the_selection_and_more_on_demand(site, browser,
                                                                              warehouse):
    """Indicator tables are read from donnees/ when they come into view, never built whole."""
    tab = browser.new_tab()
    tab.open((site / "offre.html").as_uri() + "#territoire=departement%3A47&periode=2024")
    selector = 'table[data-tableau="etp-pour-10000"]'
    page = (site / "offre.html").read_text(encoding="utf-8")
    assert '<table data-tableau="etp-pour-10000" data-source="donnees/tableau-etp-pour-10000' \
        '.js" data-lignes="12">' in page  # an empty body in the file: rows come from donnees/
    tab.evaluate(f"document.querySelector('{selector}').scrollIntoView()")
    tab.wait_until(f"document.querySelector('{selector}').getAttribute('data-charge') === 'oui'")
    shown = tab.evaluate(f"""[...document.querySelector('{selector}').tBodies[0].rows]
        .map(r => [r.cells[0].textContent, r.cells[3].textContent,
                   r.cells[4].getAttribute('data-csv')])""")
    expected = _query(warehouse, """
        SELECT geo_name, value FROM marts.indicator_values WHERE indicator_id = 'etp_pour_10000'
        AND period = '2024' AND geo_code IN ('47', '244701389', '244701405')""")
    drawn = sorted((n, float(v.replace(",", "."))) for n, _, v in shown)
    assert [n for n, _ in drawn] == [n for n, _ in sorted(expected)]
    assert [v for _, v in drawn] == pytest.approx([v for _, v in sorted(expected)], abs=0.005)
    assert {p for _, p, _ in shown} == {"2024"}
    assert tab.evaluate(f"document.querySelector('{selector}').closest('figure')"
                        ".querySelector('.plus').hidden") is True  # 4 rows: no button
    tab.choose("choix-periode", "2023")
    assert tab.evaluate(f"[...document.querySelector('{selector}').tBodies[0].rows]"
                        ".map(r => r.cells[3].textContent)") == ["2023"] * len(shown)
    assert tab.console_errors() == []


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Path:
    """The site of the demo night, run as the README's first command runs it."""
    home = tmp_path_factory.mktemp("demo-home")
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    done = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--home", str(home)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    # the analyst reads the summary on standard output: anything on standard error is noise
    # to them (once, the resource tracker's "leaked semaphore objects" warning of the Great
    # Expectations worker at every night's end)
    assert done.stderr == "", done.stderr[-3000:]
    return home / "dashboards"


def test_every_page_of_the_demo_night_opens_fast_light_and_clean(demo_site, browser,
                                                                  tmp_path):
    """Issue 6, acceptance 3, on the demo night: each page in a fresh tab, ready within the
    budget (best of two openings; 1.5 s, or five times the floor page when the shared machine
    is slower), its HTML under 5 MB, no console error, every shown figure drawn once scrolled
    to, with its whole legend. Its screenshots (nuit-demo-*.png) are what an analyst sees after
    the README's first command."""
    floor = floor_ms(browser, demo_site, tmp_path)
    measures = {}
    for name in PAGES:
        times = []
        for _ in range(2):
            tab = browser.new_tab()
            tab.open((demo_site / f"{name}.html").as_uri())
            times.append(max(tab.load_times()["ready"], tab.load_times()["load"]))
            assert tab.console_errors() == [], (name, tab.console_errors())
        tab.screenshot(SCREENSHOTS / f"nuit-demo-{name}.png")
        tab.evaluate(SCROLL_THROUGH)
        figures = tab.evaluate(DRAWN_FIGURES)
        assert all(f["svg"] and f["traces"] > 0 for f in figures), (name, figures)
        assert not [f["id"] for f in figures if f["legend_scrolls"]], name
        assert tab.console_errors() == [], (name, tab.console_errors())
        loaded = [Path(url.removeprefix("file://")) for url in tab.requested_urls()
                  if url.startswith("file://")]
        measures[name] = {"ready_ms": round(min(times)), "figures": len(figures),
                          "html_bytes": (demo_site / f"{name}.html").stat().st_size,
                          "bytes_loaded": sum(p.stat().st_size for p in set(loaded)
                                              if p.is_file())}
    (SCREENSHOTS / "mesures-nuit-demo.json").write_text(json.dumps(
        {"floor_ms": round(floor), "pages": measures}, indent=1))
    assert all(m["ready_ms"] < budget_ms(floor) and m["html_bytes"] < WEIGHT_BUDGET
               for m in measures.values()), (round(floor), measures)
    assert sum(m["figures"] for m in measures.values()) >= 8, measures


def test_the_checks_catch_a_broken_page(browser, tmp_path):
    """A page whose Plotly script is missing: no SVG and an uncaught error are both seen."""
    page = tmp_path / "cassee.html"
    page.write_text('<html><body><div id="f" class="plotly-graph-div"></div>'
                    '<script src="absent.js"></script>'
                    '<script>Plotly.newPlot("f", [{"y": [1, 2]}]);</script></body></html>',
                    encoding="utf-8")
    tab = browser.new_tab()
    tab.call("Page.navigate", {"url": page.as_uri()})
    tab.wait_until("document.readyState === 'complete'")
    assert tab.evaluate("!!document.querySelector('#f svg.main-svg')") is False
    errors = tab.console_errors()
    assert any("Plotly is not defined" in e for e in errors), errors
    assert any("ERR_FILE_NOT_FOUND" in e for e in errors), errors


def measure(site_dir: Path) -> dict[str, dict]:
    """Each page of an existing site, ready time in ms: in a fresh tab (a new browser process
    that compiles Plotly again), and in one tab visiting the pages in turn like an analyst;
    with the floor page's time, which says how loaded the machine was."""
    with tempfile.TemporaryDirectory() as profile:
        chromium = Chromium(Path(profile))
        try:
            floor = floor_ms(chromium, site_dir, Path(profile))
            fresh = {}
            for name in PAGES:
                tab = chromium.new_tab()
                tab.open((site_dir / f"{name}.html").as_uri())
                fresh[name] = round(tab.load_times()["ready"])
                assert tab.console_errors() == [], tab.console_errors()
            tab, visited = chromium.new_tab(), {}
            for name in PAGES:
                tab.open((site_dir / f"{name}.html").as_uri())
                visited[name] = round(tab.load_times()["ready"])
        finally:
            chromium.close()
    return {"floor_ms": round(floor)} | {
        name: {"fresh_tab_ms": fresh[name], "clicking_through_ms": visited[name],
               "html_bytes": (site_dir / f"{name}.html").stat().st_size}
        for name in PAGES}


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]).resolve()), indent=1))
