"""The rendered pages in a real headless Chromium, from file:// and without any network.

Each page is loaded once: Chromium dumps the rendered DOM, logs the console on stderr and takes
a 1280×900 screenshot into artifacts/screenshots/; the pages load in parallel.
"""

import os
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dashboard_fixture import make_fixture_warehouse

from dashboards.render import render_site
from pipelines.settings import REPO_ROOT

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
# The fixture warehouse has one census figure, two density levels (EPCI, département) and two
# follow-up programmes.
EXPECTED_FIGURES = {"index": 0, "projets": 1, "offre": 2, "suivi": 2, "fiches": 0}
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "source", "track", "wbr"}


def _chromium_command(profile: Path, *arguments: str) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
            *arguments]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} est absent : installez le paquet Debian chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


class FigureScan(HTMLParser):
    """Plotly figure divs of a document, and which of them hold a rendered `main-svg`."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[str] = []
        self.rendered: set[str] = set()
        self._open: list[tuple[str, int]] = []
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        self._see(attrs)
        if tag not in VOID_ELEMENTS:
            self._depth += 1

    def handle_startendtag(self, tag, attrs):
        self._see(attrs)

    def handle_endtag(self, tag):
        if tag in VOID_ELEMENTS:
            return
        self._depth -= 1
        while self._open and self._open[-1][1] >= self._depth:
            self._open.pop()

    def _see(self, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if "main-svg" in classes:
            self.rendered.update(figure for figure, _ in self._open)
        if "plotly-graph-div" in classes:
            self.figures.append(attributes["id"])
            self._open.append((attributes["id"], self._depth))


def scan(document: str) -> FigureScan:
    scanner = FigureScan()
    scanner.feed(document)
    return scanner


def console_errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line
            and ("Uncaught" in line or "Failed to load resource" in line)]


def _load_all(pages: dict[str, Path], profiles: Path) -> dict[str, dict]:
    """Start one Chromium per page, all at once; each dumps its DOM and takes a screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    runs = {
        name: subprocess.Popen(
            _chromium_command(profiles / name, "--enable-logging=stderr", "--v=0",
                              "--hide-scrollbars", "--window-size=1280,900",
                              f"--screenshot={SCREENSHOTS / f'{name}.png'}", "--dump-dom",
                              page.as_uri()),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, page in pages.items()
    }
    results = {}
    for name, run in runs.items():
        dom, stderr = run.communicate(timeout=90)
        results[name] = {"dom": dom, "stderr": stderr, "screenshot": SCREENSHOTS / f"{name}.png"}
    return results


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    warehouse = make_fixture_warehouse(tmp_path_factory.mktemp("wh") / "observatoire.duckdb")
    out_dir = tmp_path_factory.mktemp("home") / "dashboards"
    render_site(warehouse, out_dir)
    return out_dir


@pytest.fixture(scope="module")
def loaded(site, tmp_path_factory) -> dict[str, dict]:
    _require_chromium()
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    pages = {name: site / f"{name}.html" for name in EXPECTED_FIGURES}
    return _load_all(pages, tmp_path_factory.mktemp("profiles"))


@pytest.mark.parametrize("name", list(EXPECTED_FIGURES))
def test_every_figure_is_drawn_without_console_error(name, site, loaded):
    figures = scan((site / f"{name}.html").read_text(encoding="utf-8")).figures
    assert len(figures) == EXPECTED_FIGURES[name]
    result = loaded[name]
    rendered = scan(result["dom"])
    assert rendered.figures == figures
    assert set(figures) <= rendered.rendered, set(figures) - rendered.rendered
    assert console_errors(result["stderr"]) == []
    assert "Données de démonstration : activité synthétique" in result["dom"]
    assert "Share chart" not in result["dom"]  # Plotly's upload-to-cloud button is off


@pytest.mark.parametrize("name", list(EXPECTED_FIGURES))
def test_screenshot_is_taken_at_1280_by_900(name, loaded):
    png = loaded[name]["screenshot"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 900)


def test_the_checks_catch_a_broken_page(tmp_path):
    """A page whose Plotly script is missing: no SVG and an uncaught error are both seen."""
    _require_chromium()
    page = tmp_path / "cassee.html"
    page.write_text('<html><body><div id="f" class="plotly-graph-div"></div>'
                    '<script src="absent.js"></script>'
                    '<script>Plotly.newPlot("f", [{"y": [1, 2]}]);</script></body></html>',
                    encoding="utf-8")
    run = subprocess.run(
        _chromium_command(tmp_path / "profile", "--enable-logging=stderr", "--v=0",
                          "--dump-dom", page.as_uri()),
        capture_output=True, text=True, timeout=90)
    assert scan(run.stdout).figures == ["f"]
    assert scan(run.stdout).rendered == set()
    assert any("Uncaught ReferenceError: Plotly is not defined" in line
               for line in console_errors(run.stderr))
