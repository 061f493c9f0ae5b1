"""A user's conftest: anyio runs its tests on asyncio."""

import pytest


@pytest.fixture
def anyio_backend():
    return "asyncio"
