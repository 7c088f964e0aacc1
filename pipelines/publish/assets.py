"""Publication: stamp and document the night's file, fold the run log into it, swap it over the
published path, render the dashboards."""

import dagster as dg

from pipelines import nights
from pipelines.ingest.public_files import PUBLIC_FORMATS
from pipelines.ingest.raw import landing_files
from pipelines.locks import retry_on_lock
from pipelines.publish.documentation import apply_comments, create_views
from pipelines.warehouse import WarehouseResource, crash_point

PUBLISHED_INPUTS = [
    ["marts", "indicator_values"],
    ["marts", "census_projects"],
    ["marts", "followup_criteria"],
    ["marts", "category_labels"],
    ["marts", "indicator_catalogue"],
    # public reference snapshots: a refused FINESS or ameli file must stop publication too
    *(["staging", fmt.table] for fmt in PUBLIC_FORMATS),
    # the plan is written into the night's file: a night with nothing new to load runs only
    # this, publication and dashboards, and the plan must land before the swap
    ["raw", "night_plans"],
]


def _demo_activity(settings) -> bool:
    """The dashboards carry the synthetic-data banner whenever an activity file says so."""
    return any((f.parent / "LISEZMOI.txt").exists() for f in landing_files(settings.landing,
                                                                              "activity"))


@dg.asset(
    key=["publish", "warehouse"],
    group_name="publish",
    deps=PUBLISHED_INPUTS,
    description="Crée les vues des analystes (models/views/), écrit le journal des nuits "
    "(audit.nights) et les commentaires (models/comments.yaml), puis remplace atomiquement "
    "var/warehouse/observatoire.duckdb par le fichier de la nuit, une fois tous les contrôles "
    "bloquants passés ; garde la version publiée dans var/warehouse/versions/.",
)
def published_warehouse(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    settings = warehouse.settings
    with warehouse.connect(context) as con:
        con.execute(
            """CREATE OR REPLACE TABLE marts.publication AS
               SELECT current_timestamp::TIMESTAMP AS published_at, ? AS night_id,
                      ? AS demo_activity""",
            [context.run_id, _demo_activity(settings)],
        )
        history = nights.fold_into(con, settings, context.instance, context.run_id)
        views = create_views(con)
        comments = apply_comments(con)
    if comments.uncommented:
        context.log.warning(
            "Sans commentaire (à décrire dans models/comments.yaml) : "
            + ", ".join(comments.uncommented)
        )
    if comments.unknown:
        context.log.warning(
            "Absents de l'entrepôt mais décrits dans models/comments.yaml : "
            + ", ".join(comments.unknown)
        )
    path = warehouse.publish(context)
    return dg.MaterializeResult(
        metadata={
            "path": str(path),
            "bytes": path.stat().st_size,
            "views": dg.MetadataValue.json(views),
            "uncommented": dg.MetadataValue.json(comments.uncommented),
            "nights_in_history": history["nights"],
        }
    )


@dg.asset(
    key=["publish", "dashboards"],
    group_name="dashboards",
    deps=[["publish", "warehouse"]],
    description="Tableaux de bord HTML statiques (var/dashboards/index.html), lus depuis "
    "l'entrepôt publié.",
)
def dashboards(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    from dashboards.render import render_site

    settings = warehouse.settings
    pages = retry_on_lock(lambda: render_site(settings.warehouse_path, settings.dashboards_dir),
                          "lecture de l'entrepôt publié", context.log.warning)
    crash_point("dashboards:rendered")
    return dg.MaterializeResult(
        metadata={"index": str(settings.dashboards_dir / "index.html"), "files": len(pages)}
    )
