"""Template tags through which both systems' pages show what the bridge knows, without importing it."""

from django import template

from ..models import InvariantCheck
from ..reconciliation import pipeline

register = template.Library()


@register.inclusion_tag("dualwrite/_pipeline.html")
def pipeline_tracker(invoice_number):
    """The invoice's way from confirmation to write-back, for the invoice pages of both sides."""
    return {"stages": pipeline(invoice_number), "number": invoice_number}


@register.inclusion_tag("dualwrite/_invariants.html")
def invariants_status():
    return {"check": InvariantCheck.objects.first()}
