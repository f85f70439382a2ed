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


@pytest.fixture(scope="module", autouse=True)
def _release_compiled_code():
    """Drop JAX's in-memory executables after every test module.  Each compiled XLA:CPU program maps its
    code into the process (~5000 memory mappings for one P(k) solve), and an xdist worker that keeps every
    module's programs reaches the kernel's vm.max_map_count (65530): the next compilation then aborts.
    Later modules reload what they need from the persistent compilation cache."""
    yield
    import gc

    import jax

    jax.clear_caches()
    gc.collect()
