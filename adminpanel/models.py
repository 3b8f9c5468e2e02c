"""The staff console has no tables of its own; this model only carries its permissions."""

from __future__ import annotations

from django.db import models


class StaffConsole(models.Model):
    """Holds `adminpanel.reveal_message`: staff with it may read one message of a call in the
    inspector (each reveal is audited). Staff without it see every trace, never the text."""

    class Meta:
        managed = False  # no table: permissions only
        default_permissions = ()
        permissions = [("reveal_message", "Can reveal one message's text in the inspector")]

    def __str__(self) -> str:
        return "Staff console"
