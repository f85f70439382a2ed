"""Background module: ncdm quadrature, closure/derived densities, AD vs finite differences, accuracy vs
CLASS reference tables (tests/reference/*.npz written by tools/make_reference.py; skipped if absent).

Logic and gradient tests use the "fast" preset; accuracy tests the default one."""

from __future__ import annotations

import functools
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import integrate

import boltzax  # noqa: F401  (x64)
from boltzax import ncdm
from boltzax.background import background_solve, background_table, derived_densities, sinn
from boltzax.params import from_class_dict
from boltzax.precision import PRESETS

FAST = PRESETS["fast"].background
DEFAULT = PRESETS["default"].background

# cosmologies spread over the box (CLASS input names)
COSMOS = {
    "lcdm_nu": dict(h=0.6732, omega_b=0.02238, omega_cdm=0.1201, N_ur=2.0328, N_ncdm=1, m_ncdm=0.06),
    "w0wa_okp": dict(h=0.70, omega_b=0.0215, omega_cdm=0.11, N_ur=2.0328, N_ncdm=1, m_ncdm=0.15,
                     Omega_Lambda=0.0, w0_fld=-0.9, wa_fld=0.1, Omega_k=0.03),
    "3nu_okm": dict(h=0.62, omega_b=0.0235, omega_cdm=0.135, N_ur=0.00641, N_ncdm=3,
                    m_ncdm="0.02,0.05,0.25", Omega_k=-0.03),
}


# ------------------------------------------------------------------------------------ ncdm quadrature
@pytest.mark.parametrize("Ma", [0.0, 0.03, 0.3, 1.0, 5.0, 100.0])
def test_fd_quadrature_moments(Ma):
    """rho, p, pseudo_p integrals of the default 64-node rule against adaptive quadrature."""
    q, w = ncdm.fd_quadrature(DEFAULT.n_q_bg)
    eps = np.sqrt(q * q + Ma * Ma)
    ours = [np.sum(w * q * q * eps), np.sum(w * q**4 / eps) / 3, np.sum(w * (q * q / eps) ** 3) / 3]
    fd = lambda x: 1.0 / (np.exp(x) + 1.0)  # noqa: E731
    e = lambda x: np.sqrt(x * x + Ma * Ma)  # noqa: E731
    funcs = [lambda x: x * x * e(x) * fd(x), lambda x: x**4 / e(x) / 3 * fd(x),
             lambda x: (x * x / e(x)) ** 3 / 3 * fd(x)]
    pts = sorted({0.1, 1.0, 3.0, 10.0, 30.0} | ({Ma} if 0 < Ma < 100 else set()))
    for o, f in zip(ours, funcs):
        ref = integrate.quad(f, 0.0, 100.0, points=pts, epsabs=0, epsrel=1e-13, limit=400)[0]
        assert abs(o / ref - 1) < 5e-9


def test_massless_ncdm_is_radiation():
    """A massless ncdm species with T_ncdm = (4/11)^(1/3), deg = 1 equals one N_ur (7/8 (4/11)^(4/3))."""
    Tn = (4.0 / 11.0) ** (1.0 / 3.0)
    p, _ = from_class_dict(dict(N_ur=0.0, N_ncdm=1, m_ncdm=1e-10, T_ncdm=Tn))
    d = derived_densities(p, DEFAULT)
    assert float(d["Neff"]) == pytest.approx(1.0, rel=1e-9)


# ------------------------------------------------------------------------------------ closure, logic
def test_closure_and_derived():
    p, _ = from_class_dict(COSMOS["w0wa_okp"])
    d = derived_densities(p, FAST)
    tot = sum(float(d[k]) for k in ("Omega0_g", "Omega0_b", "Omega0_cdm", "Omega0_ur", "Omega0_ncdm_tot",
                                      "Omega0_lambda", "Omega0_fld", "Omega0_k"))
    assert tot == pytest.approx(1.0, abs=1e-14)
    assert float(d["Omega0_lambda"]) == 0.0
    # m / omega_ncdm ~ 93.14 eV with CLASS's default T_ncdm (input.c comment)
    assert 0.15 / (float(d["Omega0_ncdm_tot"]) * 0.7**2) == pytest.approx(93.14, rel=2e-3)
    bg = background_solve(p, FAST)
    assert float(bg.H_of_z(0.0)) == pytest.approx(0.7 * 1e5 / 2.99792458e8, rel=1e-12)
    assert float(bg.growth_D(0.0)) == pytest.approx(1.0, abs=1e-12)
    # z_of_tau inverts tau_of_z
    z = jnp.array([0.0, 0.3, 2.0, 1089.0, 1e5])
    assert np.allclose(bg.z_of_tau(bg.tau_of_z(z)), z, rtol=1e-10, atol=1e-10)


def test_sinn_smooth_through_flat():
    x = 1.0e4
    for K in (-1e-8, -1e-9, 0.0, 1e-9, 1e-8):
        ref = x if K == 0 else (np.sin(np.sqrt(K) * x) / np.sqrt(K) if K > 0 else np.sinh(np.sqrt(-K) * x) / np.sqrt(-K))
        assert float(sinn(K, x)) == pytest.approx(ref, rel=1e-13)
    g = jax.grad(sinn)(0.0, x)
    assert float(g) == pytest.approx(-(x**3) / 6.0, rel=1e-12)


def test_table_columns():
    p, _ = from_class_dict(COSMOS["w0wa_okp"])
    cols = list(background_table(background_solve(p, FAST), jnp.array([0.0, 1.0])))
    assert cols == [
        "z", "proper time [Gyr]", "conf. time [Mpc]", "H [1/Mpc]", "comov. dist.", "ang.diam.dist.",
        "lum. dist.", "comov.snd.hrz.", "(.)rho_g", "(.)rho_b", "(.)rho_cdm", "(.)rho_ncdm[0]", "(.)p_ncdm[0]",
        "(.)rho_fld", "(.)w_fld", "(.)rho_ur", "(.)rho_crit", "(.)rho_tot", "(.)p_tot", "(.)p_tot_prime",
        "Omega_r(z)", "Omega_m(z)", "gr.fac. D", "gr.fac. f",
    ]


def test_vmap_over_h():
    p, _ = from_class_dict(COSMOS["lcdm_nu"])
    hs = jnp.array([0.64, 0.68, 0.72])
    ages = jax.vmap(lambda h: background_solve(p.replace(h=h), FAST).age_Gyr)(hs)
    single = [float(background_solve(p.replace(h=h), FAST).age_Gyr) for h in (0.64, 0.68, 0.72)]
    assert np.allclose(ages, single, rtol=1e-13)


# ------------------------------------------------------------------------------------ gradients
Z_OBS = jnp.array([0.5, 2.0, 1090.0])
GRAD_PARAMS = ("h", "omega_b", "omega_cdm", "m_ncdm", "Omega_k", "w0_fld")


def _outputs(theta, p0):
    kw = dict(zip(GRAD_PARAMS, theta))
    m = p0.m_ncdm.at[0].set(kw.pop("m_ncdm"))
    bg = background_solve(p0.replace(m_ncdm=m, **kw), FAST)
    return jnp.concatenate([bg.H_of_z(Z_OBS), bg.angular_distance(Z_OBS), bg.rs_of_z(Z_OBS),
                            jnp.stack([bg.age_Gyr, bg.conformal_age]), bg.growth_D(Z_OBS[:2])])


@functools.lru_cache(maxsize=None)
def _jitted():
    return jax.jit(_outputs), jax.jit(jax.jacfwd(_outputs)), jax.jit(jax.jacrev(_outputs))


@pytest.mark.parametrize("name", list(COSMOS))
def test_ad_vs_finite_differences(name):
    p0, _ = from_class_dict(COSMOS[name])
    theta0 = np.array([float(p0.h), float(p0.omega_b), float(p0.omega_cdm), float(p0.m_ncdm[0]),
                       float(p0.Omega_k), float(p0.w0_fld)])
    f, jf, jr = _jitted()
    J = np.asarray(jf(jnp.asarray(theta0), p0))
    Jr = np.asarray(jr(jnp.asarray(theta0), p0))
    scale = np.maximum(np.abs(theta0), 0.05)
    out = np.asarray(f(jnp.asarray(theta0), p0))
    # forward and reverse mode agree (derivatives normalised to d ln(out) / d ln(param))
    assert np.max(np.abs(J - Jr) * scale[None, :] / np.abs(out)[:, None]) < 1e-12
    for j in range(len(theta0)):
        if GRAD_PARAMS[j] == "w0_fld" and not p0.has_fld:
            assert np.all(J[:, j] == 0.0)
            continue
        hstep = 1e-4 * scale[j]
        tp, tm = theta0.copy(), theta0.copy()
        tp[j] += hstep
        tm[j] -= hstep
        fd = (np.asarray(f(jnp.asarray(tp), p0)) - np.asarray(f(jnp.asarray(tm), p0))) / (2 * hstep)
        # relative to the output's size per unit relative parameter change
        err = np.abs(J[:, j] - fd) * scale[j] / np.abs(out)
        assert np.max(err) < 1e-7, (GRAD_PARAMS[j], err)
        nz = np.abs(fd) * scale[j] / np.abs(out) > 1e-6
        assert np.all(np.abs(J[nz, j] / fd[nz] - 1) < 1e-4), (GRAD_PARAMS[j], J[:, j], fd)


# ------------------------------------------------------------------------------------ accuracy vs CLASS
REF_DIR = os.path.join(os.path.dirname(__file__), "reference")
# classy get_background() columns compared, with the z range over which each is meaningful
_ACC_COLUMNS = ("H [1/Mpc]", "conf. time [Mpc]", "proper time [Gyr]", "comov.snd.hrz.", "comov. dist.",
                "ang.diam.dist.", "lum. dist.", "gr.fac. D", "gr.fac. f")
ACC_TOL = 1e-5  # measured <= 1e-6 (limited by CLASS's own ncdm quadrature, tol_ncdm_bg = 1e-5)


def _ref_names():
    from boltzax.testing import list_references

    return [n for n in list_references() if "bg/z" in load_reference(n)]


def load_reference(name):
    from boltzax.testing import load_reference as _load

    return _load(name)


_REFS = _ref_names()


@functools.lru_cache(maxsize=None)
def _solve_default():
    return jax.jit(background_solve, static_argnums=1)


@pytest.mark.parametrize("name", _REFS or [None])
def test_accuracy_vs_class_reference(name):
    """H, times, distances, sound horizon, growth, age, conformal age vs CLASS (default precision) at
    every reference cosmology (tests/reference: LCDM+nu over the box, w0wa, +-Omega_k, 2-3 ncdm, N_ur)."""
    if name is None or len(_REFS) < 3:
        pytest.skip(f"need >= 3 reference cosmologies with a background table in {REF_DIR}, found {len(_REFS)}")
    from boltzax.testing import max_rel_err, reference_params

    ref = load_reference(name)
    bg = _solve_default()(reference_params(name, "bg"), DEFAULT)
    z = np.asarray(ref["bg/z"])
    ours = background_table(bg, jnp.asarray(z))
    errs = {}
    for k in _ACC_COLUMNS:
        mask = np.abs(ref["bg/" + k]) > 0
        if k in ("comov. dist.", "ang.diam.dist.", "lum. dist."):
            mask &= z > 1e-2  # chi = tau0 - tau(z) cancels at z -> 0 (in both codes)
        errs[k] = max_rel_err(np.asarray(ours[k]), ref["bg/" + k], mask=mask, floor=1e-300)
    errs["age"] = abs(float(bg.age_Gyr) / float(ref["derived/age"]) - 1)
    errs["conformal_age"] = abs(float(bg.conformal_age) / float(ref["derived/conformal_age"]) - 1)
    errs["Neff"] = abs(float(derived_densities(reference_params(name, "bg"), DEFAULT)["Neff"])
                       / float(ref["derived/Neff"]) - 1)
    bad = {k: v for k, v in errs.items() if v > ACC_TOL}
    assert not bad, f"{name}: {bad}"


def test_z_of_tau_derivatives():
    """z_of_tau: Newton iterations outside the graph, one implicit-function step inside; its derivatives
    w.r.t. tau and h match central differences."""
    p, _ = from_class_dict(COSMOS["lcdm_nu"])

    def zt(tau, h):
        return background_solve(p.replace(h=h), FAST).z_of_tau(tau)

    g = jax.jit(jax.grad(zt, argnums=(0, 1)))
    f = jax.jit(zt)
    for tau in (300.0, 5000.0, 13000.0):
        dt, dh = (float(x) for x in g(tau, 0.6732))
        fd_t = (float(f(tau + 1e-3, 0.6732)) - float(f(tau - 1e-3, 0.6732))) / 2e-3
        fd_h = (float(f(tau, 0.6732 + 1e-5)) - float(f(tau, 0.6732 - 1e-5))) / 2e-5
        z = float(f(tau, 0.6732))
        assert dt == pytest.approx(fd_t, rel=1e-6)
        # d ln(1+z) / d ln h, normalised (at early times z barely depends on h at fixed omega's)
        assert abs(dh - fd_h) * 0.6732 / (1 + z) < 1e-8


def test_default_converged_against_high():
    """Numerical convergence without CLASS: the default preset agrees with the high one to < 1e-7
    (measured: H 2e-11, tau/t/r_s 3e-10, D and f 5e-9, distances at z >= 0.01 4e-8)."""
    p, _ = from_class_dict(COSMOS["3nu_okm"])
    z = jnp.geomspace(1e-2, 1e6, 200)
    t_def = background_table(background_solve(p, DEFAULT), z)
    t_high = background_table(background_solve(p, PRESETS["high"].background), z)
    for k in _ACC_COLUMNS:
        assert np.max(np.abs(np.asarray(t_def[k]) / np.asarray(t_high[k]) - 1)) < 1e-7, k
