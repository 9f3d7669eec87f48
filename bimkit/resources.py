"""Folders of the repository that bimkit reads at run time, wherever bimkit is installed.

In a checkout they are the repository's own (`templates/site`, `deploys/`);
a wheel carries them inside the `bimkit` package (pyproject's `package-dir`),
so nothing depends on the checkout's layout.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent if (PACKAGE.parent / "pyproject.toml").is_file() else None


def _folder(in_checkout: str, in_package: str) -> Path:
    return CHECKOUT / in_checkout if CHECKOUT is not None else PACKAGE / in_package


SITE_TEMPLATES = _folder("templates/site", "_site_templates")
"""bimkit's own site templates (a data folder's `templates/site/` comes first)."""
DEPLOYS = _folder("deploys", "_deploys")
"""One pyinfra deploy per device class, and `site.py` for all of them."""
INVENTORY = PACKAGE / "inventory_file.py"
"""The pyinfra inventory built from the estate (the checkout's inventory.py imports it)."""
