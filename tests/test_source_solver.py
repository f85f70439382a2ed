"""Unit tests of the source solve's step selection and interpolation (perturbations/solver.py: step_nodes,
_hermite) against plain references."""

import numpy as np

import boltzax  # noqa: F401  (x64)
import jax.numpy as jnp

from boltzax.perturbations.solver import _hermite, step_nodes


def _greedy(tau, dmax, forced):
    """Plain-Python reference of step_nodes' rule."""
    node, last = [], tau[0]
    for j, t in enumerate(tau):
        nxt = tau[j + 1] if j + 1 < tau.size else tau[-1]
        n = bool(forced[j]) or (nxt - last > dmax[j])
        node.append(n)
        last = t if n else last
    return np.array(node)


def test_step_nodes_rule_and_spacing():
    """Nodes as the plain greedy rule; consecutive nodes at most alpha / rate apart unless the output grid
    itself is coarser; both ends of an interval holding a switch are nodes; first and last are nodes."""
    rng = np.random.default_rng(3)
    tau = np.cumsum(rng.uniform(0.1, 3.0, 300)) + 100.0
    lna = np.log(tau)  # any increasing map will do
    rate = 1.0 / rng.uniform(2.0, 40.0, tau.size)
    k_eff, alpha = 0.05, 0.4
    sw = np.array([[lna[50] + 1e-9, lna[200]], [lna[120] - 1e-9, lna[-1] + 1.0]])  # last: after the end
    node, dm = step_nodes(jnp.asarray(tau), jnp.asarray(rate), k_eff, alpha, jnp.asarray(sw), jnp.asarray(lna))
    node = np.asarray(node)
    dmax = alpha / np.sqrt(rate**2 + (k_eff / np.sqrt(3.0)) ** 2)
    np.testing.assert_allclose(np.asarray(dm), dmax, rtol=1e-14)
    forced = np.zeros(tau.size, bool)
    forced[[0, -1, 50, 51, 119, 120, 199, 200]] = True
    np.testing.assert_array_equal(node, _greedy(tau, dmax, forced))
    assert node[[0, -1, 50, 51, 119, 120, 199, 200]].all()
    idx = np.flatnonzero(node)
    for a, b in zip(idx[:-1], idx[1:]):
        assert b == a + 1 or tau[b - 1] - tau[a] <= dmax[b - 1] + 1e-12
    assert 10 < idx.size < tau.size  # it does skip outputs


def test_hermite_exact_on_cubics():
    """The interpolant reproduces a cubic (values and slopes at both ends) exactly, on vector states."""
    c = np.array([[0.3, -1.2, 0.7, 2.0], [1.0, 0.0, -0.5, 0.25]])
    p = lambda x: c[:, 0] + c[:, 1] * x + c[:, 2] * x**2 + c[:, 3] * x**3  # noqa: E731
    dp = lambda x: c[:, 1] + 2 * c[:, 2] * x + 3 * c[:, 3] * x**2  # noqa: E731
    xa, xb = -0.4, 1.3
    for x in np.linspace(xa, xb, 7):
        y = _hermite(xa, jnp.asarray(p(xa)), jnp.asarray(dp(xa)), xb, jnp.asarray(p(xb)), jnp.asarray(dp(xb)), x)
        np.testing.assert_allclose(np.asarray(y), p(x), rtol=1e-12, atol=1e-12)
