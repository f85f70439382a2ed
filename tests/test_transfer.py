"""Transfer functions (classy get_transfer's quantities, synchronous gauge) and the scale-dependent growth rate
f(k, z) against CLASS v3.4.1 (tests/reference `tk` and `pk` families), at three cosmologies: one massive
neutrino, w0wa crossing -1 (PPF dark-energy perturbations), negative curvature.  Modes are solved exactly at
the reference wavenumbers."""

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import boltzax
from boltzax.fourier import growth_grid, transfer_table
from boltzax.pipeline import perturbation_tables
from boltzax.testing import load_reference, reference_params

PREC = boltzax.get_precision("default")
PP = PREC.perturbations
COSMOS = ("fid", "w0wa_2", "ok_neg")
DZ = 0.004  # the solver integrates to ln a = 0.005, so z = -DZ is inside
K_TEST = (0.01, 0.05, 0.1)  # [1/Mpc], the wavenumbers of the criterion
REQUIRED = ("d_cdm", "d_b", "t_b", "d_g", "phi", "psi")
ALSO = ("d_ur", "t_g", "t_ur", "d_m", "d_tot", "t_tot", "d_ncdm[0]", "t_ncdm[0]", "d_fld", "t_fld")


@pytest.fixture(scope="module")
def solved():
    fn = jax.jit(lambda tab, k, z, kf, zf: (transfer_table(k, z, tab, PP), growth_grid(kf, zf, tab, PP)))
    out = {}
    for name in COSMOS:
        ref = load_reference(name)
        res = boltzax.compute(reference_params(name), PREC)
        kr = ref["tk_z0/k (h/Mpc)"] * float(res.params.h)
        idx = np.array([np.argmin(np.abs(kr - k)) for k in K_TEST])
        zs = np.concatenate([ref["pk/z"], [-DZ, DZ]])  # +-DZ: a finite-difference check of f at z = 0
        tab = perturbation_tables(res, PP)
        tk = {z: fn(tab, jnp.asarray(kr[idx]), z, jnp.asarray(ref["pk/k_f"]), jnp.asarray(zs)) for z in (0.0, 1.0)}
        out[name] = ref, idx, tk
    return out


@pytest.mark.parametrize("name", COSMOS)
@pytest.mark.parametrize("z", (0.0, 1.0))
def test_transfer_functions_match_class(solved, name, z):
    """delta_cdm, delta_b, theta_b, delta_g, phi, psi at k = 0.01, 0.05, 0.1 /Mpc: 1e-3 relative (the issue's
    criterion is 1e-3 of their scale); the other columns classy returns: 1e-3 as well, d_ncdm 2e-3
    relative (it is ~1e-3 of delta_cdm at these k)."""
    ref, idx, tk = solved[name]
    T, _ = tk[z]
    for col in REQUIRED + ALSO:
        key = f"tk_z{int(z)}/{col}"
        if key not in ref:
            continue
        base, i = (col[:-3], 0) if col.endswith("]") else (col, None)
        ours = np.asarray(T[base])
        ours = ours[:, i] if i is not None else ours
        r = ref[key][idx]
        tol = 2e-3 if base == "d_ncdm" else 1e-3
        err = np.abs(ours / r - 1)
        assert np.all(err < tol), (name, z, col, err)


@pytest.mark.parametrize("name", COSMOS)
def test_scale_dependent_growth_rate(solved, name):
    """f(k, z) = d ln delta_m / d ln a (and of cb) vs CLASS's scale_dependent_growth_factor_f at 6 wavenumbers:
    1e-3 at z = 0.5, 1, 2.  At z = 0 CLASS's estimate (a spline derivative of its P(k, z) table in z, one-sided
    at the table edge) is off by 1-2e-3 at every k (cosmology-dependent), while ours is the derivative of the
    solution: there it is checked against the central difference of our own ln delta over z = +-0.004
    (truncation error ~(0.004)^2)."""
    ref, _, tk = solved[name]
    _, (dm, dcb, fm, fcb) = tk[0.0]
    for d, f, key in ((dm, fm, "pk/f_k"), (dcb, fcb, "pk/f_k_cb")):
        f, d = np.asarray(f), np.asarray(d)
        err = np.abs(f[:, 1:4].T / ref[key][1:] - 1)
        assert np.all(err < 1e-3), (name, key, err)
        fd = (np.log(np.abs(d[:, 4])) - np.log(np.abs(d[:, 5]))) / (np.log1p(DZ) - np.log1p(-DZ))
        assert np.all(np.abs(f[:, 0] / fd - 1) < 1e-4), (name, key, f[:, 0], fd)
