"""Resource roles and bookable resources: their pages and their rules (D73)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dataverse.models import Resource, ResourceRole
from dataverse.services import resources
from projinv.domain import DomainError

pytestmark = pytest.mark.django_db(databases=["default", "finance"])


def test_it_creates_and_renames_a_role_no_actual_carries(world):
    role = resources.save_resource_role(name="  Tester ", by=world["pm"])
    assert role.name == "Tester"
    assert resources.save_resource_role(name="QA lead", role_id=role.pk, by=world["pm"]).name == "QA lead"


@pytest.mark.parametrize(("name", "message"), [("", "needs a name"), ("Architect", "already a role")])
def test_it_refuses_a_bad_role_name(world, name, message):
    with pytest.raises(DomainError, match=message):
        resources.save_resource_role(name=name, by=world["pm"])
    assert ResourceRole.objects.count() == 2


def test_it_keeps_the_name_of_a_role_on_actuals_but_moves_a_resources_default_role(world):
    consultant, architect = ResourceRole.objects.get(name="Consultant"), ResourceRole.objects.get(name="Architect")
    with pytest.raises(DomainError, match="keeps its name"):
        resources.save_resource_role(name="Senior consultant", role_id=consultant.pk, by=world["pm"])
    alice = Resource.objects.get(name="Alice Consultant")
    with pytest.raises(DomainError, match="keeps its name"):
        resources.save_resource(name="Alice", role_id=consultant.pk, resource_id=alice.pk, by=world["pm"])
    resources.save_resource(name=alice.name, role_id=architect.pk, resource_id=alice.pk, by=world["pm"])
    assert Resource.objects.get(pk=alice.pk).role == architect
    assert ResourceRole.objects.get(pk=consultant.pk).name == "Consultant"


def test_it_refuses_a_resource_without_a_role(world):
    with pytest.raises(DomainError, match="default role"):
        resources.save_resource(name="Carol", role_id=None, by=world["pm"])
    assert not Resource.objects.filter(name="Carol").exists()


def test_it_lists_and_edits_roles_and_resources_on_their_pages(world, as_user):
    client = as_user(world["pm"])
    assert client.post(reverse("dataverse:role_create"), {"name": "Tester"}).status_code == 302
    tester = ResourceRole.objects.get(name="Tester")
    response = client.post(reverse("dataverse:resource_create"), {"name": "Carol Tester", "role": tester.pk})
    assert response.status_code == 302 and Resource.objects.get(name="Carol Tester").role == tester
    assert "Carol Tester" in client.get(reverse("dataverse:resources")).content.decode()
    assert "Tester" in client.get(reverse("dataverse:roles")).content.decode()
    refused = client.post(reverse("dataverse:role_edit", args=[tester.pk]), {"name": "Architect"})
    assert "already a role" in refused.content.decode() and ResourceRole.objects.get(pk=tester.pk).name == "Tester"


def test_it_lists_them_in_a_constant_number_of_queries(world, as_user):
    client = as_user(world["pm"])

    def count(url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse(url)).status_code == 200
        return len(queries)

    before = {url: count(url) for url in ("dataverse:roles", "dataverse:resources")}
    for i in range(5):
        role = ResourceRole.objects.create(name=f"Role {i}")
        Resource.objects.create(name=f"Person {i}", role=role)
    assert {url: count(url) for url in before} == before


def test_it_keeps_a_carried_name_read_only_in_the_admin_too(world, as_user):
    from django.contrib.auth.models import User

    client = as_user(User.objects.get(username="admin"))
    consultant = ResourceRole.objects.get(name="Consultant")
    url = reverse("admin:dataverse_resourcerole_change", args=[consultant.pk])
    client.post(url, {"name": "Senior consultant"})
    assert ResourceRole.objects.get(pk=consultant.pk).name == "Consultant"
    tester = ResourceRole.objects.create(name="Tester")
    response = client.post(reverse("admin:dataverse_resourcerole_change", args=[tester.pk]), {"name": "QA"})
    assert response.status_code == 302 and ResourceRole.objects.get(pk=tester.pk).name == "QA"
