"""Primordial helium fraction from Big-Bang nucleosynthesis, as CLASS v3.4.1 computes it
(``source/thermodynamics.c``, ``thermodynamics_helium_from_bbn``).

Table: ``boltzax/data/bbn_sBBN_2025.npz``, a conversion of CLASS's default ``external/bbn/sBBN_2025.dat``
(PArthENoPE v3.0.0: Pisanti et al. 2008, arXiv:0705.0290; Consiglio et al. 2018, arXiv:1712.04378;
Gariazzo et al. 2022, arXiv:2103.05027; tau_n = 878.4 s), YHe on a grid of (omega_b, DeltaN).

Interpolation (CLASS): a natural cubic spline along DeltaN at every tabulated omega_b, evaluated at
DeltaN_eff, then a natural cubic spline along omega_b evaluated at omega_b. Both splines are linear in
the tabulated data, so the omega_b splines of every table row (and of every row of the DeltaN second
derivatives) are precomputed here once in numpy; at run time YHe is a differentiable combination of them.

N_eff at BBN (CLASS evaluates (rho_r - rho_g)/(7/8 (4/11)^{4/3} rho_g) at T = 0.1 MeV, where the ncdm
species are ultra-relativistic): N_eff = N_ur + sum_i deg_i T_ncdm,i^4 (11/4)^{4/3}, and CLASS uses
DeltaN = N_eff - 3.046 (its comment: the table is taken to assume 3.046).
"""

from __future__ import annotations

import functools
import os

import jax.numpy as jnp
import numpy as np

_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data", "bbn_sBBN_2025.npz")
NEFF_REF = 3.046  # DeltaNeff = Neff_bbn - 3.046 (thermodynamics_helium_from_bbn)


def _natural_spline_d2(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Second derivatives of the natural cubic spline through (x, y) along axis 0 (numpy, host)."""
    n = len(x)
    h = np.diff(x)
    A = np.zeros((n, n))
    r = np.zeros((n,) + y.shape[1:])
    A[0, 0] = A[-1, -1] = 1.0
    for i in range(1, n - 1):
        A[i, i - 1] = h[i - 1] / 6.0
        A[i, i] = (h[i - 1] + h[i]) / 3.0
        A[i, i + 1] = h[i] / 6.0
        r[i] = (y[i + 1] - y[i]) / h[i] - (y[i] - y[i - 1]) / h[i - 1]
    return np.linalg.solve(A, r.reshape(n, -1)).reshape(y.shape)


@functools.lru_cache(maxsize=1)
def _tables():
    d = np.load(_DATA)
    ob, dn, Y = d["omega_b"], d["delta_N"], d["YHe"]  # Y: (n_dN, n_ob)
    Mdn = _natural_spline_d2(dn, Y)  # d2Y/dDeltaN2 at each omega_b
    rows = np.concatenate([Y, Mdn], axis=0)  # (2 n_dN, n_ob)
    rows_d2 = _natural_spline_d2(ob, rows.T).T  # omega_b second derivatives of each row
    return ob, dn, rows, rows_d2


def _spline_weights(x_grid, x):
    """(k, A, B, Ah, Bh) of the cubic-spline formula y = A y_k + B y_k+1 + Ah y''_k + Bh y''_k+1."""
    xg = jnp.asarray(x_grid)
    k = jnp.clip(jnp.searchsorted(xg, x, side="right") - 1, 0, len(x_grid) - 2)
    h = xg[k + 1] - xg[k]
    A = (xg[k + 1] - x) / h
    B = 1.0 - A
    return k, A, B, (A**3 - A) * h * h / 6.0, (B**3 - B) * h * h / 6.0


def neff_at_bbn(params):
    """N_eff at T = 0.1 MeV: N_ur plus the ultra-relativistic ncdm species."""
    ncdm = jnp.sum(params.deg_ncdm * params.T_ncdm**4) * (11.0 / 4.0) ** (4.0 / 3.0) if params.n_ncdm else 0.0
    return params.N_ur + ncdm


def yhe_from_bbn(omega_b, delta_N):
    """YHe(omega_b, DeltaN) with CLASS's two successive natural cubic splines (differentiable).

    Outside the table CLASS stops with an error; here the arguments are clipped to the table
    (use `check_bbn_range` host-side for the error)."""
    ob, dn, rows, rows_d2 = _tables()
    w = jnp.clip(omega_b, ob[0], ob[-1])
    n = jnp.clip(delta_N, dn[0], dn[-1])
    k, A, B, Ah, Bh = _spline_weights(ob, w)
    R, R2 = jnp.asarray(rows), jnp.asarray(rows_d2)
    vals = A * R[:, k] + B * R[:, k + 1] + Ah * R2[:, k] + Bh * R2[:, k + 1]  # each row at omega_b
    nd = len(dn)
    Yw, Mw = vals[:nd], vals[nd:]
    j, a, b, ah, bh = _spline_weights(dn, n)
    return a * Yw[j] + b * Yw[j + 1] + ah * Mw[j] + bh * Mw[j + 1]


def yhe_bbn(params):
    """YHe for a CosmoParams (omega_b and N_eff at BBN), as CLASS with YHe = 'BBN'."""
    return yhe_from_bbn(params.omega_b, neff_at_bbn(params) - NEFF_REF)


def check_bbn_range(omega_b: float, delta_N: float) -> None:
    """Raise CosmoSevereError (host side) when CLASS would refuse the BBN interpolation (thermodynamics.c,
    thermodynamics_helium_from_bbn), naming the parameter and the allowed range."""
    from ..errors import CosmoSevereError

    ob, dn, _, _ = _tables()
    if not ob[0] <= omega_b <= ob[-1]:
        raise CosmoSevereError(f"Parameter 'omega_b' = {omega_b:.6g} outside the BBN helium table: allowed range "
                               f"[{ob[0]:g}, {ob[-1]:g}] with YHe = 'BBN' (fix 'YHe' to a number instead)")
    if not dn[0] <= delta_N <= dn[-1]:
        neff = delta_N + NEFF_REF
        raise CosmoSevereError(f"Parameters 'N_ur' / 'N_ncdm': N_eff at BBN = {neff:.6g} (Delta N_eff = {delta_N:.6g}) "
                               f"outside the BBN helium table: allowed N_eff at BBN in [{dn[0] + NEFF_REF:g}, "
                               f"{dn[-1] + NEFF_REF:g}] with YHe = 'BBN' (fix 'YHe' to a number instead)")
