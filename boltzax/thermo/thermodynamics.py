"""Thermodynamics tables and derived scales, CLASS v3.4.1 conventions (``source/thermodynamics.c``).

`thermodynamics_solve(params, bg, prec) -> Thermo` combines a recombination history (RECFAST or HyRec)
with reionisation and computes, on an increasing redshift grid (CLASS's table order):

* x_e (with reionisation), T_b [K] (re-evolved through reionisation with the reionised x_e, as
  CLASS's T_b equation uses x_reio), dT_b/dz, w_b = k_B T_b / (mu c^2), c_b^2 = w_b (1 + (1+z)/3 dlnT_b/dz)
  (thermodynamics_sources);
* kappa' = a n_e sigma_T = (1+z)^2 n_H0 x_e sigma_T [1/Mpc], kappa = int_tau^tau0 kappa' dtau,
  exp(-kappa), g = kappa' e^-kappa, g' = (kappa'' + kappa'^2) e^-kappa,
  g'' = (kappa''' + 3 kappa' kappa'' + kappa'^3) e^-kappa (derivatives in conformal time,
  thermodynamics_calculate_opticals);
* kappa_b = int kappa'/R dtau, R = 3 rho_b / (4 rho_g), the baryon drag optical depth.

Derived (thermodynamics_calculate_recombination_quantities / _drag_quantities): z_rec = maximum of g,
z_star: kappa = 1, z_d: kappa_b = 1, r_s, d_A there, 100 theta_s = 100 r_s(z_rec)/(d_A(z_rec)(1+z_rec)),
100 theta_star likewise at z_star; z_reio, tau_reio; YHe. Roots are found by bisection + one
implicit-function Newton step (`reionization.root_bisect`), so they are differentiable.

Integrals over z use Gauss-Legendre nodes inside every grid interval with x_e from a C2 cubic spline.
"""

from __future__ import annotations

import equinox as eqx
import interpax
import jax
import jax.numpy as jnp
import numpy as np

from .. import constants as C
from . import Z_BREC_END, Z_REIO_START_MAX, rec_z_grid
from . import bbn
from . import reionization as reio
from .recfast import _COMPTON, _H_SI, helium_fraction, hydrogen_density_today, x_saha_HeIII
from .recfast import _Args as _RfArgs

_SIGMA_MPC = C.sigma_T * C.Mpc_over_m
_KB_MHC2 = C.k_B / (C.c**2 * C.m_H)
_Z_REC_MIN, _Z_REC_MAX = 500.0, 2000.0  # _Z_REC_MIN_, _Z_REC_MAX_ (thermodynamics.h)


class Thermo(eqx.Module):
    """Thermodynamics tables on an increasing z grid plus derived scalars (CLASS names and units)."""

    z: jax.Array  # (n,) increasing, 0 ... z_ini
    tau: jax.Array  # conformal time [Mpc]
    x_e: jax.Array  # free electrons per H nucleus, with reionisation
    x_e_noreio: jax.Array  # recombination history alone
    T_b: jax.Array  # [K]
    dT_b: jax.Array  # dT_b/dz [K]
    w_b: jax.Array  # k_B T_b / (mu c^2)
    c_b2: jax.Array  # baryon sound speed squared (units of c^2)
    kappa_dot: jax.Array  # kappa' [1/Mpc]
    kappa_ddot: jax.Array  # d kappa'/d tau [1/Mpc^2]
    kappa_dddot: jax.Array  # d^2 kappa'/d tau^2 [1/Mpc^3]
    kappa: jax.Array  # optical depth from today
    exp_m_kappa: jax.Array
    g: jax.Array  # visibility [1/Mpc]
    dg: jax.Array  # dg/dtau [1/Mpc^2]
    ddg: jax.Array  # d^2g/dtau^2 [1/Mpc^3]
    kappa_b: jax.Array  # baryon drag optical depth
    # derived
    YHe: jax.Array
    z_reio: jax.Array
    tau_reio: jax.Array
    conf_time_reio: jax.Array
    z_rec: jax.Array
    tau_rec: jax.Array
    rs_rec: jax.Array
    da_rec: jax.Array
    theta_s_100: jax.Array
    z_star: jax.Array
    tau_star: jax.Array
    rs_star: jax.Array
    da_star: jax.Array
    theta_star_100: jax.Array
    z_d: jax.Array
    tau_drag: jax.Array  # conformal time at z_d [Mpc] (CLASS 'tau_d')
    rs_d: jax.Array

    @property
    def ra_rec(self):
        return self.da_rec * (1.0 + self.z_rec)

    @property
    def ds_rec(self):
        return self.rs_rec / (1.0 + self.z_rec)

    @property
    def ra_star(self):
        return self.da_star * (1.0 + self.z_star)

    @property
    def ds_d(self):
        return self.rs_d / (1.0 + self.z_d)


def _thermo_prec(prec):
    return getattr(prec, "thermo", prec)


def _recombination(params, H_of_z, tp):
    if params.recombination == "recfast":
        from .recfast import recombination_history
    elif params.recombination == "hyrec":
        try:
            from .hyrec import recombination_history
        except ImportError as e:  # pragma: no cover - depends on the HyRec port being present
            raise NotImplementedError("recombination = 'hyrec' needs boltzax/thermo/hyrec.py") from e
    else:
        raise ValueError(f"unknown recombination '{params.recombination}'")
    return recombination_history(params, H_of_z, tp)


_GL4_X, _GL4_W = np.polynomial.legendre.leggauss(4)


def _cumulative(z, f):
    """int_0^z f dz' on the increasing grid z; f: vectorised integrand. Gauss-Legendre per interval."""
    mid = 0.5 * (z[1:] + z[:-1])
    half = 0.5 * (z[1:] - z[:-1])
    zq = mid[:, None] + half[:, None] * jnp.asarray(_GL4_X)[None, :]
    seg = half * jnp.sum(jnp.asarray(_GL4_W)[None, :] * f(zq.reshape(-1)).reshape(zq.shape), axis=1)
    return jnp.concatenate([jnp.zeros(1), jnp.cumsum(seg)])


def _integral_at(zq, z, cum, f):
    """int_0^zq f dz' using the cumulative table ``cum`` on grid ``z`` and Gauss-Legendre on the rest."""
    k = jnp.clip(jnp.searchsorted(z, zq, side="right") - 1, 0, z.shape[0] - 2)
    z0 = z[k]
    half = 0.5 * (zq - z0)
    nodes = z0 + half + half * jnp.asarray(_GL4_X)
    return cum[k] + half * jnp.sum(jnp.asarray(_GL4_W) * f(nodes))


def _evolve_Tb_reio(z_low, T_start, x_fn, H_of_z, fHe, Tcmb):
    """RK4 for dT_b/dz on the decreasing nodes z_low (z <= 50), starting from T_start at z_low[0]."""

    def f(z, T):
        Tr = Tcmb * (1.0 + z)
        x = x_fn(z)
        rate = _COMPTON * Tr**4 * x / (1.0 + x + fHe)
        return 2.0 * T / (1.0 + z) + rate * (T - Tr) / (H_of_z(z) * _H_SI * (1.0 + z))

    def step(T, zz):
        z0, z1 = zz[0], zz[1]
        h = z1 - z0
        k1 = f(z0, T)
        k2 = f(z0 + h / 2, T + h / 2 * k1)
        k3 = f(z0 + h / 2, T + h / 2 * k2)
        k4 = f(z1, T + h * k3)
        T1 = T + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return T1, T1

    _, Ts = jax.lax.scan(step, T_start, jnp.stack([z_low[:-1], z_low[1:]], axis=1))
    return jnp.concatenate([jnp.atleast_1d(T_start), Ts])


def thermodynamics_solve(params, bg, prec) -> Thermo:
    """Full thermodynamics for ``params`` on background ``bg`` (``prec``: Precision or ThermoPrecision)."""
    tp = _thermo_prec(prec)
    YHe = bbn.yhe_bbn(params) if params.YHe_from_bbn else jnp.asarray(params.YHe, dtype=jnp.float64)
    p = params.replace(YHe=YHe)
    fHe = helium_fraction(YHe)
    nH0 = hydrogen_density_today(params.omega_b, YHe)
    Tcmb = jnp.asarray(params.T_cmb, dtype=jnp.float64)
    H_of_z = bg.H_of_z

    rec = _recombination(p, H_of_z, tp)
    zg_np, _ = rec_z_grid(tp.z_ini, tp.n_z)
    z = jnp.asarray(zg_np[::-1].copy())  # increasing
    zr_in, xr_in, Tr_in = rec.z[::-1], rec.x_e[::-1], rec.T_b[::-1]
    xT_in = rec.x_e[::-1] if getattr(rec, "x_e_T", None) is None else rec.x_e_T[::-1]
    if params.recombination == "recfast":
        x_nr, T_nr, xT_nr = xr_in, Tr_in, xT_in  # recfast uses the same static grid (rec_z_grid)
    else:
        x_nr = interpax.interp1d(z, zr_in, xr_in, method="cubic2", extrap=True)
        T_nr = interpax.interp1d(z, zr_in, Tr_in, method="cubic2", extrap=True)
        xT_nr = interpax.interp1d(z, zr_in, xT_in, method="cubic2", extrap=True)

    # --- extend the table above z_ini to CLASS's thermo_z_initial (precisions.h, 5e6) with CLASS's
    #     'brec' scheme: Saha HeIII <-> HeII and the steady-state T_b = T_gamma - eps (thermodynamics_derivs)
    n_hi = int(getattr(tp, "n_z_high", 0))
    if n_hi > 0:
        z_hi = jnp.asarray(np.geomspace(tp.z_ini, getattr(tp, "z_max_table", 5e6), n_hi + 1)[1:])
        ra = _RfArgs(nH0=nH0, fHe=fHe, Tcmb=Tcmb)
        Tr_hi = Tcmb * (1.0 + z_hi)
        x0 = x_saha_HeIII(Tr_hi, z_hi, ra)
        T_hi = Tr_hi - Tr_hi * H_of_z(z_hi) * _H_SI / (_COMPTON * Tr_hi**4 * x0 / (1.0 + x0 + fHe))
        x_hi = x_saha_HeIII(T_hi, z_hi, ra)
        z = jnp.concatenate([z, z_hi])
        x_nr, T_nr, xT_nr = (jnp.concatenate([x_nr, x_hi]), jnp.concatenate([T_nr, T_hi]),
                             jnp.concatenate([xT_nr, x_hi]))

    # --- reionisation (z <= 50 part of the grid)
    n_low = int(np.sum(zg_np <= Z_REIO_START_MAX + 1e-9))
    z_low = z[:n_low]
    x_low = x_nr[:n_low]

    def x_before(zq):
        return interpax.interp1d(zq, z_low, x_low, method="cubic", extrap=True)

    if params.reionization == "camb":
        if params.reio_from_tau:
            z_reio = reio.z_reio_from_tau(jnp.asarray(params.tau_reio, dtype=jnp.float64), x_before, H_of_z, nH0, fHe)
        else:
            z_reio = jnp.asarray(params.z_reio, dtype=jnp.float64)
        tau_reio = reio.tau_reio_of_z(z_reio, x_before, H_of_z, nH0, fHe)
        x_low_r = reio.xe_reio(z_low, x_low, z_reio, fHe)
    else:
        z_reio, tau_reio = jnp.asarray(0.0), jnp.asarray(0.0)
        x_low_r = x_low
    x_e = jnp.concatenate([x_low_r, x_nr[n_low:]])

    # T_b through reionisation, with the reionised x_e in the Compton term (thermodynamics_derivs)
    if params.reionization == "camb":
        def x_fn(zq):
            return reio.xe_reio(zq, x_before(zq), z_reio, fHe)

        T_low = _evolve_Tb_reio(z_low[::-1], T_nr[n_low - 1], x_fn, H_of_z, fHe, Tcmb)[::-1]
        T_b = jnp.concatenate([T_low, T_nr[n_low:]])
    else:
        T_b = T_nr

    Hz = H_of_z(z)
    Tr = Tcmb * (1.0 + z)
    # the T_b equation sees the unblended x_e of the current scheme (thermodynamics_derivs/_sources)
    x_T = jnp.concatenate([x_low_r, xT_nr[n_low:]])
    rate_H = _COMPTON * Tr**4 * x_T / (1.0 + x_T + fHe) / (Hz * _H_SI)
    dT_full = 2.0 * T_b / (1.0 + z) + rate_H * (T_b - Tr) / (1.0 + z)
    # before z = 8050 CLASS uses the tight-coupling steady state T_b = T_g - eps, eps = T_g H / Gamma_C:
    # dT_b/dz = T_cmb + eps (dlnH/dlna + 3)/(1+z) (thermodynamics_derivs); this also avoids the
    # cancellation in rate*(T_b - T_g) when rate/H >> 1e7
    _, dH_dz = jax.jvp(H_of_z, (z,), (jnp.ones_like(z),))
    dlnH_dlna = -(1.0 + z) * dH_dz / Hz
    dT_ss = Tcmb + Tr / rate_H * (dlnH_dlna + 3.0) / (1.0 + z)
    dT_b = jnp.where(z > Z_BREC_END, dT_ss, dT_full)
    mu_inv = 1.0 + (1.0 / C.not4 - 1.0) * YHe + x_e * (1.0 - YHe)
    w_b = _KB_MHC2 * mu_inv * T_b
    c_b2 = w_b * (1.0 + (1.0 + z) * dT_b / T_b / 3.0)

    # --- optical depths: smooth x_e(z) for quadrature and derivatives
    xspl = interpax.Interpolator1D(z, x_e, method="cubic2", extrap=True)
    pref = nH0 * _SIGMA_MPC

    def kdot_fn(zq):
        return (1.0 + zq) ** 2 * pref * xspl(zq)

    def kH_fn(zq):
        return kdot_fn(zq) / H_of_z(zq)

    og = C.omega_gamma(Tcmb)

    def kbH_fn(zq):  # kappa'/R / H with 1/R = 4 omega_g (1+z) / (3 omega_b)
        return kH_fn(zq) * 4.0 * og * (1.0 + zq) / (3.0 * params.omega_b)

    kappa = _cumulative(z, kH_fn)
    kappa_b = _cumulative(z, kbH_fn)
    kdot = (1.0 + z) ** 2 * pref * x_e
    dx = xspl(z, dx=1)
    d2x = xspl(z, dx=2)
    if params.reionization == "camb":
        # in the reionisation region (z <= 50) x_e' and x_e'' from the closed form of the reionised x_e
        # (reio.xe_reio on the smooth no-reio history) by forward-mode AD, not from the spline through the
        # table: its nodes (dz ~ 0.17 there at the default n_z) resolve the tanh of width 0.5 too coarsely for
        # x_e'', i.e. kappa''', which sets CLASS's source time sampling at reionisation (CLASS differentiates
        # a spline through its own rows, dz = 0.015: thermodynamics.c, reionization_sampling).
        zl = z[:n_low]
        ones = jnp.ones_like(zl)
        dxl, d2xl = jax.jvp(lambda zz: jax.jvp(x_fn, (zz,), (ones,))[1], (zl,), (ones,))
        dx = dx.at[:n_low].set(dxl)
        d2x = d2x.at[:n_low].set(d2xl)
    dkdz = pref * (2.0 * (1.0 + z) * x_e + (1.0 + z) ** 2 * dx)
    d2kdz2 = pref * (2.0 * x_e + 4.0 * (1.0 + z) * dx + (1.0 + z) ** 2 * d2x)
    dH = dH_dz
    # d/dtau = -H d/dz (H the conformal-time factor a H_phys... here dz/dtau = -H(z) with H in 1/Mpc)
    kddot = -Hz * dkdz
    kdddot = Hz * (dH * dkdz + Hz * d2kdz2)
    emk = jnp.exp(-kappa)
    g = kdot * emk
    dg = (kddot + kdot**2) * emk
    ddg = (kdddot + 3.0 * kdot * kddot + kdot**3) * emk

    # --- derived scales
    def Fg(zq, _):  # g'(z) / e^-kappa: positive before the visibility peak (high z)
        kd = (1.0 + zq) ** 2 * pref * xspl(zq)
        dkd = pref * (2.0 * (1.0 + zq) * xspl(zq) + (1.0 + zq) ** 2 * xspl(zq, dx=1))
        return -H_of_z(zq) * dkd / kd**2 + 1.0  # (kappa'' + kappa'^2)/kappa'^2

    z_rec = reio.root_bisect(Fg, 0.0, _Z_REC_MIN, _Z_REC_MAX)
    z_star = reio.root_bisect(lambda zq, _: _integral_at(zq, z, kappa, kH_fn) - 1.0, 0.0, _Z_REC_MIN, _Z_REC_MAX)
    z_d = reio.root_bisect(lambda zq, _: _integral_at(zq, z, kappa_b, kbH_fn) - 1.0, 0.0, _Z_REC_MIN, _Z_REC_MAX)

    def scales(zz):
        rs = bg.rs_of_z(zz)
        da = bg.angular_distance(zz)
        return bg.tau_of_z(zz), rs, da, 100.0 * rs / (da * (1.0 + zz))

    tau_rec, rs_rec, da_rec, th_s = scales(z_rec)
    tau_star, rs_star, da_star, th_star = scales(z_star)
    tau_drag = bg.tau_of_z(z_d)
    rs_d = bg.rs_of_z(z_d)

    return Thermo(
        z=z, tau=bg.tau_of_z(z), x_e=x_e, x_e_noreio=x_nr, T_b=T_b, dT_b=dT_b, w_b=w_b, c_b2=c_b2,
        kappa_dot=kdot, kappa_ddot=kddot, kappa_dddot=kdddot, kappa=kappa, exp_m_kappa=emk, g=g, dg=dg,
        ddg=ddg, kappa_b=kappa_b, YHe=YHe, z_reio=z_reio, tau_reio=tau_reio,
        conf_time_reio=bg.tau_of_z(z_reio), z_rec=z_rec, tau_rec=tau_rec, rs_rec=rs_rec, da_rec=da_rec,
        theta_s_100=th_s, z_star=z_star, tau_star=tau_star, rs_star=rs_star, da_star=da_star,
        theta_star_100=th_star, z_d=z_d, tau_drag=tau_drag, rs_d=rs_d,
    )


def thermodynamics_table(th: Thermo) -> dict:
    """classy ``get_thermodynamics()`` dictionary (numpy arrays, increasing z as in CLASS)."""
    z = np.asarray(th.z)
    return {
        "scale factor a": 1.0 / (1.0 + z),
        "z": z,
        "conf. time [Mpc]": np.asarray(th.tau),
        "x_e": np.asarray(th.x_e),
        "kappa' [Mpc^-1]": np.asarray(th.kappa_dot),
        "exp(-kappa)": np.asarray(th.exp_m_kappa),
        "g [Mpc^-1]": np.asarray(th.g),
        "Tb [K]": np.asarray(th.T_b),
        "dTb [K]": np.asarray(th.dT_b),
        "w_b": np.asarray(th.w_b),
        "c_b^2": np.asarray(th.c_b2),
        "kappa_b": np.asarray(th.kappa_b),
    }


def derived_parameters(th: Thermo) -> dict:
    """classy ``get_current_derived_parameters`` names provided by the thermodynamics."""
    f = float
    return {
        "YHe": f(th.YHe), "z_reio": f(th.z_reio), "tau_reio": f(th.tau_reio), "conf_time_reio": f(th.conf_time_reio),
        "z_rec": f(th.z_rec), "tau_rec": f(th.tau_rec), "rs_rec": f(th.rs_rec), "ds_rec": f(th.ds_rec),
        "ra_rec": f(th.ra_rec), "da_rec": f(th.da_rec), "z_star": f(th.z_star), "tau_star": f(th.tau_star),
        "rs_star": f(th.rs_star), "da_star": f(th.da_star), "ra_star": f(th.ra_star), "z_d": f(th.z_d),
        "tau_d": f(th.tau_drag), "rs_d": f(th.rs_d), "ds_d": f(th.ds_d), "100*theta_s": f(th.theta_s_100),
        "100*theta_star": f(th.theta_star_100), "theta_s_100": f(th.theta_s_100),
        "theta_star_100": f(th.theta_star_100),
    }


def check_thermodynamics(th: Thermo) -> None:
    """Host-side version of CLASS's thermodynamics error tests (call outside jit on a computed Thermo).

    Raises CosmoComputationError like thermodynamics.c: YHe out of [0.01, 0.5] (thermodynamics_checks),
    visibility maximum outside [_Z_REC_MIN_, _Z_REC_MAX_] = [500, 2000]
    (thermodynamics_calculate_recombination_quantities), x_e > 1 between z = 50 and 500
    (thermodynamics_derivs: incomplete recombination or too early reionisation), non-finite results."""
    from ..errors import CosmoComputationError

    YHe = float(th.YHe)
    if not 0.01 <= YHe <= 0.5:
        raise CosmoComputationError(f"Y_He={YHe:g} out of bounds (0.01<Y_He<0.5)")
    z_rec = float(th.z_rec)
    if not (np.isfinite(z_rec) and _Z_REC_MIN < z_rec < _Z_REC_MAX):
        raise CosmoComputationError(
            f"recombination (maximum of the visibility at z={z_rec:g}) outside [{_Z_REC_MIN:g}, {_Z_REC_MAX:g}]")
    z, x = np.asarray(th.z), np.asarray(th.x_e)
    m = (z > Z_REIO_START_MAX) & (z < 500.0)
    if np.any(x[m] > 1.0):
        zb = z[m][np.argmax(x[m] > 1.0)]
        raise CosmoComputationError(
            f"At redshift {zb:.5g}: recombination did not complete by redshift 500, or reionisation happened "
            f"before {Z_REIO_START_MAX:g}")
    for name in ("x_e", "g", "kappa", "T_b"):
        if not np.all(np.isfinite(np.asarray(getattr(th, name)))):
            raise CosmoComputationError(f"non-finite thermodynamics table '{name}'")
