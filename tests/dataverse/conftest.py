"""Fixtures of the Dataverse tests."""

import pytest

from dataverse.signals import master_data_changed


@pytest.fixture
def heard():
    """Every (entity, rows) the master-data signal carries, in order."""
    sent = []

    def receiver(sender, entity, rows, **kwargs):
        sent.append((entity, rows))

    master_data_changed.connect(receiver, dispatch_uid="test.heard")
    yield sent
    master_data_changed.disconnect(dispatch_uid="test.heard")
