"""Render the static dashboard site from the published warehouse.

The site is written into a temporary folder next to `out_dir` and swapped in at the end, so a
reader never opens a half-written page; the previous site is removed only after the swap. The
fragments of its pages whose inputs did not change are taken from the previous site
(dashboards/fragments.py).
"""

import shutil
import tempfile
from pathlib import Path

from dashboards.changes import STATE_FILE, published_values, read_previous, write_state
from dashboards.formatting import format_datetime
from dashboards.pages import Site, build_pages
from dashboards.tables import write_csv, write_table_data
from dashboards.template import SCRIPT_FILE, render_page
from dashboards.views import DATA_DIR, PLOTLY_FILE, PageData
from dashboards.warehouse import read_snapshot

SCRIPT_SOURCE = Path(__file__).with_name(SCRIPT_FILE)
# plotly.js's partial bundle with the trace types the figures use (dashboards/vendor/README.md)
PLOTLY_SOURCE = Path(__file__).parent / "vendor" / "plotly-basic.min.js"


def render_site(warehouse_path: Path, out_dir: Path, reuse: bool = True) -> list[str]:
    """Render the site into `out_dir` and return the names of its files, relative to it (a
    national site has 5,000). `reuse`: keep the fragments of the site in `out_dir` whose
    inputs did not change."""
    snapshot = read_snapshot(warehouse_path)
    publication = snapshot.publication
    current = published_values(snapshot)
    site = Site.from_snapshot(snapshot, current, read_previous(out_dir, current),
                              rendered=out_dir, reuse=reuse)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)
        shutil.copyfile(PLOTLY_SOURCE, staging / PLOTLY_FILE)
        shutil.copyfile(SCRIPT_SOURCE, staging / SCRIPT_FILE)
        (staging / DATA_DIR).mkdir()
        write_state(staging / STATE_FILE, site.current, site.previous)
        written = [PLOTLY_FILE, SCRIPT_FILE, STATE_FILE]
        for page in build_pages(site):
            data = page.data or PageData(site.tree)
            stem = page.filename.removesuffix(".html")
            document = render_page(page.filename, page.title, page.content,
                                   format_datetime(publication.published_at),
                                   publication.night_id, publication.demo_activity,
                                   data.to_json(stem), page.with_plotly)
            (staging / page.filename).write_text(document, encoding="utf-8")
            written.append(page.filename)
            for name, script in data.figure_files(stem).items():
                (staging / name).write_text(script, encoding="utf-8")
                written.append(name)
            written += [write_csv(table, staging).name for table in page.tables]
            written += [str(write_table_data(table, staging).relative_to(staging))
                        for table in page.tables if table.lazy]
            written += site.fragments.link_reused(stem, staging)
        written.append(site.fragments.write(staging))
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, out_dir)
    return written


def _swap_in(staging: Path, out_dir: Path) -> None:
    previous = None
    if out_dir.exists():
        previous = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
        out_dir.replace(previous / out_dir.name)
    staging.replace(out_dir)
    if previous is not None:
        shutil.rmtree(previous)
