"""The host runtime's errors: each message names the host, the service or the file involved."""

from __future__ import annotations


class DrError(Exception):
    """Base of the errors `dr` reports (a tool exits non-zero with the message)."""
