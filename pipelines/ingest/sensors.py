"""The nightly schedule and the landing-folder sensor: both launch a planned night
(pipelines/ingest/plan.py), never a blind rebuild."""

import hashlib

import dagster as dg

from pipelines.ingest.plan import plan_night
from pipelines.settings import get_settings


@dg.schedule(
    name="nightly_schedule",
    job_name="nightly",
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Paris",
    description="Chaque nuit à 2 h : les mois d'activité nouveaux ou corrigés et ce qui en "
    "dépend, puis la publication.",
)
def nightly_schedule(context: dg.ScheduleEvaluationContext):
    return plan_night(get_settings()).run_request()


@dg.sensor(
    name="landing_sensor",
    job_name="nightly",
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="Lance une nuit dès que de nouveaux fichiers arrivent dans le dossier de dépôt "
    "(arrêté par défaut : à activer dans l'interface Dagster, onglet Automation).",
)
def landing_sensor(context: dg.SensorEvaluationContext):
    plan = plan_night(get_settings())
    if not any(plan.pending.values()):
        waiting = f" ; en attente : {', '.join(sorted(plan.deferred))}" if plan.deferred else ""
        return dg.SkipReason(f"Aucun nouveau fichier dans le dossier de dépôt{waiting}.")
    # the same new files start one night, not one per evaluation; a blocked night is retried by
    # the schedule, or as soon as a file changes
    run_key = hashlib.sha256(repr(sorted(
        (family, name) for family, names in plan.pending.items() for name in names
    )).encode() + plan.fingerprints["code"].encode()).hexdigest()
    request = plan.run_request()
    return dg.RunRequest(run_key=run_key, tags=request.tags,
                         asset_selection=request.asset_selection)
