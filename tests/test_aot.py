"""Stored serialised programs (`boltzax.aot`, issue 12 start-up): an eager call runs the stored program and
gives the jitted function's result, the key separates static settings and pytree structure, traced calls
fall back to the caller's jit (so grad/vmap are untouched), and a corrupt file is re-exported."""

from __future__ import annotations

import glob
import os

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from boltzax import aot


class Toy(eqx.Module):
    a: jax.Array
    b: jax.Array
    mode: str = eqx.field(static=True, default="sin")


def _fn(t: Toy, x, scale: float):
    f = jnp.sin if t.mode == "sin" else jnp.cos
    return {"y": scale * f(t.a * x) + t.b, "n": jnp.sum(x)}


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("BOLTZAX_CACHE_DIR", str(tmp_path / "jax"))
    monkeypatch.setattr(aot, "_PROGRAMS", {})
    return tmp_path / "jax" / "boltzax-export"


def _call(t, x, scale):
    return aot.call("toy", lambda t_, x_: _fn(t_, x_, scale), (t, x), repr(scale))


def test_stored_program_equals_jit_and_is_reused(store):
    t, x = Toy(jnp.asarray(2.0), jnp.asarray(0.5)), jnp.linspace(0, 1, 7)
    out = _call(t, x, 3.0)
    ref = jax.jit(_fn, static_argnums=2)(t, x, 3.0)
    np.testing.assert_array_equal(out["y"], ref["y"])
    assert float(out["n"]) == float(ref["n"])
    files = glob.glob(str(store / "toy-*.jaxexport"))
    assert len(files) == 1
    aot._PROGRAMS.clear()  # a "new process": the program comes from the file
    again = _call(Toy(jnp.asarray(1.0), jnp.asarray(0.0)), x, 3.0)
    np.testing.assert_allclose(again["y"], 3.0 * np.sin(np.asarray(x)), rtol=1e-15)
    assert len(glob.glob(str(store / "toy-*.jaxexport"))) == 1


def test_key_separates_static_settings_structure_and_shapes(store):
    t, x = Toy(jnp.asarray(2.0), jnp.asarray(0.5)), jnp.linspace(0, 1, 7)
    _call(t, x, 3.0)
    _call(t, x, 4.0)  # other static repr
    out = _call(Toy(t.a, t.b, mode="cos"), x, 3.0)  # other static field in the pytree
    np.testing.assert_allclose(out["y"], 3.0 * np.cos(2.0 * np.asarray(x)) + 0.5, rtol=1e-15)
    _call(t, jnp.linspace(0, 1, 9), 3.0)  # other shape
    assert len(glob.glob(str(store / "toy-*.jaxexport"))) == 4


def test_traced_calls_use_the_jit_path(store):
    t, x = Toy(jnp.asarray(2.0), jnp.asarray(0.5)), jnp.linspace(0, 1, 7)

    def loss(a):
        out = _call(Toy(a, t.b), x, 3.0)
        assert out is None  # tracers: the caller runs its own jitted function
        return jnp.sum(_fn(Toy(a, t.b), x, 3.0)["y"])

    g = jax.grad(loss)(2.0)
    np.testing.assert_allclose(g, np.sum(3.0 * np.cos(2.0 * np.asarray(x)) * np.asarray(x)), rtol=1e-12)
    assert not glob.glob(str(store / "toy-*.jaxexport"))


def test_corrupt_file_is_exported_again(store):
    t, x = Toy(jnp.asarray(2.0), jnp.asarray(0.5)), jnp.linspace(0, 1, 7)
    _call(t, x, 3.0)
    (path,) = glob.glob(str(store / "toy-*.jaxexport"))
    with open(path, "wb") as fh:
        fh.write(b"not a program")
    aot._PROGRAMS.clear()
    out = _call(t, x, 3.0)
    np.testing.assert_allclose(out["y"], 3.0 * np.sin(2.0 * np.asarray(x)) + 0.5, rtol=1e-15)
    assert os.path.getsize(path) > 100


def test_disabled(monkeypatch, store):
    monkeypatch.setenv("BOLTZAX_AOT", "off")
    assert aot.call("toy", lambda t_: t_.a, (Toy(jnp.asarray(1.0), jnp.asarray(0.0)),), "") is None


def test_release_if_crowded(store):
    """Above the mapping threshold the in-memory programs are dropped (long runs over many structures stay
    below vm.max_map_count), and the next call reloads the stored program with the same result."""
    t, x = Toy(jnp.asarray(2.0), jnp.asarray(0.5)), jnp.linspace(0, 1, 7)
    first = _call(t, x, 3.0)["y"]
    n = aot.map_count()
    if n is None:
        pytest.skip("no /proc/self/maps on this platform")
    assert 0 < n and aot.max_map_count() > 0
    assert not aot.release_if_crowded(fraction=1e9)  # far below any threshold: nothing released
    before = aot.releases()
    assert aot.release_if_crowded(fraction=0.0)
    assert aot.releases() == before + 1 and not aot._PROGRAMS
    np.testing.assert_array_equal(_call(t, x, 3.0)["y"], first)


def test_compiled_since_last_check():
    """Class.compute reads /proc/self/maps only after an executable was compiled or loaded."""
    aot.compiled_since_last_check()
    assert not aot.compiled_since_last_check()  # nothing compiled in between
    jax.jit(lambda v: v * 3.25 + 0.5)(jnp.arange(5.0))  # a new program: one backend compile event
    assert aot.compiled_since_last_check()
    assert not aot.compiled_since_last_check()
