"""The citizen's dashboard composes sections from each app.

An app registers a section (in its AppConfig.ready) with the template to include and a function
that builds that template's context from the user; the portal knows nothing of their content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accounts.models import User

SectionBuilder = Callable[[User], dict[str, Any]]


@dataclass(frozen=True)
class Section:
    template: str
    build: SectionBuilder
    order: int


_sections: list[Section] = []


def register_section(template: str, build: SectionBuilder, order: int = 50) -> None:
    if any(s.template == template for s in _sections):
        return
    _sections.append(Section(template, build, order))
    _sections.sort(key=lambda s: s.order)


def dashboard_context(user: User) -> dict[str, Any]:
    context: dict[str, Any] = {"person": user.person, "dashboard_sections": []}
    for section in _sections:
        context.update(section.build(user))
        context["dashboard_sections"].append(section.template)
    return context
