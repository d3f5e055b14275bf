from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BillingType
from .services.drafts import EDITABLE_BILLING_TYPES


class DetailForm(forms.Form):
    """What a project manager may change on a T&M invoice line detail of a draft (domain.md §2.6)."""

    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal(0), max_digits=14, decimal_places=4)
    price = forms.DecimalField(label=_("Price"), min_value=Decimal(0), max_digits=19, decimal_places=4)
    billing_type = forms.ChoiceField(label=_("Billing type"),
                                     choices=[(t, BillingType(t).label) for t in EDITABLE_BILLING_TYPES])
    tax = forms.DecimalField(label=_("Tax"), min_value=Decimal(0), max_digits=19, decimal_places=4,
                             initial=Decimal(0))
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class SplitForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False)
    split_percent = forms.DecimalField(label=_("Billing split %"), max_digits=7, decimal_places=4, required=False)
    is_rounding = forms.BooleanField(label=_("Takes the rounding"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Customer

        self.fields["customer"].queryset = Customer.objects.all()


SplitFormSet = forms.formset_factory(SplitForm, extra=3, max_num=10)
