"""Tests of boltzax.thermo.hyrec (CLASS v3.4.1 ``recombination = hyrec``, HyRec-2020 SWIFT rates).

* tables: the converted HyRec tables are read back and HyRec's interpolation reproduces the nodes;
* accuracy vs CLASS reference npz (tests/reference/, written by tools/make_reference.py) for
  200 <= z <= 3000 -- needs boltzax.background.background_solve for H(z); skipped otherwise;
* AD (jacfwd) vs central finite differences of ln x_e at a few z w.r.t. omega_b, h, YHe at three
  cosmologies, and finiteness of gradients w.r.t. T_cmb, N_ur, m_ncdm; vmap over two cosmologies.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import boltzax  # noqa: F401  (x64)
import jax
import jax.numpy as jnp
from boltzax import constants as C
from boltzax.params import default_params, from_class_dict
from boltzax.precision import ThermoPrecision
from boltzax.thermo import hyrec, hyrec_rates

REF_DIR = os.path.join(os.path.dirname(__file__), "reference")
PREC = ThermoPrecision(n_z=1000)
Z_TEST = jnp.array([1500.0, 1100.0, 800.0, 400.0])
COSMOS = [
    dict(h=0.62, omega_b=0.0207, omega_cdm=0.105, YHe=0.24, N_ur=2.0328, N_ncdm=1, m_ncdm=0.02),
    dict(h=0.6732, omega_b=0.02238, omega_cdm=0.1201, YHe=0.2454, N_ur=2.0328, N_ncdm=1, m_ncdm=0.06),
    dict(h=0.75, omega_b=0.0238, omega_cdm=0.138, YHe=0.255, N_ur=2.8, N_ncdm=1, m_ncdm=0.25),
]


def _H_analytic(p):
    """Flat LCDM H(z) [1/Mpc] with photons, N_ur + the ncdm species counted as radiation (their mass
    is irrelevant at z > 200 at this level): a smooth, params-dependent H for the gradient tests."""
    n_rel = p.N_ur + jnp.sum(p.deg_ncdm * p.T_ncdm**4) * (11.0 / 4.0) ** (4.0 / 3.0)
    og = C.omega_gamma(p.T_cmb)
    orad = og * (1.0 + C.nu_over_gamma * n_rel)
    om = p.omega_b + p.omega_cdm
    ol = p.h**2 - om - orad

    def H(z):
        return C.H0_100 * jnp.sqrt(orad * (1 + z) ** 4 + om * (1 + z) ** 3 + ol)

    return H


def _H_of(p):
    try:
        from boltzax.background import background_solve  # type: ignore
        from boltzax.precision import BackgroundPrecision
    except ImportError:
        return _H_analytic(p)
    return background_solve(p, BackgroundPrecision()).H_of_z


def _ln_xe_at(p, zs):
    r = hyrec.recombination_history(p, _H_of(p), PREC)
    return jnp.interp(jnp.log1p(zs), jnp.log1p(r.z[::-1]), jnp.log(r.x_e[::-1]))


_ln_xe_jit = jax.jit(_ln_xe_at)


def _with(p, v):
    return p.replace(omega_b=v[0], h=v[1], YHe=v[2])


_jac_jit = jax.jit(jax.jacfwd(lambda v, p, zs: _ln_xe_at(_with(p, v), zs)))


# ---------------------------------------------------------------------------------------- tables
def test_tables_and_interpolation():
    d = np.load(os.path.join(os.path.dirname(hyrec_rates.__file__), "..", "data", "hyrec_tables.npz"))
    assert d["alpha"].shape == (4, 40, 100) and d["R2p2s"].shape == (100,) and d["swift"].shape == (5, 265)
    assert "HyRec" in str(d["citation"])
    # at a table node (T_m = T_r, interior T_r node), HyRec's interpolation returns the node value
    i = 50
    TR = float(np.exp(np.log(0.004) + i * (np.log(0.4) - np.log(0.004)) / 99))
    alpha, dalpha, beta, r = hyrec_rates.interpolate_rates(jnp.asarray(TR), jnp.asarray(1.0))
    np.testing.assert_allclose(np.asarray(alpha), d["alpha"][:2, -1, i], rtol=1e-12)
    np.testing.assert_allclose(np.asarray(dalpha), 0.0, atol=1e-25)
    np.testing.assert_allclose(float(r), d["R2p2s"][i], rtol=1e-12)
    # SWIFT correction: fiducial cosmology of the fit -> the tabulated fiducial column
    T = float(d["swift"][0, 100])
    dk = hyrec_rates.swift_correction(jnp.asarray(T), 0.14175, 0.02242, 0.246738546372, 3.046, 2.7255)
    np.testing.assert_allclose(float(dk), d["swift"][1, 100], rtol=1e-12)
    assert float(hyrec_rates.swift_correction(jnp.asarray(5000.0), 0.14, 0.022, 0.24, 3.0, 2.7255)) == 0.0


# ------------------------------------------------------------------------------------ physics
@pytest.fixture(scope="module")
def fiducial_history():
    p = default_params(**COSMOS[1])
    return p, jax.jit(lambda q: hyrec.recombination_history(q, _H_of(q), PREC))(p)


def test_history_shape_and_limits(fiducial_history):
    p, r = fiducial_history
    z, xe, Tb = np.asarray(r.z), np.asarray(r.x_e), np.asarray(r.T_b)
    assert z.shape == xe.shape == Tb.shape == (PREC.n_z,)
    assert z[0] == pytest.approx(PREC.z_ini) and z[-1] == 0.0 and np.all(np.diff(z) < 0)
    assert np.all(np.isfinite(xe)) and np.all(np.isfinite(Tb))
    fHe = float(p.YHe) / (C.not4 * (1 - float(p.YHe)))
    assert xe[0] == pytest.approx(1 + 2 * fHe, rel=1e-3)  # H and He fully ionised at z = 1e4 (HeIII mostly)
    Tr = float(p.T_cmb) * (1 + z)
    assert np.all(np.abs(Tb[z > 2000] / Tr[z > 2000] - 1) < 1e-5)  # tight Compton coupling
    assert np.all(Tb[z < 100] < Tr[z < 100])  # adiabatic cooling after decoupling
    i = np.argmin(np.abs(z - 1100))
    assert 0.1 < xe[i] < 0.2  # ionised fraction at last scattering (CLASS: 0.145 at z = 1100)
    assert 1e-4 < xe[-1] < 5e-4  # freeze-out value


# ------------------------------------------------------------------------------------ accuracy
# the reference cosmologies (tests/reference/<name>.npz, written by tools/make_reference.py): a fiducial,
# three massive neutrinos and an open w0-wa model, spread over the box; a missing file fails the test
HYREC_REFERENCES = ("fid", "ncdm3", "w0wa_1")


def _reference_case(name):
    """(class_input_dict, z, x_e, T_b) of CLASS's HyRec run for the reference ``name`` (layout 'th/<column>',
    'meta/input_bg': the default recombination = HyRec)."""
    path = os.path.join(REF_DIR, f"{name}.npz")
    assert os.path.exists(path), f"expected reference {path} is missing (regenerate with tools/make_reference.py)"
    d = np.load(path, allow_pickle=False)
    inp = json.loads(str(d["meta/input_bg"]))
    assert str(inp.get("recombination", "hyrec")).lower() == "hyrec", f"{name}: the bg reference is not HyRec"
    return inp, d["th/z"], d["th/x_e"], d["th/Tb [K]"]


@pytest.fixture(scope="module")
def hyrec_jit():
    return jax.jit(lambda q: hyrec.recombination_history(q, _H_of(q), ThermoPrecision()))


@pytest.mark.parametrize("name", HYREC_REFERENCES)
def test_accuracy_vs_class_reference(name, hyrec_jit):
    """x_e and T_b against CLASS's HyRec 2020 for 200 <= z <= 3000 (< 1e-3 relative)."""
    from scipy.interpolate import CubicSpline

    from boltzax.thermo import bbn

    inp, zc, xc, Tc = _reference_case(name)
    p, _ = from_class_dict({k: v for k, v in inp.items() if k != "output"})
    if p.YHe_from_bbn:
        p = p.replace(YHe=bbn.yhe_bbn(p))
    r = hyrec_jit(p)
    z, xe, Tb = (np.asarray(a)[::-1] for a in (r.z, r.x_e, r.T_b))
    m = (zc >= 200) & (zc <= 3000)
    xi = np.exp(CubicSpline(np.log1p(z), np.log(xe))(np.log1p(zc[m])))
    err = np.max(np.abs(xi / xc[m] - 1))
    assert err < 1e-3, f"{name}: max |dx_e/x_e| = {err:.2e} for 200 <= z <= 3000"
    Ti = np.exp(CubicSpline(np.log1p(z), np.log(Tb))(np.log1p(zc[m])))
    errT = np.max(np.abs(Ti / Tc[m] - 1))
    assert errT < 1e-3, f"{name}: max |dT_b/T_b| = {errT:.2e} for 200 <= z <= 3000"
    print(f"HyRec vs CLASS {name}: max |dx_e/x_e| = {err:.2e}, |dT_b/T_b| = {errT:.2e}")


# ------------------------------------------------------------------------------------ gradients
@pytest.mark.parametrize("ic", range(len(COSMOS)))
def test_ad_vs_finite_differences(ic):
    p = default_params(**COSMOS[ic])
    v0 = jnp.array([p.omega_b, p.h, p.YHe])
    J = np.asarray(_jac_jit(v0, p, Z_TEST))
    assert np.all(np.isfinite(J))
    for i, name in enumerate(("omega_b", "h", "YHe")):
        eps = 1e-4 * float(v0[i])
        fd = (np.asarray(_ln_xe_jit(_with(p, v0.at[i].add(eps)), Z_TEST))
              - np.asarray(_ln_xe_jit(_with(p, v0.at[i].add(-eps)), Z_TEST))) / (2 * eps)
        # h only enters through Lambda in H(z) at z > 200: tiny derivative, compared with an absolute floor
        atol = 1e-9 if name == "h" else 0.0
        np.testing.assert_allclose(J[:, i], fd, rtol=2e-4, atol=atol, err_msg=f"d ln x_e / d {name}")


def test_gradients_other_params_finite_and_vmap():
    p = default_params(**COSMOS[1])

    def loss(T_cmb, N_ur, m):
        q = p.replace(T_cmb=T_cmb, N_ur=N_ur, m_ncdm=jnp.atleast_1d(m))
        r = hyrec.recombination_history(q, _H_of(q), PREC)
        return jnp.sum(jnp.log(r.x_e[::50])) + jnp.sum(jnp.log(r.T_b[::50]))

    g = jax.jit(jax.jacfwd(loss, argnums=(0, 1, 2)))(p.T_cmb, p.N_ur, p.m_ncdm[0])
    assert all(np.isfinite(float(x)) for x in g)
    assert float(g[0]) != 0.0 and float(g[1]) != 0.0

    ps = jax.tree_util.tree_map(lambda a, b: jnp.stack([a, b]), default_params(**COSMOS[0]), default_params(**COSMOS[2]))
    xs = jax.jit(jax.vmap(lambda q: _ln_xe_at(q, Z_TEST)))(ps)
    for k, c in enumerate((COSMOS[0], COSMOS[2])):
        np.testing.assert_allclose(np.asarray(xs[k]), np.asarray(_ln_xe_jit(default_params(**c), Z_TEST)), rtol=1e-10)
