"""The one Definitions object of the observatoire code location."""

import dagster as dg

from pipelines.ingest.assets import (
    public_reference_files,
    raw_assets,
    reference,
    staging_activity,
    staging_census,
    staging_followup,
)
from pipelines.publish.assets import dashboards, published_warehouse
from pipelines.quality.checks import checks
from pipelines.transform.assets import indicator_catalogue, indicator_values, mart_assets
from pipelines.warehouse import WarehouseResource

# DuckDB wants one writer and the default multiprocess executor re-imports everything per step
# (a toy night: 31–33 s against 7–10 s in process, DESIGN §8).
nightly = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="La nuit : dépôt → brut → typé → contrôles → indicateurs → publication → "
    "tableaux de bord.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_schedule",
    job=nightly,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Paris",
)

defs = dg.Definitions(
    assets=[
        reference,
        *raw_assets,
        staging_activity,
        staging_census,
        staging_followup,
        public_reference_files,
        *mart_assets,
        indicator_catalogue,
        indicator_values,
        published_warehouse,
        dashboards,
    ],
    asset_checks=checks,
    jobs=[nightly],
    schedules=[nightly_schedule],
    resources={"warehouse": WarehouseResource()},
)
