"""Unit tests of linear_esdirk's trace-time pieces against plain references (issue 12)."""

import numpy as np

import boltzax  # noqa: F401  (x64)
import jax
import jax.numpy as jnp

from boltzax.perturbations import PerturbationPrecision, tables_from_arrays
from boltzax.perturbations import linear_esdirk as le
from boltzax.perturbations.equations import Layout, derivs_core

PREC = PerturbationPrecision()
DATA = __file__.rsplit("/", 1)[0] + "/data_perturbations/"


def test_pattern_maps_match_jacobians():
    """The jitted sparsity probe (`_pattern_maps`) has the nonzero pattern of the Jacobians of the core
    right-hand side w.r.t. the state and the metric functionals (jax.jacfwd, one draw at a time)."""
    lay = Layout(PREC.l_max_g, PREC.l_max_pol, PREC.l_max_ur)
    d = dict(np.load(DATA + "lcdm.npz"))
    a2rho = {s: d["a2rho_" + s] for s in ("g", "b", "cdm", "ur", "lambda")}
    tab = tables_from_arrays(d["lna"], d["tau"], d["aH"], a2rho, d["dkappa"], d["cb2"])
    bg_shapes = {n: (None if v is None else np.shape(v)) for n, v in tab.at(jnp.zeros(())).items()}
    for mode in (0, 1):
        draws = [le._random_bg(bg_shapes, np.random.default_rng(s), K) for s, K in ((1, 0.0), (2, 3e-3))]
        ks = np.array([0.7, 1.3])
        bgs = jax.tree_util.tree_map(lambda *v: np.stack(v), *draws)
        maps = le._pattern_maps(bgs, ks, lay, mode)
        jy = jax.jit(jax.jacfwd(lambda y, m, k, bg: derivs_core(y, m, k, bg, lay, mode), argnums=(0, 1)))
        refA = np.zeros((lay.n_core, lay.n_core))
        refU = np.zeros((lay.n_core, lay.n_metric))
        for bg, k in zip(draws, ks):
            a, u = jy(jnp.zeros(lay.n_core), jnp.zeros(lay.n_metric), k, bg)
            refA += np.abs(np.asarray(a))
            refU += np.abs(np.asarray(u))
        np.testing.assert_array_equal(np.asarray(maps["A"]) != 0, refA != 0)
        np.testing.assert_array_equal(np.asarray(maps["U"]) != 0, refU != 0)


def test_zero_length_steps_are_skipped_exactly():
    """esdirk_scan: steps of zero length for the whole batch (skipped by lax.cond) leave the solution and the
    outputs at those nodes as without the skip (a small hierarchy, 3 modes, merged duplicate nodes). Not bitwise:
    an unskipped h = 0 step solves the stage system (I - 0 J) Y = y, which returns y only to ~1e-13."""
    lay = Layout(6, 4, 6)
    d = dict(np.load(DATA + "lcdm.npz"))
    a2rho = {s: d["a2rho_" + s] for s in ("g", "b", "cdm", "ur", "lambda")}
    tab = tables_from_arrays(d["lna"], d["tau"], d["aH"], a2rho, d["dkappa"], d["cb2"])
    from boltzax.perturbations.initial import adiabatic_ic

    k = jnp.array([0.01, 0.05, 0.2])
    x0 = float(tab.lna_of_tau(0.05))
    y0 = jax.vmap(lambda kk: adiabatic_ic(kk, 0.05, dict(tab.at(x0), tau=0.05), lay))(k)
    base = np.linspace(x0, -8.0, 41)
    nodes = np.sort(np.concatenate([base, base[[0, 10, 10, 25]]]))  # repeated nodes: zero-length steps
    grid = jnp.broadcast_to(jnp.asarray(nodes), (3, nodes.size))
    ts = jnp.broadcast_to(jnp.asarray(base[[0, 10, 25, 40]]), (3, 4))
    run = jax.jit(lambda skip: le.esdirk_scan(k, tab, lay, 0, grid, y0, ts, skip_empty=skip), static_argnums=0)
    (y1a, outs_a), (y1b, outs_b) = run(True), run(False)
    scale = np.max(np.abs(np.asarray(y1b)))
    np.testing.assert_allclose(np.asarray(y1a), np.asarray(y1b), rtol=0, atol=1e-11 * scale)
    np.testing.assert_allclose(np.asarray(outs_a), np.asarray(outs_b), rtol=0,
                               atol=1e-11 * np.max(np.abs(np.asarray(outs_b))))
    assert np.all(np.asarray(outs_a)[:, 0] == np.asarray(y0))  # the output at the first node
