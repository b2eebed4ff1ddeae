"""The project's own exceptions. Messages name the partner, file, row and column, and say what to do."""

from __future__ import annotations


class ZorgstroomError(Exception):
    """Base class of every error this project raises on purpose."""


class ConfigError(ZorgstroomError):
    """A configuration file (partner mapping, reference table, settings) is wrong."""


class SettingsError(ConfigError):
    """The environment is not set up for this deployment (for example no pseudonymisation key)."""


class DeliveryRejected(ZorgstroomError):
    """A delivery file cannot be read as a whole. `reason_code` is stable; the message is for the partner."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message
