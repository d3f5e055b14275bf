from django.core.management.base import BaseCommand

from projinv.dualwrite import demo


class Command(BaseCommand):
    help = "Load demo data into both systems and create one demo user per role (idempotent)."

    def handle(self, *args, **options):
        demo.load()
        logins = ", ".join(f"{u} ({r or 'superuser'})" for u, _f, _l, r in demo.USERS)
        self.stdout.write(f"Demo data ready. Logins (password '{demo.DEMO_PASSWORD}'): {logins}")
