"""Paths, thresholds and secrets: the one place the rest of the code asks for them.

Everything derives from two environment variables so that a test, the CLI and `dagster dev`
agree on where a night reads and writes:
- OBSERVATOIRE_HOME (default ./var): warehouse, dashboards, build files, DAGSTER_HOME, HMAC key;
- OBSERVATOIRE_LANDING (default: the demo landing prepared under the home from data/demo and
  the synthetic activity generator).
"""

import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = REPO_ROOT / "models"
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
DEMO_DIR = REPO_ROOT / "data" / "demo"

SOURCE_FAMILIES = ("activity", "census", "followup")

# DESIGN §6: counts under 5 are not published; anything describing professionals' activity
# needs 11, the threshold the CNAM applies to its own open data.
DEFAULT_COUNT_THRESHOLD = 5
DEFAULT_ACTIVITY_THRESHOLD = 11

# Volume check: a staged table may change by this share of its rows between two published
# nights before it is reported (a new year of activity adds about half of a two-year panel).
DEFAULT_VOLUME_TOLERANCE = 0.5
# Freshness check: activity statistics reach an observatory a year or more after the fact
# (yearly exports of the health-insurance figures), so the latest month may be up to three
# years older than the night before it is reported.
DEFAULT_FRESHNESS_MONTHS = 36

# Published versions kept in <home>/warehouse/versions/ for comparison and rollback.
DEFAULT_KEEP_VERSIONS = 7

# DuckDB's buffer pool of a night's connection. Its default (80 % of the machine) let a national
# night keep every block it had written in memory (4.7 GB peak in raw__activity); past the limit
# DuckDB evicts blocks already on disk and spills the rest to its temporary folder.
DEFAULT_DUCKDB_MEMORY = "2GB"

HMAC_KEY_ENV = "OBSERVATOIRE_HMAC_KEY"


@dataclass(frozen=True)
class Settings:
    home: Path
    landing: Path
    count_threshold: int = DEFAULT_COUNT_THRESHOLD
    activity_threshold: int = DEFAULT_ACTIVITY_THRESHOLD
    # share of rows a night may reject and still publish; 0: any rejected row blocks
    rejected_rows_tolerance: float = 0.0
    keep_versions: int = DEFAULT_KEEP_VERSIONS
    volume_tolerance: float = DEFAULT_VOLUME_TOLERANCE
    freshness_months: int = DEFAULT_FRESHNESS_MONTHS
    duckdb_memory: str = DEFAULT_DUCKDB_MEMORY

    @property
    def uses_demo_landing(self) -> bool:
        return self.landing == self.home / "demo-landing"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def warehouse_path(self) -> Path:
        return self.warehouse_dir / "observatoire.duckdb"

    @property
    def build_dir(self) -> Path:
        return self.home / "build"

    @property
    def dashboards_dir(self) -> Path:
        return self.home / "dashboards"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def key_path(self) -> Path:
        return self.home / "secrets" / "hmac.key"

    @property
    def versions_dir(self) -> Path:
        return self.warehouse_dir / "versions"

    @property
    def nights_log_path(self) -> Path:
        return self.home / "nights.jsonl"

    def build_path(self, run_id: str) -> Path:
        return self.build_dir / f"night-{run_id}.duckdb"

    def hmac_key(self) -> bytes:
        """The key that pseudonymises professional identifiers.

        Generated on first use and kept with mode 0600 so that the same RPPS gives the same
        hash night after night; an environment variable wins so that several homes can share it.
        """
        if os.environ.get(HMAC_KEY_ENV):
            return os.environ[HMAC_KEY_ENV].encode()
        if not self.key_path.exists():
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
        return self.key_path.read_text().strip().encode()


def get_settings() -> Settings:
    home = Path(os.environ.get("OBSERVATOIRE_HOME", "var")).resolve()
    landing_env = os.environ.get("OBSERVATOIRE_LANDING")
    landing = Path(landing_env).resolve() if landing_env else home / "demo-landing"
    return Settings(
        home=home,
        landing=landing,
        count_threshold=int(
            os.environ.get("OBSERVATOIRE_COUNT_THRESHOLD", DEFAULT_COUNT_THRESHOLD)
        ),
        rejected_rows_tolerance=float(os.environ.get("OBSERVATOIRE_REJECTED_TOLERANCE", 0)),
        keep_versions=int(os.environ.get("OBSERVATOIRE_KEEP_VERSIONS", DEFAULT_KEEP_VERSIONS)),
        activity_threshold=int(
            os.environ.get("OBSERVATOIRE_ACTIVITY_THRESHOLD", DEFAULT_ACTIVITY_THRESHOLD)
        ),
        volume_tolerance=float(
            os.environ.get("OBSERVATOIRE_VOLUME_TOLERANCE", DEFAULT_VOLUME_TOLERANCE)
        ),
        freshness_months=int(
            os.environ.get("OBSERVATOIRE_FRESHNESS_MONTHS", DEFAULT_FRESHNESS_MONTHS)
        ),
        duckdb_memory=_memory_size(os.environ.get("OBSERVATOIRE_DUCKDB_MEMORY",
                                                  DEFAULT_DUCKDB_MEMORY)),
    )


def _memory_size(text: str) -> str:
    """A size DuckDB reads (`2GB`, `500MB`, `1.5GiB`), refused in French before a night opens
    its file with it."""
    if not re.fullmatch(r"\d+(\.\d+)?\s*([KMGT]i?B|B)", text.strip(), re.IGNORECASE):
        raise ValueError(
            f"OBSERVATOIRE_DUCKDB_MEMORY vaut « {text} » : attendu une taille comme 2GB, 500MB "
            "ou 1.5GiB (un nombre suivi de B, KB, MB, GB ou TB).")
    return text.strip()
