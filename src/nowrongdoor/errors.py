"""Domain errors, mapped once to HTTP responses (``nowrongdoor.web.errors`` / ``api``)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service or selector raises on purpose."""


class NotFound(DomainError):
    """No such object, or the actor may not know it exists (the two look the same)."""


class AccessDenied(DomainError):
    """The access decision refused; the refusal is already in the audit log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StaleEdit(DomainError):
    """Someone else changed the record since it was read; nothing was overwritten."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"the record was changed by someone else (now at version {current_version})")
        self.current_version = current_version


class ValidationFailed(DomainError):
    """Input broke a rule; ``errors`` maps each field to what is wrong with it."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class Immutable(DomainError):
    """The record is final (e.g. a completed screening); corrections are new records."""
