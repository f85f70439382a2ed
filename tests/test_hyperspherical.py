"""Hyperspherical Bessel functions (boltzax.hyperspherical) against an independent closed form, the flat limit, and
the accuracy of CLASS's quintic Hermite table interpolation.

Independent evaluation (mpmath, 30 digits): from Phi^l_nu = [prod_{n<=l}(nu^2 - K n^2)]^{-1/2} nu^{-2} sin_K^l
(-1/sin_K d/dchi)^{l+1} cos(nu chi) (Kosowsky 1998 eq. 8; Lesgourgues & Tram 2014), with u = cos_K chi,
cos(nu chi) = 2F1(nu', -nu'; 1/2; (1-u)/2) (nu' = nu for K = +1, i nu for K = -1) and the derivative rule of 2F1:

    Phi^l_nu(chi) = sqrt(prod_{n=1}^{l} (nu^2 - K n^2)) sin_K^l(chi) / (2l+1)!!
                    * 2F1(l+1+nu', l+1-nu'; l+3/2; (1 - cos_K chi)/2),

a terminating (Gegenbauer) series for closed space. No recurrence in l is used, unlike the module.
"""

import math

import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest
from scipy.special import spherical_jn

from boltzax.errors import CosmoSevereError
from boltzax.hyperspherical import HyperTable, hermite6_phi, phi_dphi, x_min_phi


def phi_closed_form(sgn_k, nu, l, chi, dps=30):
    """Phi^l_nu(chi) from the hypergeometric closed form (module docstring), mpmath, as a float."""
    with mp.workdps(dps):
        return float(_phi_mp(sgn_k, nu, l, chi))


def _phi_mp(sgn_k, nu, l, chi):
    if True:
        nu, chi = mp.mpf(nu), mp.mpf(chi)
        norm = mp.sqrt(mp.fprod([nu ** 2 - sgn_k * n * n for n in range(1, l + 1)])) if l > 0 else mp.mpf(1)
        double_fact = mp.fprod([2 * k + 1 for k in range(l + 1)])
        if sgn_k == -1:
            s, z, nup = mp.sinh(chi), -mp.sinh(chi / 2) ** 2, 1j * nu
        else:
            s, z, nup = mp.sin(chi), mp.sin(chi / 2) ** 2, nu
        val = norm * s ** l / double_fact * mp.hyp2f1(l + 1 + nup, l + 1 - nup, l + mp.mpf(3) / 2, z)
        return mp.re(val)


def dphi_closed_form(sgn_k, nu, l, chi):
    """dPhi/dchi of the closed form by mpmath numerical differentiation at 40 digits."""
    with mp.workdps(40):
        return float(mp.diff(lambda c: _phi_mp(sgn_k, nu, l, c), mp.mpf(chi)))


CASES = [  # (sgn K, nu, l list, chi list): small and large nu, l up to 2000, both sides of the turning points
    (-1, 7.3, (0, 1, 2, 5, 10, 40), (0.1, 0.5, 2.0)),
    (-1, 50.0, (0, 1, 3, 8, 20, 40), (0.05, 0.3, 1.0)),
    (-1, 3000.0, (2, 100, 1000, 2000), (0.3, 0.5, 0.7)),
    (1, 9, (0, 1, 3, 5, 8), (0.3, 1.0, 1.5)),
    (1, 60, (0, 2, 10, 40, 58, 59), (0.2, 0.7, 1.4)),
    (1, 3000, (2, 100, 1000, 2000, 2999), (0.3, 0.7, 1.2)),
]


@pytest.mark.parametrize("sgn_k,nu,ls,chis", CASES)
def test_phi_against_closed_form(sgn_k, nu, ls, chis):
    phi, _ = phi_dphi(sgn_k, nu, ls, np.array(chis))
    ref = np.array([[phi_closed_form(sgn_k, nu, l, c) for c in chis] for l in ls])
    big = np.abs(ref) > 1e-250
    rel = np.abs(phi - ref)[big] / np.abs(ref[big])
    assert rel.max() < 1e-11, rel.max()


@pytest.mark.parametrize("sgn_k,nu", [(-1, 20.5), (1, 25)])
def test_dphi_against_closed_form(sgn_k, nu):
    ls, chis = (0, 3, 12), (0.2, 0.9)
    _, dphi = phi_dphi(sgn_k, nu, ls, np.array(chis))
    ref = np.array([[dphi_closed_form(sgn_k, nu, l, c) for c in chis] for l in ls])
    assert np.max(np.abs(dphi - ref)) < 1e-9 * np.max(np.abs(ref))


@pytest.mark.parametrize("sgn_k", [-1, 1])
def test_flat_limit(sgn_k):
    """Phi^l_nu(x/nu) -> j_l(x) as nu -> infinity; the difference falls as 1/nu^2 (curvature correction)."""
    x = np.array([5.0, 50.0, 200.0])
    ls = [10, 100]
    jl = spherical_jn(np.array(ls)[:, None], x[None, :])
    errs = []
    for nu in (1e3, 1e4, 1e5):
        phi, _ = phi_dphi(sgn_k, float(int(nu)), ls, x / nu)
        errs.append(np.max(np.abs(phi - jl)))
    assert errs[2] < 2e-7
    assert 50 < errs[0] / errs[1] < 200 and 50 < errs[1] / errs[2] < 200  # ~ nu^-2


@pytest.mark.parametrize("sgn_k,nu", [(-1, 400.0), (1, 400), (-1, 2500.0)])
def test_table_interpolation(sgn_k, nu):
    """CLASS's table (sampling 7 or 3 points per 2 pi/nu) with the quintic Hermite rule: max error on Phi and
    dPhi relative to the row's max |Phi|, |dPhi|. Measured: ~3e-6 (Phi), 5e-6 (dPhi) with 7 points per period
    (nu <= 1000), ~3.5e-4, 6.5e-4 with 3 (nu > 1000); the error scales as h^6 (quintic), checked 3 -> 5 -> 7."""
    ls = (2, 10, 50, 100, 200, 300)
    x_max = 0.6
    tab = HyperTable(sgn_k, nu, ls, x_max)
    xs = np.sort(np.random.default_rng(1).uniform(1e-3, x_max - 1e-3, 3000))
    ex, dex = phi_dphi(sgn_k, tab.nu, tab.ls, xs)
    tol = 2e-5 if nu <= 1000 else 1e-3
    for i, l in enumerate(tab.ls):
        p, dp, _ = hermite6_phi(jnp.asarray(tab.phi[i]), jnp.asarray(tab.dphi[i]), float(l), jnp.asarray(xs),
                                sgn_k, tab.nu, tab.x_min, tab.dx)
        assert np.max(np.abs(np.asarray(p) - ex[i])) < tol * np.max(np.abs(ex[i]))
        assert np.max(np.abs(np.asarray(dp) - dex[i])) < tol * np.max(np.abs(dex[i]))
    # second derivative against the radial equation at the exact values
    l = tab.ls[2]
    _, _, d2p = hermite6_phi(jnp.asarray(tab.phi[2]), jnp.asarray(tab.dphi[2]), float(l), jnp.asarray(xs), sgn_k,
                             tab.nu, tab.x_min, tab.dx)
    sk, ck = (np.sinh(xs), 1 / np.tanh(xs)) if sgn_k == -1 else (np.sin(xs), 1 / np.tan(xs))
    d2_exact = -2 * ck * dex[2] + ex[2] * (l * (l + 1) / sk ** 2 - tab.nu ** 2 + sgn_k)
    assert np.max(np.abs(np.asarray(d2p) - d2_exact)) < 2.5 * tol * np.max(np.abs(d2_exact))


def test_closed_fold():
    """K = +1: the table covers [x_min, pi/2 - x_min]; values on (pi/2, 2 pi) follow from ClosedModY's symmetries."""
    nu, ls = 41, (2, 7, 20)
    tab = HyperTable(1, nu, ls, 10.0)  # x_max capped at pi/2 - x_min
    assert tab.x_max == pytest.approx(math.pi / 2 - 1e-5)
    xs = np.array([1.9, 2.6, 3.5, 4.4, 5.9])
    for i, l in enumerate(ls):
        p, dp, _ = hermite6_phi(jnp.asarray(tab.phi[i]), jnp.asarray(tab.dphi[i]), float(l), jnp.asarray(xs), 1,
                                float(nu), tab.x_min, tab.dx)
        ref = np.array([phi_closed_form(1, nu, l, c) for c in xs])
        dref = np.array([dphi_closed_form(1, nu, l, c) for c in xs])
        scale = np.max(np.abs(tab.phi[i]))
        assert np.max(np.abs(np.asarray(p) - ref)) < 2e-5 * scale
        assert np.max(np.abs(np.asarray(dp) - dref)) < 2e-5 * np.max(np.abs(tab.dphi[i]))


@pytest.mark.parametrize("sgn_k", [-1, 1])
def test_x_min_phi(sgn_k):
    """CLASS's chi_at_phimin estimate: |Phi| is below ~phi_min_abs there and negligible well below it."""
    nu = 400.0
    for l in (10, 100, 300):
        xc = x_min_phi(sgn_k, nu, l)
        p, _ = phi_dphi(sgn_k, nu, [l], np.array([0.9 * xc, xc]))
        assert abs(p[0, 1]) < 3e-10 and abs(p[0, 0]) < 1e-10


def test_bad_input():
    with pytest.raises(CosmoSevereError, match="nu"):
        HyperTable(1, 10.5, (2, 3), 1.0)
    with pytest.raises(CosmoSevereError, match="sgn_k"):
        HyperTable(0, 10.0, (2, 3), 1.0)
