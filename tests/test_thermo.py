"""Tests of boltzax.thermo: RECFAST recombination, BBN helium, reionisation, thermodynamics tables.

Logic and gradient tests run on the ``fast`` preset with a small analytic flat background defined here
(photons + massless neutrinos + matter + Lambda), so that they do not depend on boltzax.background.
Accuracy tests against CLASS (recombination = recfast) read ``tests/reference/*.npz`` (written by
tools/make_reference.py) and skip cleanly when those files, or boltzax.background, are absent.
"""

from __future__ import annotations

import functools
import os

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import boltzax
from boltzax import constants as C
from boltzax.precision import get_precision
from boltzax.thermo import bbn, rec_z_grid
from boltzax.thermo import reionization as reio
from boltzax.thermo import thermodynamics as TH

FAST = get_precision("fast")
REF_DIR = os.path.join(os.path.dirname(__file__), "reference")

# three cosmologies spread over the box (same static structure, massless neutrinos only)
COSMOS = {
    "fiducial": dict(h=0.6732, omega_b=0.02238, omega_cdm=0.1201, tau_reio=0.0543, recombination="recfast"),
    "low": dict(h=0.60, omega_b=0.0185, omega_cdm=0.100, tau_reio=0.035, N_ur=2.5, recombination="recfast"),
    "high": dict(h=0.76, omega_b=0.0260, omega_cdm=0.140, tau_reio=0.085, N_ur=3.6, recombination="recfast"),
}

_GX, _GW = np.polynomial.legendre.leggauss(96)


class _FlatBackground(eqx.Module):
    """Flat LCDM with massless neutrinos: H(z) closed form, distances by Gauss-Legendre in ln(1+z)."""

    H0: jax.Array
    om_r: jax.Array
    om_m: jax.Array
    om_l: jax.Array
    omega_b: jax.Array
    omega_g: jax.Array

    def H_of_z(self, z):
        zp = 1.0 + z
        return self.H0 * jnp.sqrt(self.om_r * zp**4 + self.om_m * zp**3 + self.om_l)

    def _int(self, z, f, u_max=25.0):
        u0 = jnp.log1p(jnp.asarray(z))[..., None]
        u = u0 + (u_max - u0) * 0.5 * (1.0 + jnp.asarray(_GX))
        zq = jnp.expm1(u)
        return 0.5 * (u_max - u0[..., 0]) * jnp.sum(jnp.asarray(_GW) * f(zq) * (1.0 + zq) / self.H_of_z(zq), axis=-1)

    def tau_of_z(self, z):
        return self._int(z, lambda zq: 1.0)

    def rs_of_z(self, z):
        R = lambda zq: 3.0 * self.omega_b / (4.0 * self.omega_g * (1.0 + zq))  # noqa: E731
        return self._int(z, lambda zq: 1.0 / jnp.sqrt(3.0 * (1.0 + R(zq))))

    def angular_distance(self, z):
        return (self.tau_of_z(0.0) - self.tau_of_z(z)) / (1.0 + z)


def flat_background(p) -> _FlatBackground:
    h2 = p.h**2
    og = C.omega_gamma(p.T_cmb)
    om_r = og * (1.0 + C.nu_over_gamma * p.N_ur) / h2
    om_m = (p.omega_b + p.omega_cdm) / h2
    return _FlatBackground(H0=p.h * C.H0_100, om_r=om_r, om_m=om_m, om_l=1.0 - om_r - om_m,
                           omega_b=jnp.asarray(p.omega_b), omega_g=og)


def _solve(p, prec=FAST):
    return TH.thermodynamics_solve(p, flat_background(p), prec)


_solve_jit = jax.jit(_solve, static_argnums=1)


@pytest.fixture(scope="module")
def fid():
    p = boltzax.default_params(**COSMOS["fiducial"])
    return p, _solve_jit(p, FAST)


# ----------------------------------------------------------------------------------------------- grid
def test_rec_grid_has_switch_nodes():
    z, nodes = rec_z_grid(1e4, 600)
    assert z.shape == (600,) and z[0] == 1e4 and z[-1] == 0.0
    assert np.all(np.diff(z) < 0)
    assert [z[i] for i in nodes] == [1e4, 8050.0, 4600.0, 3550.0, 2870.0, 1600.0, 800.0, 50.0, 0.0]


# ------------------------------------------------------------------------------------------------ BBN
def test_bbn_reproduces_table_nodes_and_is_smooth():
    d = np.load(os.path.join(os.path.dirname(boltzax.__file__), "data", "bbn_sBBN_2025.npz"))
    ob, dn, Y = d["omega_b"], d["delta_N"], d["YHe"]
    for i, j in [(100, 6), (350, 3), (600, 10)]:
        assert float(bbn.yhe_from_bbn(ob[i], dn[j])) == pytest.approx(Y[j, i], abs=1e-12)
    g = jax.grad(bbn.yhe_from_bbn, argnums=(0, 1))(0.0224, 0.0)
    assert 0.3 < float(g[0]) < 0.8 and 0.01 < float(g[1]) < 0.02  # dY/domega_b, dY/dN_eff
    p = boltzax.default_params(omega_b=0.02238, N_ur=3.044)
    assert float(bbn.neff_at_bbn(p)) == pytest.approx(3.044)
    assert 0.244 < float(bbn.yhe_bbn(p)) < 0.247


# ------------------------------------------------------------------------------------------ recfast
def test_recfast_history_physical(fid):
    p, th = fid
    z, x, T = np.asarray(th.z), np.asarray(th.x_e_noreio), np.asarray(th.T_b)
    fHe = float(th.YHe) / (C.not4 * (1 - float(th.YHe)))
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(T))
    assert x[-1] == pytest.approx(1 + 2 * fHe, rel=2e-3)  # HeIII at z = 1e4
    assert np.interp(3000.0, z, x) == pytest.approx(1 + fHe, rel=2e-3)  # HeII, before HeI recombination
    assert np.interp(1800.0, z, x) == pytest.approx(1.0, rel=5e-3)  # HeI recombined, H still ionised
    assert 1e-4 < np.interp(200.0, z, x) < 1e-3  # freeze-out
    assert np.interp(1000.0, z, T) == pytest.approx(2.7255 * 1001, rel=1e-3)  # Compton-locked
    assert np.interp(60.0, z, T) < 0.8 * 2.7255 * 61  # adiabatic decoupling


def test_thermo_tables_consistent(fid):
    p, th = fid
    z = np.asarray(th.z)
    kap, emk, g = np.asarray(th.kappa), np.asarray(th.exp_m_kappa), np.asarray(th.g)
    assert np.all(np.diff(kap) > 0) and np.allclose(emk, np.exp(-kap))
    assert np.interp(float(th.z_star), z, kap) == pytest.approx(1.0, abs=2e-3)
    assert np.interp(float(th.z_d), z, np.asarray(th.kappa_b)) == pytest.approx(1.0, abs=2e-3)
    i = np.argmax(np.where(z > 500, g, 0.0))
    assert abs(z[i] - float(th.z_rec)) < 2.0 * (z[i + 1] - z[i])
    # g' from the table derivative: g' = dg/dtau = -H dg/dz
    Hz = np.asarray(flat_background(p).H_of_z(th.z))
    dg_num = -Hz * np.gradient(g, z)
    m = (z > 900) & (z < 1300)
    assert np.max(np.abs(dg_num[m] - np.asarray(th.dg)[m])) < 2e-2 * np.max(np.abs(np.asarray(th.dg)[m]))
    assert 1085 < float(th.z_rec) < 1095 and float(th.z_star) < float(th.z_rec) and 1050 < float(th.z_d) < 1070
    assert 1.03 < float(th.theta_s_100) < 1.05
    assert float(th.tau_reio) == pytest.approx(0.0543, rel=1e-9)
    tab = TH.thermodynamics_table(th)
    for key in ("z", "conf. time [Mpc]", "x_e", "kappa' [Mpc^-1]", "exp(-kappa)", "g [Mpc^-1]", "Tb [K]",
                "c_b^2", "kappa_b"):
        assert tab[key].shape == z.shape
    cb2 = tab["c_b^2"]
    assert np.all(cb2[z > 100] > 0) and cb2[np.argmin(abs(z - 1000))] == pytest.approx(
        C.k_B / (C.m_H * C.c**2) * 2.7255 * 1001 * 4 / 3 * (1 + (1 / C.not4 - 1) * float(th.YHe)
                                                             + float(th.x_e[np.argmin(abs(z - 1000))]) * (1 - float(th.YHe))), rel=2e-3)


def test_reionisation_derivatives_exact(fid):
    """kappa'' and kappa''' at reionisation (z <= 50) equal the derivatives of the closed-form reionised x_e
    (central differences of reio.xe_reio in z, converted to conformal time), not those of the spline through
    the coarse table (at the 'fast' preset's dz ~ 0.5 that spline's x_e'' was off by O(1) inside the tanh of
    width 0.5; kappa''' sets CLASS's source time sampling there: perturbations/sampling.py)."""
    from boltzax.thermo import reionization as reio

    p, th = fid
    z = np.asarray(th.z)
    fHe = float(th.YHe) / (C.not4 * (1 - float(th.YHe)))
    zl, xl = z[z <= 50.0], np.asarray(th.x_e_noreio)[z <= 50.0]

    def x_of(zq):  # the no-reio history is smooth here: linear interpolation is ample for the differences
        return np.asarray(reio.xe_reio(zq, np.interp(zq, zl, xl), float(th.z_reio), fHe))

    def H(zq):
        return np.asarray(flat_background(p).H_of_z(jnp.asarray(zq)))

    pref = float(th.kappa_dot[1]) / ((1 + z[1]) ** 2 * float(th.x_e[1]))

    def kdot(zq):
        return pref * (1 + zq) ** 2 * x_of(zq)

    sel = (z > 5.0) & (z < 10.0)  # hydrogen reionisation (z_reio ~ 7.7 at tau_reio = 0.0543)
    zz, dz = z[sel], 1e-3
    dk = (kdot(zz + dz) - kdot(zz - dz)) / (2 * dz)
    d2k = (kdot(zz + dz) - 2 * kdot(zz) + kdot(zz - dz)) / dz**2
    dH = (H(zz + dz) - H(zz - dz)) / (2 * dz)
    kddot = -H(zz) * dk
    kdddot = H(zz) * (dH * dk + H(zz) * d2k)
    np.testing.assert_allclose(np.asarray(th.kappa_ddot)[sel], kddot, rtol=1e-3, atol=1e-4 * np.abs(kddot).max())
    np.testing.assert_allclose(np.asarray(th.kappa_dddot)[sel], kdddot, rtol=1e-3,
                               atol=1e-3 * np.abs(kdddot).max())


def test_tau_zreio_round_trip(fid):
    p, th = fid
    p2 = p.replace(reio_from_tau=False, z_reio=th.z_reio)
    th2 = _solve_jit(p2, FAST)
    assert float(th2.tau_reio) == pytest.approx(float(th.tau_reio), rel=1e-8)
    # implicit derivatives are inverse of each other
    dz_dtau = jax.jit(jax.jacfwd(lambda t: _solve(p.replace(tau_reio=t)).z_reio))(p.tau_reio)
    dtau_dz = jax.jit(jax.jacfwd(lambda zr: _solve(p2.replace(z_reio=zr)).tau_reio))(th.z_reio)
    assert float(dz_dtau * dtau_dz) == pytest.approx(1.0, rel=1e-6)


# --------------------------------------------------------------------------------------- gradients
_FIELDS = ("omega_b", "h", "omega_cdm", "tau_reio")


def _observables(v, p0):
    p = p0.replace(**{f: v[i] for i, f in enumerate(_FIELDS)})
    th = _solve(p)
    i = jnp.argmin(jnp.abs(th.z - 1100.0))
    return jnp.stack([th.z_star, th.z_d, th.z_rec, th.theta_s_100, th.z_reio, th.x_e[i], th.g[i]])


_obs_jit = jax.jit(_observables)
_jac_fwd = jax.jit(jax.jacfwd(_observables))


@pytest.mark.parametrize("name", list(COSMOS))
def test_gradients_match_finite_differences(name):
    p0 = boltzax.default_params(**COSMOS[name])
    v0 = jnp.array([float(getattr(p0, f)) for f in _FIELDS])
    J = np.asarray(_jac_fwd(v0, p0))
    for j in range(len(_FIELDS)):
        h = 1e-4 * float(v0[j])
        e = jnp.zeros(len(_FIELDS)).at[j].set(h)
        fd = (np.asarray(_obs_jit(v0 + e, p0)) - np.asarray(_obs_jit(v0 - e, p0))) / (2 * h)
        val = np.asarray(_obs_jit(v0, p0))
        for i in range(len(fd)):
            # derivatives below 1e-7 of value/parameter are structurally zero (e.g. z_rec vs tau_reio)
            floor = 1e-7 * abs(val[i] / float(v0[j]))
            assert abs(J[i, j] - fd[i]) <= 1e-4 * abs(fd[i]) + floor, (name, _FIELDS[j], i, J[i, j], fd[i])


def test_reverse_mode_matches_forward(fid):
    p0 = fid[0]
    v0 = jnp.array([float(getattr(p0, f)) for f in _FIELDS])
    Jf = np.asarray(_jac_fwd(v0, p0))
    g = np.asarray(jax.jit(jax.grad(lambda v: jnp.dot(_observables(v, p0), jnp.array([1.0, 0, 0, 1.0, 0, 0, 0]))))(v0))
    assert np.allclose(g, Jf[0] + Jf[3], rtol=1e-8, atol=1e-12)


def test_root_bisect_ift_derivative():
    f = lambda z, a: z**3 - a  # noqa: E731
    r = reio.root_bisect(f, 8.0, 0.0, 5.0)
    assert float(r) == pytest.approx(2.0, rel=1e-12)
    assert float(jax.grad(lambda a: reio.root_bisect(f, a, 0.0, 5.0))(8.0)) == pytest.approx(1 / 12, rel=1e-10)
    assert float(jax.jacfwd(lambda a: reio.root_bisect(f, a, 0.0, 5.0))(8.0)) == pytest.approx(1 / 12, rel=1e-10)


# ----------------------------------------------------------------------------- accuracy vs CLASS
# reference cosmologies (tests/reference/README.md): fiducial, spread LCDM + massive nu, w0wa crossing -1,
# negative curvature, three ncdm species; recfast runs ('th_recfast/', 'derived_recfast/')
_ACC_REFS = ("fid", "lcdm_0", "lcdm_3", "lcdm_5", "w0wa_2", "ok_neg", "ncdm3")
_ACC_DERIVED = ("z_rec", "z_star", "z_d", "rs_rec", "rs_d", "da_rec", "100*theta_s", "100*theta_star", "YHe")


def _background_solve():
    try:
        from boltzax.background import background_solve
    except ImportError:
        return None
    return background_solve


@functools.lru_cache(maxsize=1)
def _default_solver():
    bs = _background_solve()
    prec = get_precision("default")
    return jax.jit(lambda p: TH.thermodynamics_solve(p, bs(p, prec.background), prec))


@pytest.mark.parametrize("name", _ACC_REFS)
def test_recfast_accuracy_vs_class(name):
    """x_e (200 <= z <= 3000) to 1e-3, visibility to 1e-3 of its peak (z > 50), z_rec, z_star, z_d, r_s,
    d_A, 100 theta_s, 100 theta_star, YHe to 1e-4 relative; tau_reio/z_reio within CLASS's own bisection
    tolerance (reionization_optical_depth_tol = 1e-4 on tau)."""
    from boltzax import testing

    if name not in testing.list_references() or _background_solve() is None:
        pytest.skip("needs tests/reference/<name>.npz (tools/make_reference.py) and boltzax.background")
    ref = testing.load_reference(name)
    if "th_recfast/z" not in ref:
        pytest.skip("reference has no recfast run")
    th = _default_solver()(testing.reference_params(ref, "recfast"))
    z_ref = ref["th_recfast/z"]
    zt = np.asarray(th.z)
    xe = interpax.interp1d(jnp.asarray(z_ref), th.z, th.x_e, method="cubic2")
    g = interpax.interp1d(jnp.asarray(z_ref), th.z, th.g, method="cubic2")
    m = (z_ref >= 200) & (z_ref <= 3000)
    assert testing.max_rel_err(xe, ref["th_recfast/x_e"], m) < 1e-3
    assert testing.max_err_of_peak(g, ref["th_recfast/g [Mpc^-1]"], (z_ref > 50) & (z_ref <= zt[-1])) < 1e-3
    ours = TH.derived_parameters(th)
    for k in _ACC_DERIVED:
        assert ours[k] == pytest.approx(float(ref["derived_recfast/" + k]), rel=1e-4), k
    assert ours["tau_reio"] == pytest.approx(float(ref["derived_recfast/tau_reio"]), rel=1e-4)
    assert ours["z_reio"] == pytest.approx(float(ref["derived_recfast/z_reio"]), rel=5e-4)


def test_gradients_with_boltzax_background():
    """AD vs FD through boltzax.background for a massive-neutrino, curved cosmology."""
    bs = _background_solve()
    if bs is None:
        pytest.skip("boltzax.background not available")
    p0, _ = boltzax.from_class_dict(dict(h=0.72, omega_b=0.0231, omega_cdm=0.125, N_ur=2.0328, N_ncdm=1,
                                         m_ncdm=0.25, Omega_k=0.04, tau_reio=0.07, recombination="recfast"))
    fields = ("omega_b", "h", "Omega_k")

    def obs(v):
        p = p0.replace(**{f: v[i] for i, f in enumerate(fields)})
        th = TH.thermodynamics_solve(p, bs(p, FAST.background), FAST)
        return jnp.stack([th.z_star, th.z_d, th.theta_s_100, th.rs_d, th.z_reio])

    v0 = jnp.array([float(getattr(p0, f)) for f in fields])
    J = np.asarray(jax.jit(jax.jacfwd(obs))(v0))
    fj = jax.jit(obs)
    val = np.asarray(fj(v0))
    for j in range(len(fields)):
        h = 1e-4 * abs(float(v0[j]))
        e = jnp.zeros(len(fields)).at[j].set(h)
        fd = (np.asarray(fj(v0 + e)) - np.asarray(fj(v0 - e))) / (2 * h)
        for i in range(len(fd)):
            floor = 1e-7 * abs(val[i] / float(v0[j]))
            assert abs(J[i, j] - fd[i]) <= 1e-4 * abs(fd[i]) + floor, (fields[j], i, J[i, j], fd[i])


def test_vmap_over_parameters(fid):
    p0, th0 = fid
    obs = jnp.array([0.0215, 0.02238, 0.0235])
    batch = jax.jit(jax.vmap(lambda ob: _solve(p0.replace(omega_b=ob)).z_star))(obs)
    assert float(batch[1]) == pytest.approx(float(th0.z_star), rel=1e-12)
    assert np.all(np.diff(np.asarray(batch)) < 0)  # dz_star/domega_b < 0 (see the gradient test)


def test_check_thermodynamics(fid):
    TH.check_thermodynamics(fid[1])  # passes for a standard model
    bad = eqx.tree_at(lambda t: t.z_rec, fid[1], jnp.asarray(2500.0))
    with pytest.raises(boltzax.CosmoComputationError):
        TH.check_thermodynamics(bad)
