"""Line of sight + harmonic stages (boltzax/transfer.py, harmonic.py, bessel.py, primordial.py) fed with CLASS's
own source functions (tests/reference/cmb_los/, written by tools/make_cmb_los_reference.py): unlensed C_l against
CLASS's raw_cl, 2 <= l <= 2500, and forward-mode gradients against finite differences."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from boltzax import harmonic
from boltzax import transfer as tr
from boltzax.bessel import BesselTable, bessel_table, hermite_j
from boltzax.precision import TransferPrecision

def dequantise(q, scale, chunk=32):
    """tools/make_cmb_los_reference.py: S = q / 32767 * scale, one scale per k and chunk of 32 tau points."""
    return q.astype(np.float64) / 32767.0 * np.repeat(scale.astype(np.float64), chunk, axis=1)[:, : q.shape[1]]


REF_DIR = os.path.join(os.path.dirname(__file__), "reference", "cmb_los")
NAMES = ("fid", "lcdm_1", "nur")  # Planck 2018 + 0.06 eV; 0.25 eV ncdm, h = 0.62; N_ur = 2.5
TOL = 2e-4


def load(name):
    d = dict(np.load(os.path.join(REF_DIR, f"{name}.npz")))
    src = {n: dequantise(d[f"q_{n}"], d[f"scale_{n}"]) for n in ("t0", "t1", "t2", "phi_plus_psi")}
    src["p"] = np.sqrt(6.0) * src["t2"]  # CLASS: source_p = sqrt(6) source_t2
    return d, src


def run(d, src, l_max=2500, A_s=None, n_s=None):
    return harmonic.unlensed_cls(src, d["k"], d["tau"], float(d["tau0"]), float(d["tau_rec"]), float(d["ra_rec"]),
                                 float(d["tau_cut"]), float(d["A_s"]) if A_s is None else A_s,
                                 float(d["n_s"]) if n_s is None else n_s, 0.0, 0.05, l_max=l_max)


@pytest.mark.parametrize("name", NAMES)
def test_unlensed_cls_vs_class(name):
    d, src = load(name)
    cls = {k: np.asarray(v) for k, v in run(d, src).items()}
    ell = np.arange(2501)
    m = ell >= 2
    err = lambda a, b, den: np.max(np.abs(a[m] - b[m]) / den[m])  # noqa: E731
    e_tt = err(cls["tt"], d["cl_tt"], np.abs(d["cl_tt"]))
    e_ee = err(cls["ee"], d["cl_ee"], np.abs(d["cl_ee"]))
    e_te = err(cls["te"], d["cl_te"], np.sqrt(d["cl_tt"] * d["cl_ee"]))
    mp = m & (ell <= 2000)
    e_pp = np.max(np.abs(cls["pp"][mp] - d["cl_pp"][mp]) / np.abs(d["cl_pp"][mp]))
    e_tp = err(cls["tp"], d["cl_tp"], np.sqrt(np.abs(d["cl_tt"] * d["cl_pp"])))
    print(name, f"TT {e_tt:.1e} EE {e_ee:.1e} TE {e_te:.1e} pp {e_pp:.1e} Tp {e_tp:.1e}")
    assert max(e_tt, e_ee, e_te, e_pp, e_tp) < TOL
    assert np.all(cls["bb"] == 0) and np.all(cls["tt"][:2] == 0)


def test_gradients_ad_vs_fd():
    """d C_l / d n_s, d A_s and d (source amplitude) by jacfwd against central differences (l_max = 600)."""
    d, src = load("fid")
    prec = TransferPrecision()
    sizes = tr.grid_sizes(600, prec, float(d["tau0"]), float(d["tau_rec"]), float(d["ra_rec"]), d["k"], d["tau"],
                          float(d["tau_cut"]))
    table = bessel_table(sizes.ls, sizes.x_max, prec.hyper_sampling_flat, prec.hyper_x_min).arrays()
    src_j = {k: jnp.asarray(v) for k, v in src.items()}

    def f(p):
        s = dict(src_j, t0=src_j["t0"] * (1.0 + p[2]), p=src_j["p"] * (1.0 + p[2]))
        cls, _ = harmonic.cls_from_sources(s, jnp.asarray(d["k"]), jnp.asarray(d["tau"]), float(d["tau0"]),
                                           float(d["tau_rec"]), float(d["ra_rec"]), float(d["tau_cut"]),
                                           p[0] * 1e-9, p[1], 0.0, 0.05, table, sizes=sizes, prec=prec)
        return jnp.stack([cls["tt"][2:], cls["ee"][2:], cls["te"][2:], cls["pp"][2:]])

    p0 = jnp.array([float(d["A_s"]) * 1e9, float(d["n_s"]), 0.0])
    jac = np.asarray(jax.jacfwd(f)(p0))  # (4, n_l, 3)
    # C_l is linear in A_s and quadratic in the source amplitude (central differences exact: large step, above the
    # float32 rounding of the line of sight), smooth in n_s
    for i, h in enumerate((1e-3, 1e-4, 0.1)):
        dp = jnp.zeros(3).at[i].set(h)
        fd = (np.asarray(f(p0 + dp)) - np.asarray(f(p0 - dp))) / (2 * h)
        scale = np.max(np.abs(fd), axis=1, keepdims=True)  # pp does not depend on t0, p: its row is 0
        assert np.max(np.abs(jac[..., i] - fd) / np.where(scale > 0, scale, 1.0)) < 1e-5, i


def test_bessel_table_and_hermite():
    """Table values are scipy's j_l; CLASS's cubic Hermite rule at 8 points per 2 pi is good to ~1e-3 of the
    peak, at 32 points to ~4e-6; x_cut is where |j_l| ~ 1e-10."""
    from scipy.special import spherical_jn

    ls = (2, 50, 700, 2500)
    x = np.linspace(0.5, 4900.0, 20001)
    for sampling, tol in ((8.0, 1.2e-3), (32.0, 5e-6)):
        tab = BesselTable(ls, 5000.0, sampling)
        for il, l in enumerate(ls):
            ref = spherical_jn(l, x)
            j0, j1, _ = hermite_j(jnp.asarray(tab.phi[il]), jnp.asarray(tab.dphi[il]), float(l), jnp.asarray(x),
                                  tab.x_min, tab.dx)
            peak = np.max(np.abs(ref))
            assert np.max(np.abs(np.asarray(j0) - ref)) / peak < tol
            assert np.max(np.abs(np.asarray(j1) - spherical_jn(l, x, derivative=True))) / peak < 2 * tol
    xc = BesselTable((100, 2000), 3000.0).x_cut
    assert 1e-11 < abs(spherical_jn(100, xc[0])) < 1e-9 and 1e-11 < abs(spherical_jn(2000, xc[1])) < 1e-9


def test_l_list_matches_class_rounding():
    """CLASS's linear l step is int(40 ar): 39 when r_a/(tau0 - tau_rec) rounds below 1."""
    assert tr.l_list(2500, 1.12, 40, 1.0)[-4:] == (2410, 2450, 2490, 2500)
    ls = tr.l_list(2500, 1.12, 40, 1.0 - 4e-16)
    assert np.all(np.diff(ls[-10:-1]) == 39) and ls[-1] == 2500 and ls[:5] == (2, 3, 4, 5, 6)
