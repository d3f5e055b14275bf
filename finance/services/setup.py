"""Accounting set-up changes that span rows: enabling a legal entity for Project Operations, and
closing or reopening a fiscal period."""

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from ..models import (
    CostRevenueProfile,
    CostRevenueProfileRule,
    FiscalPeriod,
    IntegrationParameters,
    LegalEntity,
    LineProperty,
    ProjectCategory,
)

# code, name, chargeable, accrue revenue; and which billing types map to each (domain.md §2.0.2).
LINE_PROPERTIES = [
    ("CHARGEABLE", "Chargeable", True, True, ("chargeable", "not_specified")),
    ("NONCHARGE", "Non-chargeable", False, False, ("non_chargeable", "not_available")),
    ("COMPLIMENT", "Complimentary", False, False, ("complimentary",)),
]
# The four shared categories, one per transaction type (domain.md §2.0.4).
SHARED_CATEGORIES = [("Hour", "hour"), ("Expense", "expense"), ("Item", "item"), ("Fee", "fee")]


@transaction.atomic(using="finance")
def enable_project_operations(*, legal_entity: LegalEntity) -> IntegrationParameters:
    """Give a legal entity what Project Operations needs before its first import (D45): the four shared
    project categories, line properties mapped from the five billing types, the integration
    parameters, and a time-and-material and a fixed-price cost and revenue profile, each with a rule
    for all projects. Idempotent: what exists is left as the accountant set it."""
    properties = {}
    for code, name, chargeable, accrue, billing_types in LINE_PROPERTIES:
        prop, _created = LineProperty.objects.get_or_create(
            legal_entity=legal_entity, code=code,
            defaults={"name": name, "chargeable": chargeable, "accrue_revenue": accrue})
        properties.update(dict.fromkeys(billing_types, prop))
    categories = {}
    for code, category_type in SHARED_CATEGORIES:
        categories[category_type], _created = ProjectCategory.objects.get_or_create(
            legal_entity=legal_entity, code=code,
            defaults={"name": code, "category_type": category_type,
                      "item_tax_group": legal_entity.default_item_tax_group})
    parameters, _created = IntegrationParameters.objects.get_or_create(legal_entity=legal_entity, defaults={
        **{f"{billing_type}_line_property": prop for billing_type, prop in properties.items()},
        **{f"{category_type}_category": category for category_type, category in categories.items()},
    })
    if not legal_entity.cost_revenue_profiles.exists():
        accrues = {f"accrue_revenue_{kind}": True for kind in ("hour", "expense", "item", "fee")}
        for code, name, method, flags in (
                ("TM", "Time and material", CostRevenueProfile.BillingMethod.TIME_AND_MATERIAL, accrues),
                ("FP", "Fixed price", CostRevenueProfile.BillingMethod.FIXED_PRICE, {})):
            profile = CostRevenueProfile.objects.create(legal_entity=legal_entity, code=code, name=name,
                                                        billing_method=method, **flags)
            CostRevenueProfileRule.objects.create(legal_entity=legal_entity, profile=profile)
    return parameters


@transaction.atomic(using="finance")
def set_period_closed(*, period_id: int, closed: bool, by: str) -> FiscalPeriod:
    """Close or reopen a fiscal period. Closing affects what posts next; nothing posted moves."""
    period = FiscalPeriod.objects.select_for_update().select_related("legal_entity").get(pk=period_id)
    if period.closed == closed:
        raise DomainError(_("Period %(period)s is already %(state)s.") % {
            "period": period, "state": _("closed") if closed else _("open")})
    period.closed = closed
    period.save(update_fields=["closed"])
    return period


@transaction.atomic(using="finance")
def update_record(*, model, pk: int, values: dict, fields, by: str):
    """Change only `fields` of one finance record, to `values`, on the row as it stands now (locked).

    A set-up or master-data page's form was read before this; what it does not edit (a Dataverse upsert
    of a project's name, the status an import gave an on-account transaction) keeps its newest value.
    The record's own rules are checked again on the locked row: an on-account transaction's item sales
    tax group changes only while it is open (ValidationError otherwise).
    """
    fields = list(fields)
    record = model.objects.using("finance").select_for_update().get(pk=pk)
    for name in fields:
        setattr(record, name, values[name])
    record.full_clean(exclude=[f.name for f in model._meta.concrete_fields if f.name not in fields])
    record.save(using="finance", update_fields=fields)
    return record
