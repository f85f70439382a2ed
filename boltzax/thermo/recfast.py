"""RECFAST-1.5 recombination history as in CLASS v3.4.1 (``recombination = recfast``).

Physics: Seager, Sasselov & Scott (1999, ApJ 523 L1; 2000, ApJS 128 407), RECFAST 1.4 helium updates
(Wong, Moss & Scott 2008, MNRAS 386 1023), RECFAST 1.5 hydrogen double-Gaussian correction of the
Peebles K factor (Rubino-Martin, Chluba, Fendt & Wandelt 2010, MNRAS 403 439, arXiv:0910.4383),
in the form coded in CLASS ``external/RecfastCLASS/wrap_recfast.c`` (fudge_H = 1.14 - 0.015,
fudge_He = 0.86, Heswitch = 6, photo-ionisation rates evaluated at T_matter) and with CLASS's
sequence of approximation schemes (``source/thermodynamics.c``: ``thermodynamics_ionization_fractions``,
``thermodynamics_derivs``, ``thermodynamics_sources``):

=============  ================  ==================================================================
phase          z range           x_e, evolved variables
=============  ================  ==================================================================
brec           z > 8050          Saha HeIII<->HeII; T_b = T_gamma - eps (steady state)
He1            8050 ... 4600     Saha HeIII<->HeII; T_b evolved
He1f, He2      4600 ... 2870     Saha HeII<->HeI (H fully ionised); T_b evolved
H              2870 ... 1600     Saha H (with HeII correction); x_He and T_b evolved
frec           1600 ... 0        x_H, x_He, T_b evolved (RECFAST equations)
=============  ================  ==================================================================

Output smoothing: right after each switch, CLASS blends the stored x_e between the previous and the
current scheme over 2*delta_z with the weight f2(s) = 3 s^2 - 2 s^3 (thermodynamics_sources); done here
on the grid. The Tmat equation (thermodynamics_derivs) is
    dT_b/dz = 2 T_b/(1+z) + Gamma_C (T_b - T_gamma) / (H (1+z)),
    Gamma_C = (8 sigma_T a_r T_gamma^4 / (3 m_e c)) x_e / (1 + x_e + f_He).

Numerics: the stiff ODE is integrated on the static grid `boltzax.thermo.rec_z_grid` (every switch is a
node) by the 3-stage Radau IIA method (order 5, L-stable, stiffly accurate; Hairer & Wanner, Solving ODEs
II, sec. IV.5). Each step's stage equations are solved by Newton iterations on stop-gradient'ed inputs
followed by one differentiable Newton correction, which gives exactly the implicit-function-theorem
derivatives (forward and reverse mode) without differentiating the iterations.

The two state-dependent switches of RECFAST (Peebles C = 1 while x_H > 0.995, simple K_He while
x_He > 0.995) are hard in CLASS; here they are logistic functions of x_H, x_He with width
``prec.recfast_switch_width`` (a numerical regularisation, default 1e-5, so that x_e is a smooth
function of the cosmological parameters).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C
from . import (Z_BREC_END, Z_H_END, Z_HE1_END, Z_HE2_END, Z_SWITCH_LATE, rec_z_grid)

# ---------------------------------------------------------------------------------------------------
# Atomic constants of RECFAST 1.5 (external/RecfastCLASS/wrap_recfast.h; Seager et al. 1999, RECFAST 1.4/1.5)
_LAMBDA_H = 8.2245809  # 2s->1s two-photon rate of H [1/s]
_LAMBDA_HE = 51.3  # 2s->1s two-photon rate of HeI [1/s]
_L_H_ION = 1.096787737e7  # H ionisation inverse wavelength [1/m]
_L_H_ALPHA = 8.225916453e6  # H Lyman alpha [1/m]
_L_HE1_ION = 1.98310772e7  # HeI ionisation [1/m]
_L_HE2_ION = 4.389088863e7  # HeII ionisation [1/m]
_L_HE_2S = 1.66277434e7  # HeI 1s-2s singlet [1/m]
_L_HE_2P = 1.71134891e7  # HeI 1s-2p singlet [1/m]
_A2P_S = 1.798287e9  # HeI 2p singlet Einstein A [1/s]
_A2P_T = 177.58  # HeI 2p triplet Einstein A [1/s]
_L_HE_2PT = 1.690871466e7  # HeI 2p triplet [1/m]
_L_HE_2ST = 1.5985597526e7  # HeI 2s triplet [1/m]
_L_HE2ST_ION = 3.8454693845e6  # HeI 2s triplet ionisation [1/m]
_SIGMA_HE_2PS = 1.436289e-22  # [m^2]
_SIGMA_HE_2PT = 1.484872e-22  # [m^2]
# Case-B recombination fits: Pequignot, Petitjean & Boisson (1991) for H; Verner & Ferland (1996) for He
_A_PPB, _B_PPB, _C_PPB, _D_PPB = 4.309, -0.6166, 0.6703, 0.5300
_T_0 = 10.0**0.477121
_A_VF = 10.0**-16.744
_B_VF = 0.711
_T_1 = 10.0**5.114
_A_TRIP = 10.0**-16.306
_B_TRIP = 0.761
# RECFAST 1.5 fudge and Gaussian K corrections as used by CLASS (include/precisions.h)
_FUDGE_H = 1.14 - 0.015  # recfast_fudge_H + recfast_delta_fudge_H (Hswitch on)
_FUDGE_HE = 0.86  # recfast_fudge_He
_AG1, _AG2, _ZG1, _ZG2, _WG1, _WG2 = -0.14, 0.079, 7.28, 6.73, 0.18, 0.33
_X_TRIG = 0.995  # recfast_x_H0_trigger2 = recfast_x_He0_trigger2
_X_HE_SMALL = 5.0e-9  # x_He_trigger_small (wrap_recfast.c)
_X_H_LIMIT_KHE = 0.9999999  # x_H_limit_KHe
_X_H_LIMIT_CFHE_T = 0.99999  # x_H_limit_CfHe_t
_MAX_EXP_BOLTZ = 680.0
# smoothing half-widths of the output blending after each switch (recfast_delta_z_*)
_DELTA_HE1F = 100.0  # recfast_delta_z_He_2 (blend at 4600)
_DELTA_H = 50.0  # recfast_delta_z_early_H_recombination (blend at 2870)
_DELTA_FREC = 50.0  # recfast_delta_z_full_H_recombination (blend at 1600)

_hc_k = C.h_P * C.c / C.k_B  # [m K]
_CDB = _hc_k * (_L_H_ION - _L_H_ALPHA)
_CDB_HE = _hc_k * (_L_HE1_ION - _L_HE_2S)
_T_ION_H = _hc_k * _L_H_ION
_T_ION_HEI = _hc_k * _L_HE1_ION
_T_ION_HEII = _hc_k * _L_HE2_ION
_CR = 2.0 * math.pi * (C.m_e / C.h_P) * (C.k_B / C.h_P)  # [1/(m^2 K)]
_CK = (1.0 / _L_H_ALPHA) ** 3 / (8.0 * math.pi)
_CK_HE = (1.0 / _L_HE_2P) ** 3 / (8.0 * math.pi)
_CL = _hc_k * _L_H_ALPHA
_CL_HE = _hc_k * _L_HE_2S
_CL_HET = _hc_k * _L_HE_2ST
_CDB_HE2S2P = _hc_k * (_L_HE_2P - _L_HE_2S)
_CL_PST = _hc_k * (_L_HE_2PT - _L_HE_2ST)
_T_TRIP_ION = _hc_k * _L_HE2ST_ION
# Compton rate prefactor: 2 sigma_T/(m_e c) * (4/3) a_r with a_r = 4 sigma_B / c  [1/(s K^4)]
_COMPTON = 2.0 * C.sigma_T / (C.m_e * C.c) * (4.0 / 3.0) * (4.0 * C.sigma_B / C.c)
_H_SI = C.c / C.Mpc_over_m  # H [1/Mpc] -> [1/s]


class RecHistory(eqx.Module):
    """Recombination history on a decreasing redshift grid (no reionisation).

    z: (n_z,) from z_ini to 0. x_e: free electrons per hydrogen nucleus. T_b: baryon temperature [K].
    """

    z: jax.Array
    x_e: jax.Array
    T_b: jax.Array
    # optional: x_e of the current approximation scheme before CLASS's output blending, i.e. the x_e that
    # enters the T_b equation (thermodynamics_derivs); used for dT_b/dz. None: use x_e.
    x_e_T: Any = None


class _Args(eqx.Module):
    nH0: jax.Array  # hydrogen number density today [1/m^3]
    fHe: jax.Array  # n_He / n_H
    Tcmb: jax.Array  # [K]
    w: float = eqx.field(static=True, default=1e-5)  # logistic width of the x_H/x_He triggers


def hydrogen_density_today(omega_b, YHe):
    """n_H today [1/m^3] = (1 - YHe) 3 H0^2 Omega_b / (8 pi G m_H) (thermodynamics_workspace_init)."""
    H100 = 1.0e5 / C.Mpc_over_m  # 100 km/s/Mpc in 1/s
    return 3.0 * H100**2 * omega_b / (8.0 * math.pi * C.G * C.m_H) * (1.0 - YHe)


def helium_fraction(YHe):
    """f_He = n_He/n_H = YHe / (not4 (1 - YHe)) (thermodynamics.c, thermodynamics_init)."""
    return YHe / (C.not4 * (1.0 - YHe))


# ------------------------------------------------------------------------------------- Saha phases
def _saha_ratio(T, nH, T_ion, g):
    """g (2 pi m_e k T / h^2)^{3/2} exp(-T_ion/T) / n_H (dimensionless Saha right-hand side)."""
    return jnp.exp(1.5 * jnp.log(_CR * T) - T_ion / T + jnp.log(g) - jnp.log(nH))


def _quad_root(R, a, b):
    """Positive root x of x (x - a) = b R (x_max - x)... written as x = [sqrt((R-a)^2 + 4 b R) - (R-a)]/2,
    evaluated in the cancellation-free form for both R >> 1 and R << 1."""
    is_big = R > 1.0
    Rb = jnp.where(is_big, R, 2.0)  # safe inputs for the branch not taken (finite reverse-mode AD)
    Rsm = jnp.where(is_big, 0.5, R)
    big = 2.0 * b / (1.0 - a / Rb + jnp.sqrt((1.0 - a / Rb) ** 2 + 4.0 * b / Rb))
    small = 0.5 * (jnp.sqrt((Rsm - a) ** 2 + 4.0 * b * Rsm) - (Rsm - a))
    return jnp.where(is_big, big, small)


def x_saha_HeIII(T, z, a: _Args):
    """x_e with HeIII<->HeII in Saha equilibrium, H and HeII fully ionised (phases brec, He1)."""
    nH = a.nH0 * (1.0 + z) ** 3
    R = _saha_ratio(T, nH, _T_ION_HEII, 1.0)
    # x (x - 1 - f) = R (1 + 2f - x)
    return _quad_root(R, 1.0 + a.fHe, 1.0 + 2.0 * a.fHe)


def x_saha_HeII(T, z, a: _Args):
    """x_e with HeII<->HeI in Saha equilibrium, H fully ionised (phases He1f, He2)."""
    nH = a.nH0 * (1.0 + z) ** 3
    R = _saha_ratio(T, nH, _T_ION_HEI, 4.0)
    # x (x - 1) = R (1 + f - x)
    return _quad_root(R, 1.0, 1.0 + a.fHe)


def x_H_saha(T, z, x_He, a: _Args):
    """x_H from Saha HII<->HI including the electrons of HeII (phase H)."""
    nH = a.nH0 * (1.0 + z) ** 3
    rhs = _saha_ratio(T, nH, _T_ION_H, 1.0)
    u = x_He * a.fHe / rhs
    return 2.0 / (1.0 + u + jnp.sqrt((1.0 + u) ** 2 + 4.0 / rhs))


# ------------------------------------------------------------------------------- RECFAST derivatives
def _dxH_dz(x_H, x, nH, z, Hz, T, a: _Args):
    """RECFAST-1.5 hydrogen equation with the fudged Peebles C (wrap_recfast.c, recfast_dx_H_dz)."""
    t4 = T / 1.0e4
    Rdown = 1.0e-19 * _A_PPB * t4**_B_PPB / (1.0 + _C_PPB * t4**_D_PPB)
    Rup = Rdown * (_CR * T) ** 1.5 * jnp.exp(-_CDB / T)
    lz = jnp.log(1.0 + z)
    K = _CK / Hz * (1.0 + _AG1 * jnp.exp(-(((lz - _ZG1) / _WG1) ** 2)) + _AG2 * jnp.exp(-(((lz - _ZG2) / _WG2) ** 2)))
    q = K * nH * (1.0 - x_H)
    Cf = (1.0 + q * _LAMBDA_H) / (1.0 / _FUDGE_H + q * _LAMBDA_H / _FUDGE_H + q * Rup)
    # C = 1 while x_H > 0.995 and z > 800 (logistic in x_H instead of a step)
    s = jax.nn.sigmoid((x_H - _X_TRIG) / a.w)
    Cp = jnp.where(z < Z_SWITCH_LATE, Cf, Cf + (1.0 - Cf) * s)
    return (x * x_H * nH * Rdown - Rup * (1.0 - x_H) * jnp.exp(-_CL / T)) * Cp / (Hz * (1.0 + z))


def _dxHe_dz(x_He, x, x_H, nH, z, Hz, T, a: _Args):
    """RECFAST-1.4 helium equation, Heswitch = 6 (singlet + Doppler + triplet + triplet Doppler;
    wrap_recfast.c, recfast_dx_He_dz, photo-ionisation at T_matter)."""
    fHe = a.fHe
    n_He = fHe * nH
    sq0 = jnp.sqrt(T / _T_0)
    sq1 = jnp.sqrt(T / _T_1)
    Rdown_He = _A_VF / (sq0 * (1.0 + sq0) ** (1.0 - _B_VF) * (1.0 + sq1) ** (1.0 + _B_VF))
    Rup_He = 4.0 * Rdown_He * (_CR * T) ** 1.5 * jnp.exp(-_CDB_HE / T)
    one_m = jnp.maximum(1.0 - x_He, 1e-300)
    ln_boltz = jnp.minimum(_CDB_HE2S2P / T, _MAX_EXP_BOLTZ)  # He_Boltz capped at e^680 as in CLASS

    def peebles(K_He):
        # C_He = (1 + q Lambda)/(1 + q (Lambda + Rup)), q = K_He n_He (1-x_He) He_Boltz, written with
        # 1/q = exp(-ln q) so that q ~ e^680 at low temperature cannot overflow
        iq = jnp.exp(-(jnp.log(K_He * n_He * one_m) + ln_boltz))
        Cc = (iq + _LAMBDA_HE) / (iq + _LAMBDA_HE + Rup_He)
        return (x * x_He * nH * Rdown_He - Rup_He * one_m * jnp.exp(-_CL_HE / T)) * Cc / (Hz * (1.0 + z))

    # Heflag = 0: K_He = CK_He / H
    d0 = peebles(_CK_HE / Hz)
    # Heflag >= 1: Sobolev escape probability of the singlet 2p line
    tau_s = _A2P_S * _CK_HE * 3.0 * n_He * one_m / Hz
    p_s = -jnp.expm1(-tau_s) / tau_s
    # Doppler (continuum opacity of H) correction, only while x_H < 0.9999999
    one_mH = jnp.maximum(1.0 - x_H, 1e-300)
    dop_s = _L_HE_2P * jnp.sqrt(2.0 * C.k_B * T / (C.m_H * C.not4 * C.c**2)) * C.c
    gam_s = (3.0 * _A2P_S * fHe * one_m * C.c**2
             / (math.sqrt(math.pi) * _SIGMA_HE_2PS * 8.0 * math.pi * dop_s * one_mH) / (C.c * _L_HE_2P) ** 2)
    AH_s = jnp.where(x_H < _X_H_LIMIT_KHE, _A2P_S / (1.0 + 0.36 * gam_s**_FUDGE_HE), 0.0)
    K_He = 1.0 / ((_A2P_S * p_s + AH_s) * 3.0 * n_He * one_m)
    # triplet channel (Heflag >= 3)
    Rdown_t = _A_TRIP / (sq0 * (1.0 + sq0) ** (1.0 - _B_TRIP) * (1.0 + sq1) ** (1.0 + _B_TRIP))
    ln_Rup_t = jnp.log(Rdown_t * 4.0 / 3.0) + 1.5 * jnp.log(_CR * T) - _T_TRIP_ION / T
    Rup_t = jnp.exp(ln_Rup_t)
    tau_t = _A2P_T * n_He * one_m * 3.0 / (8.0 * math.pi * Hz * _L_HE_2PT**3)
    p_t = -jnp.expm1(-tau_t) / tau_t
    dop_t = _L_HE_2PT * jnp.sqrt(2.0 * C.k_B * T / (C.m_H * C.not4 * C.c**2)) * C.c
    gam_t = (3.0 * _A2P_T * fHe * one_m * C.c**2
             / (math.sqrt(math.pi) * _SIGMA_HE_2PT * 8.0 * math.pi * dop_t * one_mH) / (C.c * _L_HE_2PT) ** 2)
    AH_t = jnp.where(x_H >= _X_H_LIMIT_CFHE_T, 0.0, _A2P_T / (1.0 + 0.66 * gam_t**0.9) / 3.0)
    # CfHe_t = C/(Rup_t + C), C = (A p_t + AH) exp(-CL_PSt/T), as 1/(1 + Rup_t/C) in logs (no 0/0 at low T)
    Ct = jax.nn.sigmoid(jnp.log(_A2P_T * p_t + AH_t) - _CL_PST / T - ln_Rup_t)
    d6 = peebles(K_He) + (x * x_He * nH * Rdown_t - one_m * 3.0 * Rup_t * jnp.exp(-_CL_HET / T)) * Ct / (Hz * (1.0 + z))
    # Heflag = 2 (z < 800): singlet with Doppler correction, no triplet
    d2 = peebles(K_He)
    d_full = jnp.where(z < Z_SWITCH_LATE, d2, d6)
    s = jax.nn.sigmoid((x_He - _X_TRIG) / a.w)  # Heflag = 0 while x_He > 0.995
    d = d0 * s + d_full * (1.0 - s)
    d = jnp.where(x_He < _X_HE_SMALL, d0, d)
    return jnp.where(x_He < 1e-15, 0.0, d)


def _dT_dz(T, x, z, Hz, a: _Args):
    """dT_b/dz: adiabatic cooling + Compton coupling (thermodynamics_derivs, 'full equations')."""
    Tr = a.Tcmb * (1.0 + z)
    rate = _COMPTON * Tr**4 * x / (1.0 + x + a.fHe)
    return 2.0 * T / (1.0 + z) + rate * (T - Tr) / (Hz * (1.0 + z))


# ------------------------------------------------------------------------ Radau IIA (3 stages, order 5)
_S6 = math.sqrt(6.0)
_RC = np.array([(4.0 - _S6) / 10.0, (4.0 + _S6) / 10.0, 1.0])
_RA = np.array([
    [(88.0 - 7.0 * _S6) / 360.0, (296.0 - 169.0 * _S6) / 1800.0, (-2.0 + 3.0 * _S6) / 225.0],
    [(296.0 + 169.0 * _S6) / 1800.0, (88.0 + 7.0 * _S6) / 360.0, (-2.0 - 3.0 * _S6) / 225.0],
    [(16.0 - _S6) / 36.0, (16.0 + _S6) / 36.0, 1.0 / 9.0],
])


def _radau_scan(rhs, y0, zs, args, n_newton: int):
    """Integrate dy/dz = rhs(z, y, args) along the static nodes ``zs`` (any direction); returns y at zs."""
    d = y0.shape[0]
    A = jnp.asarray(_RA)

    def resid(Yf, y, z0, h, ar):
        Y = Yf.reshape(3, d)
        F = jax.vmap(lambda c, Yi: rhs(z0 + c * h, Yi, ar))(jnp.asarray(_RC), Y)
        return (Y - y[None, :] - h * (A @ F)).reshape(-1)

    def jac(Yf, z0, h, ar):
        # d resid / dY = I - h (A_ij J_j), J_j = df/dy at stage j (3 small d x d Jacobians)
        Y = Yf.reshape(3, d)
        Js = jax.vmap(lambda c, Yi: jax.jacfwd(lambda yy: rhs(z0 + c * h, yy, ar))(Yi))(jnp.asarray(_RC), Y)
        blocks = A[:, None, :, None] * jnp.transpose(Js, (1, 0, 2))[None, :, :, :]  # (i, a, j, b)
        return jnp.eye(3 * d) - h * blocks.reshape(3 * d, 3 * d)

    def step(y, zz):
        z0, z1 = zz[0], zz[1]
        h = z1 - z0
        ys, ars = jax.lax.stop_gradient((y, args))
        Y0 = jnp.tile(ys, 3)
        # one full Newton iteration, then simplified Newton with that Jacobian (stop-gradient'ed inputs)
        Y1 = Y0 - jnp.linalg.solve(jac(Y0, z0, h, ars), resid(Y0, ys, z0, h, ars))
        lu = jax.scipy.linalg.lu_factor(jac(Y1, z0, h, ars))

        def simplified(Yf, _):
            return Yf - jax.scipy.linalg.lu_solve(lu, resid(Yf, ys, z0, h, ars)), None

        Ystar, _ = jax.lax.scan(simplified, Y1, None, length=n_newton)
        Ystar = jax.lax.stop_gradient(Ystar)
        J = jax.lax.stop_gradient(jac(Ystar, z0, h, ars))
        Yf = Ystar - jnp.linalg.solve(J, resid(Ystar, y, z0, h, args))  # IFT-exact derivatives
        y1 = Yf.reshape(3, d)[2]
        return y1, y1

    pairs = jnp.stack([zs[:-1], zs[1:]], axis=1)
    _, ys_out = jax.lax.scan(step, y0, pairs)
    return jnp.concatenate([y0[None, :], ys_out], axis=0)


def _blend(z, z_lim, delta, x_cur, x_prev):
    """CLASS output smoothing f2(s) = 3 s^2 - 2 s^3, s = (z_lim - z)/(2 delta) (thermodynamics_sources)."""
    s = jnp.clip((z_lim - z) / (2.0 * delta), 0.0, 1.0)
    w = s * s * (3.0 - 2.0 * s)
    return w * x_cur + (1.0 - w) * x_prev


# ------------------------------------------------------------------------------------------- driver
def recombination_history(params, H_of_z: Callable, prec) -> RecHistory:
    """RECFAST-1.5 (CLASS mode) ionisation and temperature history, without reionisation.

    params: CosmoParams (uses omega_b, YHe, T_cmb; YHe must already be resolved, e.g. from BBN).
    H_of_z: z -> H [1/Mpc] (vectorised jnp function). prec: ThermoPrecision.
    Returns RecHistory on `rec_z_grid(prec.z_ini, prec.n_z)` (decreasing z).
    """
    zg_np, nodes = rec_z_grid(prec.z_ini, prec.n_z)
    zg = jnp.asarray(zg_np)
    YHe = jnp.asarray(params.YHe, dtype=jnp.float64)
    a = _Args(nH0=hydrogen_density_today(params.omega_b, YHe), fHe=helium_fraction(YHe),
              Tcmb=jnp.asarray(params.T_cmb, dtype=jnp.float64), w=float(getattr(prec, "recfast_switch_width", 1e-5)))
    nn = int(getattr(prec, "recfast_newton_iterations", 8))
    Hs = lambda z: H_of_z(z) * _H_SI  # noqa: E731  [1/s]
    i_brec, i_he1, i_he2, i_h, i_end = nodes[1], nodes[2], nodes[4], nodes[5], len(zg_np) - 1

    # --- brec (z >= 8050): Saha HeIII, tight-coupling steady state T_b = T_gamma - eps,
    #     eps = T_gamma H / Gamma_C (thermodynamics_derivs, early-time expansion)
    zb = zg[: i_brec + 1]
    Trb = a.Tcmb * (1.0 + zb)
    xb = x_saha_HeIII(Trb, zb, a)
    eps = Trb * Hs(zb) / (_COMPTON * Trb**4 * xb / (1.0 + xb + a.fHe))
    Tb_b = Trb - eps
    xb = x_saha_HeIII(Tb_b, zb, a)

    # --- He1, He1f, He2 (8050 ... 2870): only T_b evolved; x from the Saha phase at that z
    def x_early(z, T):
        return jnp.where(z >= Z_HE1_END - 1e-9, x_saha_HeIII(T, z, a), x_saha_HeII(T, z, a))

    def rhs_T(z, y, ar):
        T = y[0]
        return jnp.stack([_dT_dz(T, x_early(z, T), z, Hs(z), ar)])

    z1 = zg[i_brec: i_he2 + 1]
    y1 = _radau_scan(rhs_T, jnp.stack([Tb_b[-1]]), z1, a, nn)
    T1 = y1[:, 0]
    x1 = x_early(z1, T1)
    x1_T = x1
    # blend at 4600 (He1 -> He1f): previous scheme = HeIII Saha
    x1 = jnp.where(z1 < Z_HE1_END, _blend(z1, Z_HE1_END, _DELTA_HE1F, x1, x_saha_HeIII(T1, z1, a)), x1)

    # --- H phase (2870 ... 1600): x_H from Saha, x_He and T_b evolved
    def rhs_H(z, y, ar):
        T, xHe = y[0], y[1]
        nH = ar.nH0 * (1.0 + z) ** 3
        Hz = Hs(z)
        xH = x_H_saha(T, z, xHe, ar)
        x = xH + ar.fHe * xHe
        return jnp.stack([_dT_dz(T, x, z, Hz, ar), _dxHe_dz(xHe, x, xH, nH, z, Hz, T, ar)])

    T_h0 = T1[-1]
    xHe_h0 = (x_saha_HeII(T_h0, Z_HE2_END, a) - 1.0) / a.fHe
    z2 = zg[i_he2: i_h + 1]
    y2 = _radau_scan(rhs_H, jnp.stack([T_h0, xHe_h0]), z2, a, nn)
    T2, xHe2 = y2[:, 0], y2[:, 1]
    xH2 = x_H_saha(T2, z2, xHe2, a)
    x2 = xH2 + a.fHe * xHe2
    x2_T = x2
    x2 = _blend(z2, Z_HE2_END, _DELTA_H, x2, x_saha_HeII(T2, z2, a))

    # --- full recombination (1600 ... 0): x_H, x_He, T_b evolved
    def rhs_F(z, y, ar):
        T, xHe, xH = y[0], y[1], y[2]
        nH = ar.nH0 * (1.0 + z) ** 3
        Hz = Hs(z)
        x = xH + ar.fHe * xHe
        return jnp.stack([_dT_dz(T, x, z, Hz, ar), _dxHe_dz(xHe, x, xH, nH, z, Hz, T, ar),
                          _dxH_dz(xH, x, nH, z, Hz, T, ar)])

    z3 = zg[i_h: i_end + 1]
    y3 = _radau_scan(rhs_F, jnp.stack([T2[-1], xHe2[-1], xH2[-1]]), z3, a, nn)
    T3, xHe3, xH3 = y3[:, 0], y3[:, 1], y3[:, 2]
    x3 = xH3 + a.fHe * xHe3
    x3_T = x3
    # blend at 1600 with the previous (Saha-H) scheme, evaluated only where the weight is < 1
    nb = int(np.sum(zg_np[i_h: i_end + 1] > Z_H_END - 2.0 * _DELTA_FREC - 1e-9))
    zb3, Tb3 = z3[:nb], T3[:nb]
    xprev = x_H_saha(Tb3, zb3, xHe3[:nb], a) + a.fHe * xHe3[:nb]
    x3 = x3.at[:nb].set(_blend(zb3, Z_H_END, _DELTA_FREC, x3[:nb], xprev))

    x_e = jnp.concatenate([xb[:-1], x1[:-1], x2[:-1], x3])
    T_b = jnp.concatenate([Tb_b[:-1], T1[:-1], T2[:-1], T3])
    x_e_T = jnp.concatenate([xb[:-1], x1_T[:-1], x2_T[:-1], x3_T])
    return RecHistory(z=zg, x_e=x_e, T_b=T_b, x_e_T=x_e_T)


def dTb_dz(z, x_e, T_b, H_of_z: Callable, fHe, Tcmb):
    """dT_b/dz from the CLASS temperature equation (for c_b^2), H_of_z in 1/Mpc."""
    a = _Args(nH0=jnp.asarray(0.0), fHe=fHe, Tcmb=Tcmb)
    return _dT_dz(T_b, x_e, z, H_of_z(z) * _H_SI, a)
