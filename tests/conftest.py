"""Shared fixtures: the CLASS reference data (tests/reference/*.npz, written by tools/make_reference.py)."""

import pytest

from boltzax.testing import list_references, load_reference

REFERENCE_NAMES = list_references()


@pytest.fixture(scope="session")
def reference_names():
    if not REFERENCE_NAMES:
        pytest.skip("no reference data: run tools/make_reference.py")
    return REFERENCE_NAMES


@pytest.fixture(scope="session")
def reference():
    """Loader with a cache: ``reference(name) -> dict of arrays``."""
    cache: dict = {}

    def get(name: str) -> dict:
        if name not in cache:
            cache[name] = load_reference(name)
        return cache[name]

    return get
