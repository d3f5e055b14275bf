"""Upsert every periodic job by name (HackSoft's setup_periodic_tasks); safe to run on every start."""

from django.core.management.base import BaseCommand
from django_q.models import Schedule

SCHEDULES = {
    "finance.import_from_staging": {"func": "finance.tasks.import_from_staging", "minutes": 1},
    # Dataverse's recurring invoice job wakes every 24 h; hourly here, and each run date is run once.
    "dataverse.run_invoice_schedules": {"func": "dataverse.tasks.run_invoice_schedules", "minutes": 60},
    "dualwrite.sweep_outbox": {"func": "projinv.dualwrite.tasks.sweep_outbox", "minutes": 1},
    "dualwrite.prune_activity_log": {"func": "projinv.dualwrite.tasks.prune_activity_log", "minutes": 24 * 60},
    "dualwrite.check_invariants": {"func": "projinv.dualwrite.tasks.check_invariants", "minutes": 15},
}


class Command(BaseCommand):
    help = "Create or update the periodic jobs of projinv (django-q2 schedules), by name."

    def handle(self, *args, **options):
        for name, spec in SCHEDULES.items():
            Schedule.objects.update_or_create(
                name=name,
                defaults={"func": spec["func"], "schedule_type": Schedule.MINUTES, "minutes": spec["minutes"],
                          "repeats": -1},
            )
        self.stdout.write(f"{len(SCHEDULES)} schedules up to date.")
