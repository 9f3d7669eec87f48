"""Rendering the repository's Jinja2 templates, purely, so every file can be unit-tested.

Roles render here and hand the text to pyinfra (`files.put`); an undefined
variable is an error, never an empty string in a config file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HEADER = "managed by bimkit — do not edit; changes are overwritten"


@cache
def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # config files, not HTML
    )


def render(name: str, **context: Any) -> str:
    """Render `templates/<name>` with `context`; every template may use `header`."""
    return environment().get_template(name).render(header=HEADER, **context)
