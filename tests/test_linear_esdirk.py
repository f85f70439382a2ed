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
