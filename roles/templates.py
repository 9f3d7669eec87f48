"""Rendering the roles' Jinja2 templates, purely, so every file can be unit-tested.

A role keeps its templates in `roles/<role>/templates/`; `render("base/hosts.j2")`
renders `roles/base/templates/hosts.j2`. Roles hand the text to pyinfra
(`files.put`); an undefined variable is an error, never an empty string in a
config file.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

ROLES = Path(__file__).resolve().parent
HEADER = "managed by bimkit — do not edit; changes are overwritten"


@cache
def environment() -> jinja2.Environment:
    loaders: dict[str, jinja2.BaseLoader] = {
        folder.parent.name: jinja2.FileSystemLoader(folder)
        for folder in sorted(ROLES.glob("*/templates"))
    }
    return jinja2.Environment(
        loader=jinja2.PrefixLoader(loaders),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # config files, not HTML
    )


def render(name: str, **context: Any) -> str:
    """Render `<role>/<template>` with `context`; every template may use `header`."""
    return environment().get_template(name).render(header=HEADER, **context)
