"""Issue 13 tests share the pooling factories."""

from tests.pooling.conftest import *  # noqa: F403
