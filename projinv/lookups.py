"""`field__any=[...]`: `column = ANY(%s)` with the list as one array parameter.

`__in` writes one placeholder per value: at 30,000 new actuals the statement is 30,000 parameters
long and PostgreSQL compares them row by row inside a join (found by the large-invoice test).
An array is one parameter and plans like a join against a set.
"""

from django.db.models import Field, Lookup


@Field.register_lookup
class Any(Lookup):
    lookup_name = "any"
    prepare_rhs = False

    def get_prep_lookup(self):
        return [self.lhs.output_field.get_prep_value(value) for value in self.rhs]

    def process_rhs(self, compiler, connection):
        return "%s", [list(self.rhs)]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
