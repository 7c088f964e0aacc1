"""The one Definitions object of the observatoire code location."""

import dagster as dg

from pipelines.access.assets import gp_accessibility
from pipelines.ingest.assets import (
    night_plans,
    public_reference_files,
    raw_assets,
    reference,
    staging_activity,
    staging_census,
    staging_followup,
)
from pipelines.ingest.sensors import landing_sensor, nightly_schedule
from pipelines.publish.assets import dashboards, published_warehouse
from pipelines.quality.checks import checks
from pipelines.transform.assets import (
    followup_communes,
    indicator_catalogue,
    indicator_values,
    mart_assets,
    staging_activity_years,
)
from pipelines.warehouse import WarehouseResource

# DuckDB wants one writer and the default multiprocess executor re-imports everything per step
# (a toy night: 31–33 s against 7–10 s in process, DESIGN §8).
nightly = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="La nuit : dépôt → brut → typé → contrôles → indicateurs → publication → "
    "tableaux de bord. Lancée par `observatoire run`, le planning ou le capteur du dossier de "
    "dépôt, elle ne refait que les mois d'activité nouveaux ou corrigés et ce qui en dépend "
    "(pipelines/ingest/plan.py).",
)

defs = dg.Definitions(
    assets=[
        reference,
        night_plans,
        *raw_assets,
        staging_activity,
        staging_census,
        staging_followup,
        staging_activity_years,
        followup_communes,
        public_reference_files,
        gp_accessibility,
        *mart_assets,
        indicator_catalogue,
        indicator_values,
        published_warehouse,
        dashboards,
    ],
    asset_checks=checks,
    jobs=[nightly],
    schedules=[nightly_schedule],
    sensors=[landing_sensor],
    resources={"warehouse": WarehouseResource()},
)
