"""English for assertions on messages: the lead adds Chinese translations later, and the
default language is Simplified Chinese, so tests ask for English explicitly."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.utils import translation


@pytest.fixture
def english() -> Any:
    with translation.override("en"):
        yield


@pytest.fixture
def en_client(client: Any) -> Any:
    """A browser that chose English (language cookie), as a citizen would with the switch."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client

