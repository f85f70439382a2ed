"""Recombination history with HyRec-2020 (SWIFT) rates, as CLASS v3.4.1 computes it (``recombination = hyrec``).

CLASS does not run HyRec's own integrator: it integrates its own system (``source/thermodynamics.c``,
``thermodynamics_solve`` / ``thermodynamics_derivs`` / ``thermodynamics_ionization_fractions``) for
``y = (T_m - T_r, x_He, x_H)`` through a fixed sequence of approximation phases, and asks HyRec for the
derivatives (``external/HyRec2020/wrap_hyrec.c``: ``hyrec_dx_H_dz`` -> ``rec_dxHIIdlna``,
``hyrec_dx_He_dz`` -> ``rec_helium_dxHeIIdlna``). This module reproduces that scheme:

phase (CLASS ``index_ap_*``)  z range (``precisions.h``)     x_e                                   evolved
0 brec   z > 8050            Saha He III/II, expanded (x~1+2f)     T_m steady state (eps expansion)
1 He1    8050 > z > 4600     Saha He III/II                        T_m
2 He1f   4600 > z > 3550     Saha He II/I, expanded (x~1+f)        T_m
3 He2    3550 > z > 2870     Saha He II/I, H fully ionised          T_m
4 H      2870 > z > 1600     Saha H (with x_HeII), x_He from ODE   T_m, x_He
5 frec   1600 > z            x_H + f x_He from the ODEs            T_m, x_He, x_H

(phase 6, reionisation below z = 50, has the same equations without reionisation, which is added by
``thermodynamics.py``). At the start of phases 4 and 5 the new variable is initialised from the Saha
value of the previous phase; on output, x_e is blended with the previous phase's formula over
2 delta_z after each switch with CLASS's ``f2`` weight (``thermodynamics_sources``).

Saha formulas use T_m, as CLASS does. HyRec's rates: see ``hyrec_rates``. Integration: fixed steps in
ln a with the L-stable second-order Rosenbrock method ROS2 (Verwer, Spee, Blom & Hundsdorfer 1999,
SIAM J. Sci. Comput. 20, 1456), exact Jacobian from ``jax.jacfwd``: linearly implicit, so the stiff
early phases need no Newton iteration and everything is differentiable with plain AD. Each phase is
its own ``lax.scan`` (the phase boundaries are fixed redshifts, so the grid is static).

Units: z dimensionless, T in K, H in 1/s internally (``H_of_z`` returns 1/Mpc as the background does).
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import constants as C
from . import hyrec_rates as R

try:  # the RECFAST helper defines the shared container; fall back to an identical local one
    from .recfast import RecHistory  # type: ignore
except Exception:  # pragma: no cover - depends on the other module being present

    class RecHistory(eqx.Module):
        """Recombination history: ``z`` (n_z,) decreasing from z_ini to 0, ``x_e`` free electrons per
        H nucleus without reionisation, ``T_b`` baryon temperature [K]."""

        z: Any
        x_e: Any
        T_b: Any


# ---- CLASS v3.4.1 settings (include/precisions.h) and constants (thermodynamics.h, background.h) ----
Z_LIMITS = (8050.0, 4600.0, 3550.0, 2870.0, 1600.0)  # end of phases 0..4: recfast_z_He_1 + delta_z_He_1,
# recfast_z_He_2 + delta_z_He_2, recfast_z_He_3 + delta_z_He_3, recfast_z_early_H_recombination,
# recfast_z_full_H_recombination
Z_NODES_EXTRA = (900.0,)  # a RHS discontinuity inside phase 5 (hydrogen.c: Pion test for z < 900)
Z_DELTA = (0.0, 50.0, 100.0, 50.0, 50.0, 50.0)  # smoothing delta_z at the start of phases 0..5
JM3_OVER_MPC2 = 0.0151730087  # CLASS rho [1/Mpc^2] -> J/m^3 (thermodynamics.h _Jm3_over_Mpc2_)
L_H_ION = 1.096787737e7  # ionisation inverse wavelengths [1/m] (RecfastCLASS wrap_recfast.h)
L_HE1_ION = 1.98310772e7
L_HE2_ION = 4.389088863e7
NR_NUMBERDENS = 2.0 * math.pi * (C.m_e / C.h_P) * (C.k_B / C.h_P)  # 2 pi m_e k_B / h^2 [1/(m^2 K)]
T_ION_H = C.h_P * C.c * L_H_ION / C.k_B  # [K]
T_ION_HE1 = C.h_P * C.c * L_HE1_ION / C.k_B
T_ION_HE2 = C.h_P * C.c * L_HE2_ION / C.k_B
M_NFSM_THRESHOLD = 1e4  # m/T above which an ncdm species counts as non-free-streaming (precisions.h)
MIN_STEPS = 3600  # minimum number of (Richardson-extrapolated ROS2) steps from z_ini to 0: with
# n_z = 2000 this gives 2 sub-steps per output interval and |dx_e/x_e| ~ 1e-4 vs CLASS (200 < z < 3000)
_GAMMA = 1.0 + 1.0 / math.sqrt(2.0)  # ROS2 parameter (L-stable choice)


# ------------------------------------------------------------------------------------------------
# static grid
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=16)
def _grid(z_ini: float, n_z: int):
    """Output nodes (decreasing z, n_z of them, uniform in ln(1+z) between breakpoints: the phase
    limits and Z_NODES_EXTRA) and the segments (phase, first node, last node, starts_phase)."""
    brk = sorted([(zl, k + 1) for k, zl in enumerate(Z_LIMITS)] + [(zx, 5) for zx in Z_NODES_EXTRA], reverse=True)
    brk = [(zb, ph) for zb, ph in brk if zb < z_ini]
    phase0 = sum(1 for zl in Z_LIMITS if zl >= z_ini)
    bounds = [math.log1p(z_ini)] + [math.log1p(zb) for zb, _ in brk] + [0.0]
    phases = [phase0] + [ph for _, ph in brk]
    lengths = np.diff(-np.array(bounds))
    n_int = n_z - 1
    counts = np.maximum(1, np.round(lengths / lengths.sum() * n_int).astype(int))
    counts[-1] += n_int - counts.sum()
    if counts[-1] < 1:
        raise ValueError(f"n_z = {n_z} too small for the recombination grid")
    lnz, segs, start = [bounds[0]], [], 0
    for k, cnt in enumerate(counts):
        lnz.extend(np.linspace(bounds[k], bounds[k + 1], cnt + 1)[1:])
        if k > 0 and phases[k] == phases[k - 1]:  # same phase: extend the segment (one scan)
            ph, i0, _, st = segs[-1]
            segs[-1] = (ph, i0, start + cnt, st)
        else:
            segs.append((phases[k], start, start + cnt, k > 0))
        start += cnt
    z = np.expm1(np.array(lnz))
    z[-1] = 0.0
    return z, tuple(segs)


# ------------------------------------------------------------------------------------------------
# cosmology-dependent constants
# ------------------------------------------------------------------------------------------------
class _Cosmo(eqx.Module):
    T_cmb: Any
    fHe: Any
    nH0: Any  # [1/m^3]
    omega_g: Any
    swift: tuple  # (omega_cb, omega_b, YHe, Neff, T_cmb) for the SWIFT correction


def _cosmo(params) -> _Cosmo:
    T_cmb, Y, wb = params.T_cmb, params.YHe, params.omega_b
    fHe = Y / (C.not4 * (1.0 - Y))  # thermodynamics.c: fHe = YHe / (not4 (1 - YHe))
    # n_H today = 3 H0^2 Omega_b (1 - Y) / (8 pi G m_H), H0 = h * 1e5 / Mpc [1/s] (thermodynamics.c)
    nH0 = 3.0 * (1e5 / C.Mpc_over_m) ** 2 * wb * (1.0 - Y) / (8.0 * math.pi * C.G * C.m_H)
    omega_g = 4.0 * C.sigma_B / C.c * T_cmb**4 / (3.0 * C.c**2 * 1.0e10 / C.Mpc_over_m**2 / 8.0 / math.pi / C.G)
    # HyRec's inputs from CLASS (wrap_hyrec.c): ocbh2 = Omega0_nfsm h^2 (b + cdm + ncdm species with
    # m/T > M_nfsm_threshold, background.c), Neff = N_eff at the earliest time (all ncdm relativistic).
    m, Tn, g = jnp.atleast_1d(params.m_ncdm), jnp.atleast_1d(params.T_ncdm), jnp.atleast_1d(params.deg_ncdm)
    M = m * C.eV / (C.k_B * Tn * T_cmb)
    # omega_ncdm of a non-relativistic relic: m n / rho_crit100 = m / 93.14 eV for T_ncdm = 0.71611 at
    # T_cmb = 2.7255 (standard relation), scaled with (T_ncdm T_cmb)^3; only enters the SWIFT fit term.
    w_ncdm = g * m / 93.14 * (Tn * T_cmb / (0.71611 * 2.7255)) ** 3
    omega_cb = wb + params.omega_cdm + jnp.sum(jnp.where(M > M_NFSM_THRESHOLD, w_ncdm, 0.0))
    Neff = params.N_ur + jnp.sum(g * Tn**4) * (11.0 / 4.0) ** (4.0 / 3.0)
    return _Cosmo(T_cmb=T_cmb, fHe=fHe, nH0=nH0, omega_g=omega_g, swift=(omega_cb, wb, Y, Neff, T_cmb))


# ------------------------------------------------------------------------------------------------
# ionisation fractions of each phase (thermodynamics.c thermodynamics_ionization_fractions)
# ------------------------------------------------------------------------------------------------
def _ln_saha(z, Tm, T_ion, nH0):
    """ln[(2 pi m_e k T_m / h^2)^(3/2) exp(-T_ion/T_m) / n_H]."""
    return 1.5 * jnp.log(NR_NUMBERDENS * Tm / (1.0 + z) ** 2) - T_ion / Tm - jnp.log(nH0)


def x_phase(phase: int, z, Tm, xHe, cp: _Cosmo):
    """(x_e, x_H, x_He) in approximation phase ``phase`` (CLASS formulas; phases 0-4 use Saha)."""
    f = cp.fHe
    one = jnp.ones_like(z)
    if phase == 0:  # He III <-> He II, expanded in 1/rhs (x close to 1 + 2 f)
        r = jnp.exp(-_ln_saha(z, Tm, T_ION_HE2, cp.nH0))
        x = 2.0 * (1.0 + 2.0 * f) / (1.0 - r * (1.0 + f) + jnp.sqrt((1.0 - r * (1.0 + f)) ** 2 + 4.0 * r * (1.0 + 2.0 * f)))
        return x, one, one
    if phase == 1:
        r = jnp.exp(_ln_saha(z, Tm, T_ION_HE2, cp.nH0))
        x = 0.5 * (jnp.sqrt((r - 1.0 - f) ** 2 + 4.0 * (1.0 + 2.0 * f) * r) - (r - 1.0 - f))
        return x, one, one
    if phase == 2:  # He II <-> He I with H ionised, expanded in 1/rhs
        r = 0.25 * jnp.exp(-_ln_saha(z, Tm, T_ION_HE1, cp.nH0))
        x = 2.0 * (1.0 + f) / (1.0 - r + jnp.sqrt((1.0 - r) ** 2 + 4.0 * r * (1.0 + f)))
        return x, one, one
    if phase == 3:
        r = 4.0 * jnp.exp(_ln_saha(z, Tm, T_ION_HE1, cp.nH0))
        x = 0.5 * (jnp.sqrt((r - 1.0) ** 2 + 4.0 * (1.0 + f) * r) - (r - 1.0))
        return x, one, (x - 1.0) / f
    if phase == 4:  # Saha H with the He II electrons
        r = jnp.exp(_ln_saha(z, Tm, T_ION_H, cp.nH0))
        a = xHe * f / r
        xH = 2.0 / (1.0 + a + jnp.sqrt((1.0 + a) ** 2 + 4.0 / r))
        return xH + f * xHe, xH, xHe
    raise ValueError(phase)


def _xH1_saha(z, Tm, xHe, cp):
    """1 - x_H in phase 4 without cancellation: x_H (x_H + x_HeII) = rhs (1 - x_H)."""
    _, xH, _ = x_phase(4, z, Tm, xHe, cp)
    r = jnp.exp(_ln_saha(z, Tm, T_ION_H, cp.nH0))
    return xH * (xH + cp.fHe * xHe) / r


# ------------------------------------------------------------------------------------------------
# right-hand side d y / d u, u = ln a = -ln(1+z), y = (T_m - T_r, x_He, x_H)
# ------------------------------------------------------------------------------------------------
def _rhs(phase: int, u, y, H_of_z: Callable, cp: _Cosmo):
    z = jnp.expm1(-u)
    D, xHe, xH = y[0], y[1], y[2]
    Tr = cp.T_cmb * (1.0 + z)
    Tm = D + Tr
    Hz = H_of_z(z) * C.c / C.Mpc_over_m  # [1/s]
    if phase >= 5:
        x, xH1 = xH + cp.fHe * xHe, 1.0 - xH
    else:
        x, _, _ = x_phase(phase, z, Tm, xHe, cp)
        xH1 = _xH1_saha(z, Tm, xHe, cp) if phase == 4 else 0.0
    # Compton rate 2 sigma_T/(m_e c) * 4/3 rho_g * x/(1+x+f)   [1/s]   (thermodynamics.c)
    rho_g = cp.omega_g * C.H0_100**2 * (1.0 + z) ** 4 * JM3_OVER_MPC2
    rate = 2.0 * C.sigma_T / C.m_e / C.c * (4.0 / 3.0) * rho_g * x / (1.0 + x + cp.fHe)
    if phase == 0:
        # steady-state expansion: T_m - T_r = -eps, eps = T_r H / rate; d ln eps / d ln a = d ln H/d ln a + 3
        _, dH = jax.jvp(H_of_z, (z,), (jnp.ones_like(z),))
        dlnH_dlna = -(1.0 + z) * dH / H_of_z(z)
        eps = Tr * Hz / rate
        dD = -eps * (dlnH_dlna + 3.0)
    else:
        dD = -2.0 * D - Tr - rate / Hz * D  # dT_m/dlna = -2 T_m - rate (T_m - T_r)/H; dT_r/dlna = -T_r
    dxHe = jnp.zeros_like(D)
    dxH = jnp.zeros_like(D)
    nH = cp.nH0 * 1e-6 * (1.0 + z) ** 3  # [cm^-3]
    if phase >= 4:
        xHeII = cp.fHe * xHe
        on = xHeII >= R.XHEII_MIN  # wrap_hyrec.c: He not evolved below XHEII_MIN
        z_s = jnp.where(on, z, 2000.0)  # double where: harmless arguments when switched off
        xHeII_s = jnp.where(on, xHeII, 0.5 * cp.fHe)
        xH1_s = jnp.where(on, xH1, 0.5)
        nH_s = cp.nH0 * 1e-6 * (1.0 + z_s) ** 3
        dHe = R.helium_dxHeIIdlna(z_s, xH1_s, xHeII_s, Hz, nH_s, cp.fHe, cp.T_cmb)
        dxHe = jnp.where(on, dHe / cp.fHe, 0.0)
    if phase >= 5:
        TM, TR = Tm * R.K_BOLTZ, Tr * R.K_BOLTZ
        dxH = R.hydrogen_dxHIIdlna(x, xH, nH, Hz, TM, TR, z, cp.swift)
    return jnp.stack([dD, dxHe, dxH])


def _solve3(M, b):
    """Solve the 3x3 system M x = b by Cramer's rule (small, fixed-size, cheap to compile)."""
    c0 = jnp.cross(M[:, 1], M[:, 2])
    c1 = jnp.cross(M[:, 2], M[:, 0])
    c2 = jnp.cross(M[:, 0], M[:, 1])
    det = jnp.dot(M[:, 0], c0)
    return jnp.stack([jnp.dot(b, c0), jnp.dot(b, c1), jnp.dot(b, c2)]) / det


def _ros2_step(f, u, y, h):
    """One ROS2 step for y' = f(u, y), non-autonomous form (Verwer et al. 1999, eq. 2.3):
    (I - g h J) k1 = f(u, y) + g h f_u;  (I - g h J) k2 = f(u + h, y + h k1) - g h f_u - 2 k1;
    y1 = y + h (3 k1 + k2) / 2, with the exact Jacobian J = df/dy and f_u = df/du."""
    f0 = f(u, y)
    J, fu = jax.jacfwd(lambda yy, uu: f(uu, yy), argnums=(0, 1))(y, u)
    M = jnp.eye(3) - _GAMMA * h * J
    k1 = _solve3(M, f0 + _GAMMA * h * fu)
    k2 = _solve3(M, f(u + h, y + h * k1) - _GAMMA * h * fu - 2.0 * k1)
    return y + h * (1.5 * k1 + 0.5 * k2)


def _ros2_richardson(f, u, y, h):
    """ROS2 step with local Richardson extrapolation (one step h, two steps h/2; error O(h^3) per
    unit interval instead of O(h^2)); the extrapolated stability function stays 0 at infinity."""
    y_full = _ros2_step(f, u, y, h)
    y_half = _ros2_step(f, u + 0.5 * h, _ros2_step(f, u, y, 0.5 * h), 0.5 * h)
    return y_half + (y_half - y_full) / 3.0


def _integrate_segment(phase, y0, u_nodes, H_of_z, cp, n_sub):
    """Integrate over the nodes u_nodes (increasing ln a); returns y at every node (len(u_nodes), 3)."""
    f = lambda u, y: _rhs(phase, u, y, H_of_z, cp)  # noqa: E731

    def body(y, uu):
        u0, u1 = uu
        h = (u1 - u0) / n_sub
        y = lax.fori_loop(0, n_sub, lambda i, yy: _ros2_richardson(f, u0 + i * h, yy, h), y)
        return y, y

    u = jnp.asarray(u_nodes)
    _, ys = lax.scan(body, y0, (u[:-1], u[1:]))
    return jnp.concatenate([y0[None, :], ys], axis=0)


def _f2(s):
    """CLASS's smooth step f2(s) = s^2 (0.5 - s/3) * 6, from 0 at s=0 to 1 at s=1 (thermodynamics.h)."""
    return s * s * (0.5 - s / 3.0) * 6.0


def recombination_history(params, H_of_z: Callable, prec) -> RecHistory:
    """x_e(z) and T_b(z) of CLASS's ``recombination = hyrec`` (HyRec-2020 SWIFT rates), no reionisation.

    params: CosmoParams (uses T_cmb, YHe, omega_b, omega_cdm, N_ur, m_ncdm, T_ncdm, deg_ncdm; YHe is
    taken as given: resolve BBN before calling). H_of_z: z -> H [1/Mpc], differentiable jnp function.
    prec: ThermoPrecision (z_ini, n_z). Returns RecHistory on n_z nodes from z_ini down to 0.
    """
    z_np, segs = _grid(float(prec.z_ini), int(prec.n_z))
    u_np = -np.log1p(z_np)
    n_sub = max(2, math.ceil(MIN_STEPS / (len(z_np) - 1)))
    cp = _cosmo(params)
    z_all = jnp.asarray(z_np)

    # initial state at z_ini: T_m - T_r = -eps (steady state); x_He, x_H from Saha if already needed
    p0, z0 = segs[0][0], z_all[0]
    Tr0 = cp.T_cmb * (1.0 + z0)
    x0, _, _ = x_phase(min(p0, 4), z0, Tr0, jnp.asarray(1.0), cp)
    rho_g0 = cp.omega_g * C.H0_100**2 * (1.0 + z0) ** 4 * JM3_OVER_MPC2
    rate0 = 2.0 * C.sigma_T / C.m_e / C.c * (4.0 / 3.0) * rho_g0 * x0 / (1.0 + x0 + cp.fHe)
    D0 = -Tr0 * H_of_z(z0) * C.c / C.Mpc_over_m / rate0
    xHe0 = x_phase(3, z0, Tr0 + D0, 0.0, cp)[2] if p0 >= 4 else jnp.asarray(1.0)
    xH0 = x_phase(4, z0, Tr0 + D0, xHe0, cp)[1] if p0 >= 5 else jnp.asarray(1.0)
    y = jnp.stack([D0, xHe0, xH0]).astype(jnp.float64)

    xs, Ds = [], []
    for phase, i0, i1, starts in segs:
        zi, Tmi = z_all[i0], y[0] + cp.T_cmb * (1.0 + z_all[i0])
        if phase == 4 and starts:  # start evolving x_He from the He II Saha value (vector_init)
            y = y.at[1].set(x_phase(3, zi, Tmi, y[1], cp)[2])
        if phase == 5 and starts:  # start evolving x_H from the H Saha value
            y = y.at[2].set(x_phase(4, zi, Tmi, y[1], cp)[1])
        ys = _integrate_segment(phase, y, u_np[i0 : i1 + 1], H_of_z, cp, n_sub)
        y = ys[-1]
        seg_ys = ys[:-1] if i1 < len(z_np) - 1 else ys  # the end node belongs to the next phase
        seg_z = z_all[i0 : i0 + seg_ys.shape[0]]
        Tm = seg_ys[:, 0] + cp.T_cmb * (1.0 + seg_z)
        if phase >= 5:
            x = seg_ys[:, 2] + cp.fHe * seg_ys[:, 1]
        else:
            x = x_phase(phase, seg_z, Tm, seg_ys[:, 1], cp)[0]
        if 1 <= phase <= 5 and starts:
            # blend with the previous phase's formula for z > z_switch - 2 delta (thermodynamics_sources)
            z_sw, dz = Z_LIMITS[phase - 1], Z_DELTA[phase]
            n_w = int(np.sum(z_np[i0 : i0 + seg_ys.shape[0]] > z_sw - 2.0 * dz))
            zw, Tw, xHew = seg_z[:n_w], Tm[:n_w], seg_ys[:n_w, 1]
            w = _f2((z_sw - zw) / (2.0 * dz))
            x_prev = x_phase(phase - 1, zw, Tw, xHew, cp)[0]
            x = x.at[:n_w].set(w * x[:n_w] + (1.0 - w) * x_prev)
        xs.append(x)
        Ds.append(Tm)
    return RecHistory(z=z_all, x_e=jnp.concatenate(xs), T_b=jnp.concatenate(Ds))
