from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from projinv.dualwrite.invariants import check_invariants


class Command(BaseCommand):
    help = "Check the whole-system invariants across both databases; exit non-zero on any violation."

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=settings.DUALWRITE["STUCK_MINUTES"],
                            help="Leave alone work younger than this (still in flight).")

    def handle(self, *args, grace_minutes, **options):
        result = check_invariants(grace_minutes=grace_minutes, triggered_by="command")
        if result.ok:
            self.stdout.write("All invariants hold.")
            return
        for v in result.violations:
            self.stdout.write(f"{v['rule']}: {v['count']} — e.g. {', '.join(v['examples'][:5])}")
        raise CommandError(f"{len(result.violations)} invariant(s) violated.")
