"""Rows the project itself keeps outside the apps: password-reset requests being counted."""

from django.db import models


class PasswordResetRequest(models.Model):
    """One password-reset request, counted against one client address or one email address.

    The limit in config.auth counts these rows, so every process and instance sees the same
    count through the database. Rows older than the window are deleted as new requests come.
    """

    # A SHA-256 of "client:<address>" or "email:<address>": the table holds no addresses.
    key = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["key", "at"], name="password_reset_key_at")]

    def __str__(self) -> str:
        return f"{self.key[:12]} at {self.at:%Y-%m-%d %H:%M:%S}"
