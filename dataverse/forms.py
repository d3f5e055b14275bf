from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BillingType
from .services.drafts import EDITABLE_BILLING_TYPES, MANUAL_CLASSES


class DetailForm(forms.Form):
    """What a project manager may change on a T&M invoice line detail of a draft (domain.md §2.6)."""

    quantity = forms.DecimalField(label=_("Quantity"), min_value=Decimal(0), max_digits=14, decimal_places=4)
    price = forms.DecimalField(label=_("Price"), min_value=Decimal(0), max_digits=19, decimal_places=4)
    billing_type = forms.ChoiceField(label=_("Billing type"),
                                     choices=[(t, BillingType(t).label) for t in EDITABLE_BILLING_TYPES])
    tax = forms.DecimalField(label=_("Tax"), min_value=Decimal(0), max_digits=19, decimal_places=4,
                             initial=Decimal(0))
    description = forms.CharField(label=_("Description"), max_length=500, required=False)


class ManualDetailForm(forms.Form):
    """A detail added by hand to a line of a draft (domain.md §2.6); the service checks the rules."""

    invoice_line = forms.ModelChoiceField(label=_("Invoice line"), queryset=None)
    transaction_class = forms.ChoiceField(label=_("Class"), choices=[])
    role = forms.ModelChoiceField(label=_("Role (time)"), queryset=None, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False)
    transaction_date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    # No min_value: the service refuses zero and negatives with the message the tests pin down.
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=4)
    price = forms.DecimalField(label=_("Price"), max_digits=19, decimal_places=4)
    billing_type = forms.ChoiceField(label=_("Billing type"),
                                     choices=[(t, BillingType(t).label) for t in EDITABLE_BILLING_TYPES])
    tax = forms.DecimalField(label=_("Tax"), max_digits=19, decimal_places=4, initial=Decimal(0), required=False)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)

    def __init__(self, *args, invoice, **kwargs):
        super().__init__(*args, **kwargs)
        m = _models()
        self.fields["invoice_line"].queryset = m.InvoiceLine.objects.filter(invoice=invoice).select_related(
            "contract_line")
        self.fields["invoice_line"].label_from_instance = lambda line: line.contract_line.name
        self.fields["transaction_class"].choices = [(c, m.TransactionClass(c).label) for c in MANUAL_CLASSES]
        self.fields["role"].queryset = m.ResourceRole.objects.order_by("name")
        self.fields["category"].queryset = m.TransactionCategory.objects.order_by("name")


class SplitForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False)
    split_percent = forms.DecimalField(label=_("Billing split %"), max_digits=7, decimal_places=4, required=False)
    is_rounding = forms.BooleanField(label=_("Takes the rounding"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import Customer

        self.fields["customer"].queryset = Customer.objects.all()


SplitFormSet = forms.formset_factory(SplitForm, extra=3, max_num=10)


def _models():
    from . import models

    return models


class EntryForm(forms.Form):
    """A new expense, material or fee entry (a draft until submitted)."""

    transaction_class = forms.ChoiceField(label=_("Class"), choices=[])
    category = forms.ModelChoiceField(label=_("Category"), queryset=None)
    project = forms.ModelChoiceField(label=_("Project"), queryset=None)
    task = forms.ModelChoiceField(label=_("Task"), queryset=None, required=False)
    resource = forms.ModelChoiceField(label=_("Resource"), queryset=None, required=False)
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    # No min_value here: the service refuses zero and negatives with the message the tests pin down.
    quantity = forms.DecimalField(label=_("Quantity"), max_digits=14, decimal_places=4)
    description = forms.CharField(label=_("Description"), max_length=500, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        m = _models()
        self.fields["transaction_class"].choices = m.Entry.CLASSES
        self.fields["category"].queryset = m.TransactionCategory.objects.exclude(transaction_class="time")
        self.fields["project"].queryset = m.Project.objects.all()
        self.fields["task"].queryset = m.ProjectTask.objects.select_related("project")
        self.fields["resource"].queryset = m.Resource.objects.all()


class ContractLineForm(forms.Form):
    """A contract line: what it bills and what of it is chargeable (domain.md §3.1)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    project = forms.ModelChoiceField(label=_("Project"), queryset=None)
    billing_method = forms.ChoiceField(label=_("Billing method"), choices=[])
    included_tasks = forms.ChoiceField(label=_("Included tasks"), choices=[])
    include_time = forms.BooleanField(label=_("Include time"), required=False)
    include_expense = forms.BooleanField(label=_("Include expense"), required=False)
    include_material = forms.BooleanField(label=_("Include material"), required=False)
    include_fee = forms.BooleanField(label=_("Include fee"), required=False)
    contracted_amount = forms.DecimalField(label=_("Contracted amount (fixed price)"), max_digits=19,
                                           decimal_places=4, required=False)
    tasks = forms.ModelMultipleChoiceField(label=_("Selected tasks"), queryset=None, required=False,
                                           help_text=_("The tasks the line bills, when it has selected tasks only."))
    non_chargeable_tasks = forms.ModelMultipleChoiceField(label=_("Non-chargeable tasks"), queryset=None,
                                                          required=False)
    non_chargeable_roles = forms.ModelMultipleChoiceField(label=_("Non-chargeable roles (time)"), queryset=None,
                                                          required=False)
    non_chargeable_categories = forms.ModelMultipleChoiceField(
        label=_("Non-chargeable categories (expenses)"), queryset=None, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        m = _models()
        self.fields["project"].queryset = m.Project.objects.all()
        self.fields["billing_method"].choices = m.ContractLine.BillingMethod.choices
        self.fields["included_tasks"].choices = m.ContractLine.IncludedTasks.choices
        tasks = m.ProjectTask.objects.select_related("project").order_by("project__number", "name")
        self.fields["tasks"].queryset = self.fields["non_chargeable_tasks"].queryset = tasks
        self.fields["non_chargeable_roles"].queryset = m.ResourceRole.objects.order_by("name")
        self.fields["non_chargeable_categories"].queryset = m.TransactionCategory.objects.filter(
            transaction_class="expense")
        for name in ("tasks", "non_chargeable_tasks"):
            self.fields[name].label_from_instance = lambda task: f"{task.project.number} – {task.name}"

    @staticmethod
    def initial_for(line) -> dict:
        tasks = list(line.line_tasks.all())
        non_chargeable = "non_chargeable"
        return {
            "name": line.name, "project": line.project_id, "billing_method": line.billing_method,
            "included_tasks": line.included_tasks, "include_time": line.include_time,
            "include_expense": line.include_expense, "include_material": line.include_material,
            "include_fee": line.include_fee, "tasks": [t.task_id for t in tasks],
            "contracted_amount": line.contracted_amount,
            "non_chargeable_tasks": [t.task_id for t in tasks if t.billing_type == non_chargeable],
            "non_chargeable_roles": [r.role_id for r in line.line_roles.all() if r.billing_type == non_chargeable],
            "non_chargeable_categories": [c.category_id for c in line.line_categories.all()
                                          if c.billing_type == non_chargeable],
        }

    def service_arguments(self) -> dict:
        """The cleaned form as save_contract_line takes it: (id, billing type) pairs per rule."""
        data = self.cleaned_data
        nc_tasks = {t.pk for t in data["non_chargeable_tasks"]}
        task_ids = {t.pk for t in data["tasks"]} | nc_tasks
        return {
            "name": data["name"], "project_id": data["project"].pk, "billing_method": data["billing_method"],
            "included_tasks": data["included_tasks"],
            **{f"include_{c}": data[f"include_{c}"] for c in ("time", "expense", "material", "fee")},
            "contracted_amount": data["contracted_amount"],
            "tasks": [(pk, "non_chargeable" if pk in nc_tasks else "chargeable") for pk in sorted(task_ids)],
            "roles": [(r.pk, "non_chargeable") for r in data["non_chargeable_roles"]],
            "categories": [(c.pk, "non_chargeable") for c in data["non_chargeable_categories"]],
        }


class TransactionCategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    transaction_class = forms.ChoiceField(label=_("Class"), choices=[])
    unit = forms.CharField(label=_("Unit"), max_length=10, initial="each")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transaction_class"].choices = _models().TransactionCategory.CLASSES


class PriceForm(forms.Form):
    """The price of one role or one category on the list (give one of the two)."""

    role = forms.ModelChoiceField(label=_("Role"), queryset=None, required=False)
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, required=False)
    price = forms.DecimalField(label=_("Unit price"), max_digits=19, decimal_places=4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        m = _models()
        self.fields["role"].queryset = m.ResourceRole.objects.order_by("name")
        self.fields["category"].queryset = m.TransactionCategory.objects.all()


class ContractForm(forms.Form):
    """The header of a contract: the currency is shown, never edited (locked after save)."""

    name = forms.CharField(label=_("Name"), max_length=200)
    sales_price_list = forms.ModelChoiceField(label=_("Price list"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sales_price_list"].queryset = _models().PriceList.objects.all()


class MilestoneForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Milestone"), max_length=200, required=False)
    milestone_date = forms.DateField(label=_("Date"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # No min_value: the service says what is wrong with an amount (and changes nothing).
    amount = forms.DecimalField(label=_("Amount"), max_digits=19, decimal_places=4, required=False)
    tax = forms.DecimalField(label=_("Tax"), max_digits=19, decimal_places=4, required=False)


MilestoneFormSet = forms.formset_factory(MilestoneForm, extra=2, max_num=50)


def milestone_rows(formset) -> list[dict]:
    """The filled-in rows of a valid milestone formset, as set_milestones takes them."""
    return [{"id": f["id"], "name": f["name"], "milestone_date": f["milestone_date"], "amount": f["amount"],
             "tax": f["tax"] or Decimal(0)}
            for f in formset.cleaned_data if f and (f.get("name") or f.get("amount") is not None)]


class NewContractForm(forms.Form):
    """A new contract, created as a draft; its sales currency is fixed from then on."""

    number = forms.CharField(label=_("Contract ID"), max_length=20)
    name = forms.CharField(label=_("Name"), max_length=200)
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    legal_entity = forms.CharField(label=_("Owning company"), max_length=10)
    currency = forms.CharField(label=_("Sales currency"), max_length=3)
    sales_price_list = forms.ModelChoiceField(label=_("Price list"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        m = _models()
        self.fields["customer"].queryset = m.Customer.objects.all()
        self.fields["sales_price_list"].queryset = m.PriceList.objects.all()


class ResourceRoleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)


class ResourceForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    role = forms.ModelChoiceField(label=_("Default role"), queryset=None)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].queryset = _models().ResourceRole.objects.order_by("name")
