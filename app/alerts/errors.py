"""The one error an invalid rule or setting raises: it names the field, and nothing is saved."""
from __future__ import annotations


class AlertInputError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field, self.message = field, message
