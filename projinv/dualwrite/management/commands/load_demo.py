from django.core.management.base import BaseCommand

from projinv.dualwrite import demo


class Command(BaseCommand):
    help = "Load demo data into both systems and create one demo user per role (idempotent)."

    def handle(self, *args, **options):
        demo.load()
        self.stdout.write("Demo data ready. Logins (password '%s'): %s" % (
            demo.DEMO_PASSWORD, ", ".join(f"{u} ({r or 'superuser'})" for u, _f, _l, r in demo.USERS)))
