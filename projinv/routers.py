"""Send each system's tables to its own database (design.md §3).

`default` is Dataverse (plus auth, sessions, admin, django-q and the Dataverse→finance outbox);
`finance` is the ERP (plus the finance→Dataverse outbox). No relation crosses the two.
"""

FINANCE = "finance"

# (app_label, model_name) pairs outside the `finance` app that live in the finance database.
FINANCE_MODELS = {("dualwrite", "financechange")}


def database_for(app_label: str, model_name: str) -> str:
    if app_label == "finance" or (app_label, model_name) in FINANCE_MODELS:
        return FINANCE
    return "default"


class SystemRouter:
    def db_for_read(self, model, **hints):
        return database_for(model._meta.app_label, model._meta.model_name)

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        return obj1._state.db == obj2._state.db

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if model_name is None:
            # Operations without a model (RunSQL/RunPython) say where they belong in hints.
            target = hints.get("target_db")
            if target is not None:
                return db == target
            return db == (FINANCE if app_label == "finance" else "default")
        return db == database_for(app_label, model_name)
