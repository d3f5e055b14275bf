from django import forms
from django.utils.translation import gettext_lazy as _


class ProposalDatesForm(forms.Form):
    invoice_date = forms.DateField(label=_("Invoice date"))
    due_date = forms.DateField(label=_("Due date"), required=False,
                               help_text=_("Leave empty to take it from the terms of payment."))
