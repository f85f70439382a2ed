"""Bias / counterterm parameters and the cheap assembly of galaxy and matter spectra (native API).

Native units throughout: k in h/Mpc, P in (Mpc/h)^3, c_s^2-type counterterms in (Mpc/h)^2,
b4 in (Mpc/h)^4, shot-noise terms in (Mpc/h)^3.  The pieces `c` are `spectra.components`
interpolated to k (`pieces_at_k`); every spectrum is linear in the pieces and at most quadratic
in the bias parameters, so `jax.vmap` over a batch of `BiasParams` (or `jax.jacfwd` for an
analytic marginalisation of the linear ones: cs_i, Pshot, a0, a2, b4 and bGamma3) is cheap.

Model (Chudaykin, Ivanov, Philcox, Simonović 2020, arXiv:2004.10607, sec. 2; Ivanov et al.
2019, arXiv:1909.05277, sec. 2), with CLASS-PT's piece layout (README of the reference data):

  P_mm  = P_tree + P_1loop + 2 c_s k^2-term,
  P_gg  = b1^2 (P_tree + P_1loop) + b1 b2 I_d2 + b2^2/4 I_d2d2 + 2 b1 bG2 I_G2
          + b1 (2 bG2 + 4/5 bGamma3) F_G2 + bG2^2 I_G2G2 + b2 bG2 I_d2G2 + counterterms + P_shot,
  P_ell = sum of the pieces of ell times their bias coefficients + 2 c_ell (k^2-shape pieces)
          + ell-projection of the FoG term -b4 f^4 mu^4 k^4 (b1 + f mu^2)^2 P + stochastic terms.

Differences from CLASS-PT's released wrappers (deliberate, see classpt_api for the parity layer):
the b4 and a0/a2 terms use k in h/Mpc (CLASS-PT: 1/Mpc, i.e. its b4 is h^2 x ours and its
a0, a2 are h^-2 x ours at fixed k in h/Mpc), and P_0 has no 1/4 b2^2 Pd2d2_0 constant
(CLASS-PT adds a k-grid-dependent constant; here it is part of the shot noise).
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from boltzax.pt import fftlog


class BiasParams(NamedTuple):
    """Bias and EFT parameters (a pytree).  Units: native (h/Mpc)."""

    b1: float = 1.0
    b2: float = 0.0
    bG2: float = 0.0
    bGamma3: float = 0.0
    cs: float = 0.0  # real-space counterterm, (Mpc/h)^2
    cs0: float = 0.0  # (Mpc/h)^2
    cs2: float = 0.0
    cs4: float = 0.0
    Pshot: float = 0.0  # (Mpc/h)^3
    a0: float = 0.0  # (Mpc/h)^3, k^2 shot noise (k/0.45 h/Mpc)^2
    a2: float = 0.0  # (Mpc/h)^3, mu^2 k^2 shot noise
    b4: float = 0.0  # (Mpc/h)^4, FoG k^4 mu^4 term


K_STOCH = 0.45  # h/Mpc, normalisation scale of the a0/a2 terms (CLASS-PT classy.pyx wrappers)


def pieces_at_k(nodes, k):
    """Natural cubic spline in k of the node pieces (48, 256) at k [h/Mpc] (static k)."""
    W = fftlog.spline_eval_matrix(fftlog.k_nodes(), np.asarray(k, float))
    return nodes @ W.T


def p_mm_real(c, p: BiasParams):
    return c[0] + c[14] + 2.0 * p.cs * c[10]


def p_gm_real(c, p: BiasParams):
    return (p.b1 * (c[14] + c[0]) + (2.0 * p.cs * p.b1 + p.cs0) * c[10] + 0.5 * p.b2 * c[2]
            + p.bG2 * c[3] + (p.bG2 + 0.4 * p.bGamma3) * c[6])


def p_gg_real(c, p: BiasParams):
    b1, b2, bG2 = p.b1, p.b2, p.bG2
    return (b1 ** 2 * (c[14] + c[0]) + 2.0 * (p.cs * b1 ** 2 + p.cs0 * b1) * c[10] + b1 * b2 * c[2]
            + 0.25 * b2 ** 2 * c[1] + 2.0 * b1 * bG2 * c[3] + b1 * (2.0 * bG2 + 0.8 * p.bGamma3) * c[6]
            + bG2 ** 2 * c[5] + b2 * bG2 * c[4] + p.Pshot)


def p_mm_ell(c, p: BiasParams):
    """Matter multipoles (P0, P2, P4) with counterterms cs0, cs2, cs4."""
    P0 = c[15] + c[21] + c[16] + c[22] + c[17] + c[23] + 2.0 * p.cs0 * c[11]
    P2 = c[18] + c[24] + c[19] + c[25] + c[26] + 2.0 * p.cs2 * c[12]
    P4 = c[20] + c[27] + c[28] + c[29] + 2.0 * p.cs4 * c[13]
    return P0, P2, P4


def _fog(c, k, f, b1, ell):
    """ell-projection of -b4 f^4 mu^4 k^4 (b1 + f mu^2)^2 P_IR, using piece 13
    (= -(8 f^2/35) k^2 P projected) so that IR resummation and AP are included as in CLASS-PT."""
    coef = {0: f ** 2 / 9.0 + 2.0 * f * b1 / 7.0 + b1 ** 2 / 5.0,
            2: (70.0 * f ** 2 + 165.0 * f * b1 + 99.0 * b1 ** 2) * 4.0 / 693.0,
            4: (210.0 * f ** 2 + 390.0 * f * b1 + 143.0 * b1 ** 2) * 8.0 / 5005.0}[ell]
    return f ** 2 * k ** 2 * coef * (35.0 / 8.0) * c[13]


def p_gg_ell(c, k, f, p: BiasParams):
    """Galaxy multipoles (P0, P2, P4) in native units (k in h/Mpc everywhere)."""
    b1, b2, bG2, g3 = p.b1, p.b2, p.bG2, p.bGamma3
    x2 = (k / K_STOCH) ** 2
    P0 = (c[15] + c[21] + b1 * (c[16] + c[22]) + b1 ** 2 * (c[17] + c[23]) + 0.25 * b2 ** 2 * c[1]
          + b1 * b2 * c[30] + b2 * c[31] + b1 * bG2 * c[32] + bG2 * c[33] + b2 * bG2 * c[4]
          + bG2 ** 2 * c[5] + 2.0 * p.cs0 * c[11] + (2.0 * bG2 + 0.8 * g3) * (b1 * c[7] + c[8])
          + p.Pshot + p.a0 * x2 + p.a2 * x2 / 3.0 + p.b4 * _fog(c, k, f, b1, 0))
    P2 = (c[18] + c[24] + b1 * (c[19] + c[25]) + b1 ** 2 * c[26] + b1 * b2 * c[34] + b2 * c[35]
          + b1 * bG2 * c[36] + bG2 * c[37] + 2.0 * p.cs2 * c[12] + (2.0 * bG2 + 0.8 * g3) * c[9]
          + p.a2 * x2 * 2.0 / 3.0 + p.b4 * _fog(c, k, f, b1, 2))
    P4 = (c[20] + c[27] + b1 * c[28] + b1 ** 2 * c[29] + b2 * c[38] + bG2 * c[39]
          + 2.0 * p.cs4 * c[13] + p.b4 * _fog(c, k, f, b1, 4))
    return P0, P2, P4


def all_spectra(c, k, f, p: BiasParams) -> dict:
    """Every assembled spectrum for one parameter set (jit/vmap over `p`)."""
    P0, P2, P4 = p_gg_ell(c, k, f, p)
    M0, M2, M4 = p_mm_ell(c, p)
    return {"mm_real": p_mm_real(c, p), "gm_real": p_gm_real(c, p), "gg_real": p_gg_real(c, p),
            "mm_l0": M0, "mm_l2": M2, "mm_l4": M4, "gg_l0": P0, "gg_l2": P2, "gg_l4": P4}
