"""The embedded demo landing: census and follow-up files from data/demo (transcribed from the
seeds) plus synthetic activity statistics made by the generator, laid out under the home.

Activity is generated rather than committed (about 500,000 rows): the generator is
deterministic, so every machine gets byte-identical files and a night that finds them already
there loads nothing twice.
"""

import shutil
from pathlib import Path

from pipelines.settings import DEMO_DIR, Settings
from pipelines.synth import generate_activity

DEMO_SEED = 2026
DEMO_SCALE = "demo"


def prepare_demo_landing(
    settings: Settings, scale: str = DEMO_SCALE, seed: int = DEMO_SEED
) -> Path:
    landing = settings.home / "demo-landing"
    for family in ("census", "followup"):
        for source in (DEMO_DIR / family).iterdir():
            if source.suffix.lower() not in {".csv", ".xlsx"}:
                continue
            target = landing / family / source.name
            if not target.exists() or target.read_bytes() != source.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    marker = landing / "activity" / f".generated-{scale}-{seed}"
    if not marker.exists():
        shutil.rmtree(landing / "activity", ignore_errors=True)
        generate_activity(landing, scale=scale, seed=seed)
        marker.touch()
    return landing
