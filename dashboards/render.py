"""Render the static dashboard site from the published warehouse.

The site is written into a temporary folder next to `out_dir` and swapped in at the end, so a
reader never opens a half-written page; the previous site is removed only after the swap.
"""

import shutil
import tempfile
from pathlib import Path

from plotly.offline import get_plotlyjs

from dashboards.formatting import format_datetime
from dashboards.pages import build_pages
from dashboards.tables import write_csv
from dashboards.template import PLOTLY_FILE, render_page
from dashboards.warehouse import read_snapshot


def render_site(warehouse_path: Path, out_dir: Path) -> list[Path]:
    snapshot = read_snapshot(warehouse_path)
    publication = snapshot.publication
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-new-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)
        (staging / PLOTLY_FILE).write_text(get_plotlyjs(), encoding="utf-8")
        written = [PLOTLY_FILE]
        for page in build_pages(snapshot):
            document = render_page(page.filename, page.title, page.content,
                                   format_datetime(publication.published_at),
                                   publication.night_id, publication.demo_activity,
                                   page.with_plotly)
            (staging / page.filename).write_text(document, encoding="utf-8")
            written.append(page.filename)
            written += [write_csv(table, staging).name for table in page.tables]
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _swap_in(staging, out_dir)
    return [out_dir / name for name in written]


def _swap_in(staging: Path, out_dir: Path) -> None:
    previous = None
    if out_dir.exists():
        previous = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-old-", dir=out_dir.parent))
        out_dir.replace(previous / out_dir.name)
    staging.replace(out_dir)
    if previous is not None:
        shutil.rmtree(previous)
