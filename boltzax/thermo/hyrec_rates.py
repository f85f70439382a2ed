"""HyRec-2020 atomic physics as pure JAX functions (SWIFT model, no varying constants, no injection).

HyRec-2020: Y. Ali-Haimoud & C. Hirata, PRD 83, 043513 (2011), arXiv:1011.3758 ("AH11", effective
multi-level atom, EMLA); N. Lee & Y. Ali-Haimoud, PRD 102, 083517 (2020), arXiv:2007.14114 ("LA20",
SWIFT correction function). The equations below follow the C files of HyRec2020 shipped with
CLASS v3.4.1 (``external/HyRec2020/hydrogen.c``, ``helium.c``); this is an independent JAX
implementation, written from those equations.

Units (as in HyRec): temperatures in eV unless a name ends in ``_K``, densities in cm^-3, rates
in 1/s, H in 1/s. All functions are scalar-in/scalar-out and vectorise with ``jnp`` broadcasting or
``vmap``; they are safe for autodiff (inputs of inactive branches are replaced by harmless values
before evaluation, the "double where" pattern, so that no NaN reaches a gradient).

The effective-rate tables (Alpha_inf.dat, R_inf.dat, fit_swift.dat) are read from
``boltzax/data/hyrec_tables.npz`` (converted by ``tools/convert_hyrec_tables.py``).
"""

from __future__ import annotations

import os

import jax.numpy as jnp
import numpy as np
from jax import lax

# ---- constants of HyRec2020 hydrogen.h (cgs + eV). fsR = meR = 1 (no varying constants) ----------
EI = 13.598286071938324  # H ionisation energy [eV], reduced mass, no relativistic corrections
K_BOLTZ = 8.617343e-5  # Boltzmann constant [eV/K] (HyRec's value)
L2S1S = 8.2206  # 2s->1s two-photon decay rate [1/s] (Labzowsky et al. 2005)
SAHA_FACT = 3.016103031869581e21  # (2 pi mu_e)^(3/2)/h^3 [eV^-3/2 cm^-3] (hydrogen.c SAHA_FACT)
LYA_FACT = 4.662899067555897e15  # 8 pi / (3 lambda_Lya^3) [cm^-3] (hydrogen.c LYA_FACT)
TR_MIN, TR_MAX, NTR = 0.004, 0.4, 100  # T_r range [eV] and size of the effective-rate tables
T_RATIO_MIN, T_RATIO_MAX, NTM = 0.1, 1.0, 40  # min(Tm/Tr, Tr/Tm) range of the tables
PION_MAX = 1e-2  # below this n=2 photo-ionisation probability, EMLA without correction (hydrogen.h)
XHEII_MIN = 1e-6  # He II abundance below which helium is no longer evolved (history.h XHEII_MIN)

_DLOGTR = (np.log(TR_MAX) - np.log(TR_MIN)) / (NTR - 1)
_DT_RATIO = (T_RATIO_MAX - T_RATIO_MIN) / (NTM - 1)

_TABLE_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data", "hyrec_tables.npz")


def _load_tables():
    d = np.load(_TABLE_PATH)
    log_alpha = np.log(d["alpha"])  # (4, NTM, NTR): [column, T ratio, T_r]
    log_r = np.log(d["R2p2s"])  # (NTR,)
    swift = np.asarray(d["swift"])  # (5, 265): T_r [K], DK/K fid, d/d omega_cb, d/d omega_b(1-Y), d/d N_eff
    return log_alpha, log_r, swift


_LOG_ALPHA, _LOG_R2P2S, _SWIFT = _load_tables()
SWIFT_T_MIN_K = float(_SWIFT[0, 0])  # 1775 K
SWIFT_T_MAX_K = float(_SWIFT[0, -1])  # 4415 K
_SWIFT_DT = float(_SWIFT[0, 1] - _SWIFT[0, 0])  # 10 K


def _lagrange4_weights(frac):
    """Weights of HyRec's 4-point cubic Lagrange interpolation on nodes -1, 0, 1, 2 (hyrectools.c)."""
    return jnp.stack(
        [
            frac * (frac - 1.0) * (2.0 - frac) / 6.0,
            (1.0 + frac) * (1.0 - frac) * (2.0 - frac) / 2.0,
            (1.0 + frac) * frac * (2.0 - frac) / 2.0,
            (1.0 + frac) * frac * (frac - 1.0) / 6.0,
        ]
    )


def _locate(x, x0, dx, n):
    """Index ix in [1, n-3] and fractional offset, as in HyRec's rec_interp1d (uniform grid)."""
    t = (x - x0) / dx
    ix = jnp.clip(jnp.floor(t), 1, n - 3).astype(jnp.int32)
    return ix, t - ix


def interp1d_uniform(table, x0, dx, x):
    """HyRec's cubic interpolation of a uniformly tabulated function (rec_interp1d), scalar x."""
    table = jnp.asarray(table)
    ix, frac = _locate(x, x0, dx, table.shape[0])
    y4 = lax.dynamic_slice(table, (ix - 1,), (4,))
    return jnp.dot(_lagrange4_weights(frac), y4)


def interpolate_rates(TR, TM_TR):
    """Effective EMLA rates at radiation temperature TR [eV] and ratio TM_TR = T_m/T_r.

    Returns (Alpha[2], DAlpha[2], Beta[2], R2p2s): effective recombination coefficients to 2s, 2p
    [cm^3/s] at (T_m, T_r), their difference to the value at T_m = T_r, the photo-ionisation rates
    from 2s, 2p [1/s] (detailed balance from Alpha(T_r, T_r)) and the 2p->2s transfer rate [1/s].
    AH11 Sec. III; HyRec hydrogen.c interpolate_rates. Inputs are clipped to the table range (HyRec
    raises an error outside it; the callers never use these rates outside it).
    """
    TR = jnp.clip(TR, TR_MIN, TR_MAX)
    TM_TR = jnp.clip(TM_TR, T_RATIO_MIN, 1.0 / T_RATIO_MIN)
    hot = TM_TR > 1.0  # T_m > T_r: tabulated in columns 2, 3 as a function of T_r/T_m
    t_ratio = jnp.where(hot, 1.0 / TM_TR, TM_TR)

    ixr, fr = _locate(jnp.log(TR), np.log(TR_MIN), _DLOGTR, NTR)
    wr = _lagrange4_weights(fr)
    ixm, fm = _locate(t_ratio, T_RATIO_MIN, _DT_RATIO, NTM)
    wm = _lagrange4_weights(fm)

    la = jnp.asarray(_LOG_ALPHA)
    # Alpha at T_m = T_r: last row of the T-ratio axis, columns 0 (2s) and 1 (2p)
    i0 = jnp.int32(0)
    eq_block = lax.dynamic_slice(la, (i0, jnp.int32(NTM - 1), ixr - 1), (2, 1, 4))[:, 0, :]
    alpha_eq = jnp.exp(eq_block @ wr)
    boltz = SAHA_FACT * TR * jnp.sqrt(TR) * jnp.exp(-0.25 * EI / TR)
    beta = alpha_eq * boltz / jnp.array([1.0, 3.0])  # / (2l+1)
    r2p2s = jnp.exp(jnp.dot(lax.dynamic_slice(jnp.asarray(_LOG_R2P2S), (ixr - 1,), (4,)), wr))

    col0 = jnp.where(hot, 2, 0).astype(jnp.int32)
    block = lax.dynamic_slice(la, (col0, ixm - 1, ixr - 1), (2, 4, 4))  # (l, T ratio, T_r)
    alpha = jnp.exp(jnp.einsum("lmr,m,r->l", block, wm, wr))
    return alpha, alpha - alpha_eq, beta, r2p2s


def swift_correction(TR_K, omega_cb, omega_b, YHe, Neff, T_cmb):
    """SWIFT correction DK/K of the Lyman-alpha escape rate (LA20 eq. 31; hydrogen.c
    rec_swift_hyrec_dxHIIdlna): fiducial table plus first-order terms in the differences of
    omega_cb, omega_b (1-Y_He) (both rescaled by (2.7255/T_cmb)^3) and N_eff from the fiducial
    cosmology of the fit (0.14175, 0.02242, Y = 0.246738546372, N_eff = 3.046). Zero outside the
    tabulated temperature range [1775, 4415] K (HyRec uses the uncorrected EMLA there)."""
    t0 = (2.7255 / T_cmb) ** 3
    diff0 = (omega_cb - 0.14175) * t0
    diff1 = (omega_b * (1.0 - YHe) - 0.02242 * (1.0 - 0.246738546372)) * t0
    diff2 = Neff - 3.046
    inside = (TR_K >= SWIFT_T_MIN_K) & (TR_K <= SWIFT_T_MAX_K)
    T = jnp.where(inside, TR_K, 0.5 * (SWIFT_T_MIN_K + SWIFT_T_MAX_K))
    tab = jnp.asarray(_SWIFT)
    f = [interp1d_uniform(tab[i], SWIFT_T_MIN_K, _SWIFT_DT, T) for i in range(1, 5)]
    dk = f[0] + diff0 * f[1] + diff1 * f[2] + diff2 * f[3]
    return jnp.where(inside, dk, 0.0)


def alphaB_PPB(T):
    """Case-B recombination coefficient [cm^3/s] at T [eV], fit of Pequignot, Petitjean & Boisson
    1991 (hydrogen.c alphaB_PPB)."""
    t4 = T / K_BOLTZ / 1e4
    return 4.309e-13 * t4 ** (-0.6166) / (1.0 + 0.6703 * t4**0.5300)


def emla_dxHIIdlna(xe, xHII, nH, H, TM, TR, DK_K):
    """dx_HII/dln a of the EMLA (AH11 eqs. 43-46; hydrogen.c rec_HMLA_dxHIIdlna), with the Ly-alpha
    escape rate divided by (1 + DK_K) (SWIFT, hydrogen.c rec_swift_hyrec_dxHIIdlna; DK_K = 0 is
    the plain EMLA). xe, xHII per H nucleus, nH [cm^-3], H [1/s], TM, TR [eV]."""
    alpha, dalpha, beta, r2p2s = interpolate_rates(TR, TM / TR)
    rlya = LYA_FACT * H / nH / (1.0 - xHII) / (1.0 + DK_K)
    g2s = beta[0] + 3.0 * r2p2s + L2S1S
    g2p = beta[1] + r2p2s + rlya
    c2s = (L2S1S + 3.0 * r2p2s * rlya / g2p) / (g2s - 3.0 * r2p2s * r2p2s / g2p)
    c2p = (rlya + r2p2s * L2S1S / g2s) / (g2p - 3.0 * r2p2s * r2p2s / g2s)
    s = SAHA_FACT * TR * jnp.sqrt(TR) * jnp.exp(-EI / TR) / nH
    dxe2 = xe * xHII - s * (1.0 - xHII)  # x_e x_p minus its Saha value with 1s
    return -nH / H * (
        (s * (1.0 - xHII) * dalpha[0] + alpha[0] * dxe2) * c2s
        + (s * (1.0 - xHII) * dalpha[1] + alpha[1] * dxe2) * c2p
    )


def peebles_dxHIIdlna(xe, xHII, nH, H, TM, TR):
    """Peebles' effective three-level atom (fudge 1; hydrogen.c rec_TLA_dxHIIdlna), used by HyRec
    at T_r < TR_MIN or T_m/T_r < T_RATIO_MIN."""
    rlya = LYA_FACT * H / nH / (1.0 - xHII)
    a_tm, a_tr = alphaB_PPB(TM), alphaB_PPB(TR)
    four_beta = SAHA_FACT * TR * jnp.sqrt(TR) * jnp.exp(-0.25 * EI / TR) * a_tr
    c = (3.0 * rlya + L2S1S) / (3.0 * rlya + L2S1S + four_beta)
    s = SAHA_FACT * TR * jnp.sqrt(TR) * jnp.exp(-EI / TR) / nH
    dxe2 = xe * xHII - s * (1.0 - xHII)
    return -nH * (s * (1.0 - xHII) * (a_tm - a_tr) + dxe2 * a_tm) * c / H


def hydrogen_dxHIIdlna(xe, xHII, nH, H, TM, TR, z, cosmo):
    """HyRec's dx_HII/dln a in SWIFT mode as called by CLASS (wrap_hyrec.c hyrec_dx_H_dz ->
    hydrogen.c rec_dxHIIdlna): Peebles if TR <= TR_MIN or TM/TR <= 0.1; else, for z < 900, plain
    EMLA when the n=2 photo-ionisation probability is below PION_MAX; else EMLA with the SWIFT
    correction (zero outside its table). cosmo = (omega_cb, omega_b, YHe, Neff, T_cmb)."""
    peebles = (TR <= TR_MIN) | (TM / TR <= T_RATIO_MIN)
    # Pion estimate of hydrogen.c rec_dxHIIdlna (Peebles C-factor form)
    rlya = LYA_FACT * H / nH / (1.0 - xHII)
    four_beta = SAHA_FACT * TR * jnp.sqrt(TR) * jnp.exp(-0.25 * EI / TR) * alphaB_PPB(TR)
    pion = jnp.where(z < 900.0, four_beta / (3.0 * rlya + L2S1S + four_beta), 1.0)
    dk = jnp.where(pion < PION_MAX, 0.0, swift_correction(TR / K_BOLTZ, *cosmo))
    # double where: evaluate the EMLA at harmless temperatures when the Peebles branch is used
    TR_e = jnp.where(peebles, 0.1, TR)
    TM_e = jnp.where(peebles, 0.09, TM)
    emla = emla_dxHIIdlna(xe, xHII, nH, H, TM_e, TR_e, dk)
    return jnp.where(peebles, peebles_dxHIIdlna(xe, xHII, nH, H, TM, TR), emla)


def helium_dxHeIIdlna(z, xH1, xHeII, H, nH, fHe, T_cmb):
    """dx_HeII/dln a for He II -> He I (helium.c rec_helium_dxHeIIdlna): 2^1P Sobolev escape with
    continuum opacity of H (Rubino-Martin, Chluba & Sunyaev / Kholupenko; Hirata & Switzer 2008
    fit), the 2^3P intercombination line and 2^1S two-photon decay; excitation by detailed balance.
    xH1 = x_HI per H nucleus, nH [cm^-3], H [1/s]. Uses T_r (not T_m), as HyRec."""
    Tr = T_cmb * (1.0 + z)  # [K]
    xe = xHeII + (1.0 - xH1)
    xHeI = fHe - xHeII
    s0 = 2.414194e15 * Tr * jnp.sqrt(Tr) / nH * 4.0
    s = s0 * jnp.exp(-285325.0 / Tr)
    y2s = jnp.exp(46090.0 / Tr) / s0
    y2p = jnp.exp(39101.0 / Tr) / s0 * 3.0
    etacinv = 9.15776e22 * H / nH / xH1
    g2pinc = (
        1.976e6 / (1.0 - jnp.exp(-6989.0 / Tr))
        + 6.03e6 / jnp.expm1(19754.0 / Tr)
        + 1.06e8 / jnp.expm1(21539.0 / Tr)
        + 2.18e6 / jnp.expm1(28496.0 / Tr)
        + 3.37e7 / jnp.expm1(29224.0 / Tr)
        + 1.04e6 / jnp.expm1(32414.0 / Tr)
        + 1.51e7 / jnp.expm1(32781.0 / Tr)
    )
    tau2p = 4.277e-8 * nH / H * xHeI
    dnuline = g2pinc * tau2p / (4.0 * jnp.pi**2)
    tauc = dnuline / etacinv
    enh = jnp.sqrt(1.0 + jnp.pi**2 * tauc) + 7.74 * tauc / (1.0 + 70.0 * tauc)
    pesc = enh / tau2p
    pesc = pesc + (-jnp.expm1(-1.023e-7 * tau2p)) * (
        0.964525 * jnp.exp(2947.0 / Tr) - enh * jnp.exp(-6.14e13 / etacinv)
    ) / tau2p
    ydown = 50.94 * y2s + 1.7989e9 * y2p * pesc
    return ydown * (xHeI * s - xHeII * xe) / H
