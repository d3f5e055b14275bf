"""Resource roles and bookable resources (domain.md §3.1): who records time, and the role it is
priced and reported by. Neither is a master-data map of its own: actuals carry their names (D73)."""

from django.db import transaction
from django.utils.translation import gettext as _

from projinv.domain import DomainError

from ..models import Actual, Resource, ResourceRole


@transaction.atomic
def save_resource_role(*, name: str, by, role_id: int | None = None) -> ResourceRole:
    """Create a role, or rename one that no actual carries yet (finance has actuals' role by name)."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A role needs a name."))
    if ResourceRole.objects.filter(name=name).exclude(pk=role_id).exists():
        raise DomainError(_("There is already a role %(name)s.") % {"name": name})
    if role_id is None:
        return ResourceRole.objects.create(name=name)
    role = ResourceRole.objects.select_for_update().get(pk=role_id)
    if name != role.name and Actual.objects.filter(role=role).exists():
        raise DomainError(_("Role %(name)s is on actuals already sent to finance by name: it keeps its name.")
                          % {"name": role.name})
    role.name = name
    role.save(update_fields=["name"])
    return role


@transaction.atomic
def save_resource(*, name: str, role_id: int | None, by, resource_id: int | None = None) -> Resource:
    """Create a resource or change it: its default role at any time (it prices entries still to come),
    its name only while no actual carries it."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("A resource needs a name."))
    if role_id is None or not ResourceRole.objects.filter(pk=role_id).exists():
        raise DomainError(_("Choose the resource's default role."))
    if resource_id is None:
        return Resource.objects.create(name=name, role_id=role_id)
    resource = Resource.objects.select_for_update().get(pk=resource_id)
    if name != resource.name and Actual.objects.filter(resource=resource).exists():
        raise DomainError(_("Resource %(name)s is on actuals already sent to finance by name: it keeps its name.")
                          % {"name": resource.name})
    resource.name, resource.role_id = name, role_id
    resource.save(update_fields=["name", "role"])
    return resource
