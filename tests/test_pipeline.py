"""The native JAX API: compute() under jit, jvp/jacfwd, grad and vmap; 100*theta_s as an input (IFT).

Compilation dominates the cost of these tests, so every test reuses one jitted JVP of the same
observables (module scope)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import boltzax
from boltzax.params import PLANCK18

PREC = "fast"


def _obs(p):
    res = boltzax.compute(p, PREC)
    return jnp.stack([res.background.angular_distance(1.0), res.thermo.theta_s_100, res.thermo.rs_d])


_obs_jvp = jax.jit(lambda p, t: jax.jvp(_obs, (p,), (t,)))


def _tangent(p, **fields):
    zero = jax.tree_util.tree_map(jnp.zeros_like, p)
    return zero.replace(**{k: jnp.asarray(v, dtype=jnp.float64) for k, v in fields.items()})


@pytest.fixture(scope="module")
def params():
    return boltzax.from_class_dict({**PLANCK18, "recombination": "recfast"})[0]


@pytest.mark.parametrize("name, eps", [("h", 1e-4), ("omega_b", 1e-6)])
def test_jvp_matches_finite_differences(params, name, eps):
    _, tangent = _obs_jvp(params, _tangent(params, **{name: 1.0}))
    x = getattr(params, name)
    fd = (_obs(params.replace(**{name: x + eps})) - _obs(params.replace(**{name: x - eps}))) / (2 * eps)
    np.testing.assert_allclose(tangent, fd, rtol=1e-4)


def test_vmap_over_cosmologies(params):
    hs = jnp.array([0.64, 0.70])
    batch = jax.tree_util.tree_map(lambda x: jnp.stack([x, x]), params).replace(h=hs)
    out = jax.vmap(_obs)(batch)
    for i, h in enumerate(hs):
        np.testing.assert_allclose(out[i], _obs(params.replace(h=h)), rtol=1e-10)


def test_theta_s_input_solves_h(params):
    theta = float(_obs(params)[1])
    p2, _ = boltzax.from_class_dict({**{k: v for k, v in PLANCK18.items() if k != "h"}, "100*theta_s": theta,
                                      "recombination": "recfast"})
    h, dh = jax.jvp(lambda t: boltzax.compute(p2.replace(theta_s_100=t), PREC).params.h, (p2.theta_s_100,),
                    (jnp.ones(()),))
    assert float(h) == pytest.approx(float(params.h), rel=1e-8)
    # implicit-function theorem: dh/dtheta = 1 / (dtheta/dh)
    _, dobs = _obs_jvp(params, _tangent(params, h=1.0))
    assert float(dh) == pytest.approx(1.0 / float(dobs[1]), rel=1e-6)
