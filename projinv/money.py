"""Money: `Decimal` amounts beside a currency code, rounded in one place.

Amounts are stored with 4 decimals (as Dataverse stores Money) and rounded to the currency's
minor unit with ROUND_HALF_UP. Set-based SQL rounds with the database function
`projinv_round_money(amount, currency)`, which the migrations create from the same table
below, so Python and SQL can never disagree.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.db import models

# Minor units per ISO 4217 code; anything not listed has 2.
MINOR_UNITS = {"JPY": 0, "KRW": 0, "ISK": 0, "BHD": 3, "KWD": 3, "OMR": 3, "TND": 3}
DEFAULT_MINOR_UNITS = 2


def minor_units(currency: str) -> int:
    return MINOR_UNITS.get(currency, DEFAULT_MINOR_UNITS)


def round_money(amount: Decimal, currency: str) -> Decimal:
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def round_money_sql_function() -> str:
    cases = " ".join(f"WHEN '{code}' THEN {units}" for code, units in sorted(MINOR_UNITS.items()))
    # PostgreSQL's round(numeric, int) rounds half away from zero: ROUND_HALF_UP for money.
    return (
        "CREATE OR REPLACE FUNCTION projinv_round_money(amount numeric, currency text) RETURNS numeric "
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT round(amount, CASE currency {cases} "
        f"ELSE {DEFAULT_MINOR_UNITS} END) $$"
    )


def MoneyField(verbose_name=None, **kwargs):  # noqa: N802 - reads like a field class
    """An amount; the row it is on always carries its currency."""
    kwargs.setdefault("default", Decimal("0"))
    return models.DecimalField(verbose_name, max_digits=19, decimal_places=4, **kwargs)


def CurrencyField(verbose_name=None, **kwargs):  # noqa: N802
    return models.CharField(verbose_name, max_length=3, **kwargs)
