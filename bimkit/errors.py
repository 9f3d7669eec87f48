"""bimkit's errors: a flat tree; each message states the rule and names the things involved."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class BimkitError(Exception):
    """Base of every error bimkit reports to a user (exit status 1 or 2, never a traceback)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One broken rule in the admin's data, located by file and path inside it."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class EstateInvalid(BimkitError):
    """The data files break one or more rules; `problems` lists them all."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(set(problems))
        count = len(self.problems)
        lines = "\n".join(f"  {problem}" for problem in self.problems)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} in the estate data:\n{lines}")


class SecretsError(BimkitError):
    """A secret is unsafe or unreadable (never says its value)."""
