"""Shared fixtures: the demo world on both databases, and one logged-in client per persona."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from projinv.dualwrite import demo

BOTH = ["default", "finance"]
PERSONAS = ["pm", "accountant", "arclerk", "integration"]


@pytest.fixture
def world(django_db_blocker):
    """Demo master data on both sides, 4 entries per project (3 submitted, 2 approved by the PM)."""
    return demo.load(entries_per_project=4)


@pytest.fixture
def outsider(db):
    return User.objects.create_user("outsider", password="x")


@pytest.fixture
def as_user():
    def login(user):
        client = Client()
        client.force_login(user)
        return client

    return login
