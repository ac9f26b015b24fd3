"""Django admin widgets made valid HTML (the Nu checker) and named for assistive technology (axe).

Django's autocomplete select renders an empty ``<option value=""></option>`` when the field is
optional (an empty option is invalid HTML) and no empty option at all when it is required (a
required single select must start with an empty-valued option). Here the empty option is always
there and says "---------", as Django's plain selects do. Select2 still shows its placeholder
for it and never offers it in the search results. ``static/js/admin.js`` gives Select2's combobox
the field's label as its name.
"""

from __future__ import annotations

from typing import Any

from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models.fields import BLANK_CHOICE_DASH

BLANK_LABEL = BLANK_CHOICE_DASH[0][1]


class AutocompleteSelectWithBlank(AutocompleteSelect):
    """An autocomplete select whose first option is an empty choice with a label."""

    def optgroups(self, name: str, value: Any, attr: Any = None) -> list[Any]:
        groups: list[Any] = super().optgroups(name, value, attr)
        options = groups[0][1]
        if options and options[0]["value"] == "":
            options[0]["label"] = BLANK_LABEL
        else:
            options.insert(0, self.create_option(name, "", BLANK_LABEL, False, 0))
        return groups
