"""Exceptions shared by both systems: a business rule refused what was asked.

Views turn these into a message for the user; nothing was changed when one is raised.
"""


class DomainError(Exception):
    """A request that the rules refuse. The message is shown to the user as it is."""


class InvalidTransition(DomainError):
    """A record is not in a state that allows the move (confirming a confirmed invoice)."""
