"""HMcode nonlinear matter power spectrum as CLASS 3.4.1 computes it (``external/HMcode/hmcode.c``,
``source/fourier.c``): versions 2015/2016 (Mead et al. 2015, arXiv:1505.07833; 2016, arXiv:1602.02154),
2020 (Mead et al. 2021, arXiv:2009.01858, CLASS's default) and 2020_baryonic_feedback.

A pure-JAX stage, like `halofit`: in go the linear ln P_m and ln P_cb [Mpc^3] on CLASS's perturbation
wavenumbers (``k_nodes`` [1/Mpc], a numpy array: it fixes every static array size) at one redshift, and the
background numbers HMcode reads; out comes P_nl [Mpc^3] at the requested wavenumbers.  Steps, per
redshift and spectrum (fourier_init -> hmcode_fill_sigtab -> hmcode -> hmcode_compute):

1. ln P continued to k = 1e6 /Mpc (`hmcode_common.extended_k` / `extrapolate_lnpk`) and splined (natural)
   in ln k; sigma8, sigma8_cb, sigma_disp (R = 0) and sigma_disp(100 Mpc/h) by fourier_sigmas.
2. sigma(R) table (hmcode_fill_sigtab): 64 log-spaced R from 1e-5 to 1e3 Mpc/h, from ln P_cb (2015, or the
   cb spectrum) or, for P_m in HMcode 2020 with massive neutrinos, ln P_m + 2 ln(D_cb / D_cbnu)
   (`hmcode_common.cbnu_ratio`), estimated-derivative splines; the table is splined in R.
3. 256 haloes log-spaced from 1e3 to 1e18 M_sun/h, R = (3 M / (4 pi rho_crit Omega0))^(1/3) (Omega0 =
   Omega0_m for P_m, Omega0_cb for P_cb), nu = delta_c / sigma(R), r_v = R / Delta_v^(1/3).
4. R_nl: sigma_cb(R_nl) = delta_c, bisection in R (not ln R) from CLASS's bracket, stopped at
   |sigma - delta_c| <= hmcode_tol_sigma, then ``newton_steps`` Newton steps to the exact root (as
   `halofit`: without them P_nl jumps by CLASS's tolerance where the bisection path changes); derivative by
   the implicit-function theorem (custom JVP).  n_eff = -3 - d ln sigma^2 / d ln R at R_nl.  Not computable
   (the linear spectrum is returned) where nu(M_min) > 1 or k_nl > the last perturbation k.
5. Concentrations c(M) = A (1 + z_f) / (1 + z) (Bullock et al. 2001; z_f from HMcode's growth,
   `hmcode_growth`) times the dark-energy correction (Dolag et al. 2004 as HMcode), version parameters
   (`hmcode_versions`), the 1-halo integral over nu by the trapezoid rule (CLASS's spline call starts at
   the last index: it is a trapezoid), the 2-halo term (2020: de-wiggled with `hmcode_nowiggle`), and
   P = (P_1h^alpha + P_2h^alpha)^(1/alpha).

CLASS evaluates at its time nodes and splines ln P_nl in ln tau and ln k; here the requested (k, z) are
evaluated directly.  Units: k [1/Mpc], R [Mpc], P [Mpc^3], M [M_sun].
"""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from . import class_splines as cs
from . import hmcode_common as hc
from . import hmcode_growth as hg
from . import hmcode_nowiggle as nw
from . import hmcode_versions as hv


@dataclasses.dataclass(frozen=True)
class HMcodePrecision:
    """CLASS's HMcode precision parameters (include/precisions.h; fourier.h for nk_wiggle, z_infinity)."""

    sigma_k_per_decade: float = 80.0  # sigma_k_per_decade
    max_k_extra: float = 1e6  # hmcode_max_k_extra [1/Mpc]
    k_per_decade_for_pk: float = 10.0  # k_per_decade_for_pk (the extrapolation step)
    tol_sigma: float = 1e-6  # hmcode_tol_sigma: bisection stops at |sigma(R) - delta_c| <= this
    n_tables: int = 64  # n_hmcode_tables
    rmin_for_sigtab: float = 1e-5  # [Mpc/h]
    rmax_for_sigtab: float = 1e3  # [Mpc/h]
    nsteps_for_p1h_integral: int = 256
    mmin_for_p1h_integral: float = 1e3  # [M_sun/h]
    mmax_for_p1h_integral: float = 1e18  # [M_sun/h]
    nk_wiggle: int = 512  # nk_wiggle
    z_infinity: float = 10.0  # z_infinity: dark-energy correction evaluated there, applied below it
    max_iterations: int = 10000  # _MAX_IT_
    # Newton steps after CLASS's bisection (0: CLASS's stopping point exactly; 2: the exact root, smooth
    # in the parameters and consistent with the implicit-function derivative)
    newton_steps: int = 2
    n_ext_max: int = 256  # static length of the extended k grid (perturbation nodes + extrapolation)
    n_sigma_max: int = 960  # static length of the sigma quadrature (CLASS: ~890 points)
    growth: hg.GrowthPrecision = hg.GrowthPrecision()


def parse_version(value) -> str:
    """CLASS's hmcode_version parsing (input.c, strstr): '15' or '16' -> '2015'; '20baryon' /
    '20_baryon' -> '2020_baryonic_feedback'; '20' -> '2020'; anything else is an error."""
    s = str(value)
    if "15" in s or "16" in s:
        return "2015"
    if "20baryon" in s or "20_baryon" in s:
        return "2020_baryonic_feedback"
    if "20" in s:
        return "2020"
    raise ValueError(f"You specified 'hmcode_version' = '{s}'. It has to be one of "
                     "{'2015','2020','2020_baryonic_feedback'}.")


# CLASS's baryonic feedback models for HMcode 2015 (hmcode_baryonic_feedback): (eta_0, c_min)
FEEDBACK_MODELS = {"emu_dmonly": (0.603, 3.13), "owls_dmonly": (0.64, 3.43), "owls_ref": (0.68, 3.91),
                   "owls_agn": (0.76, 2.32), "owls_dblim": (0.70, 3.01)}


class HMcodeCosmo(eqx.Module):
    """The background numbers HMcode reads (CLASS names; today's values; T_cmb [K], H0 [1/Mpc], k_pivot
    [1/Mpc]) plus the 2015 baryon parameters eta_0, c_min and 2020's log10T_heat.  ``has_ncdm`` is CLASS's
    flag (static: it selects the arrays); ``has_fld`` is informative (the code tests Omega0_fld != 0)."""

    h: Any
    H0: Any
    Omega0_m: Any
    Omega0_b: Any
    Omega0_cdm: Any
    Omega0_ncdm_tot: Any
    Omega0_lambda: Any
    Omega0_fld: Any
    Omega0_k: Any
    Omega0_r: Any
    Omega0_g: Any
    Neff: Any
    w0: Any
    wa: Any
    T_cmb: Any
    A_s: Any
    n_s: Any
    alpha_s: Any
    k_pivot: Any
    eta_0: Any = 0.603
    c_min: Any = 3.13
    log10T_heat: Any = 7.8
    has_ncdm: bool = eqx.field(static=True, default=False)
    has_fld: Any = False  # informative leaf (not static, so fluid and Lambda models share one program)

    def as_dict(self):
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}


class HMcodeState(eqx.Module):
    """Per-redshift HMcode quantities (diagnostics; CLASS prints them at fourier_verbose > 2)."""

    k_nl: Any  # 1 / R_nl [1/Mpc]
    n_eff: Any
    delta_c: Any
    Delta_v: Any
    sigma8: Any
    sigma8_cb: Any
    sigma_disp: Any  # [Mpc]
    computable: Any
    iterations: Any


class HMcodeGrid(eqx.Module):
    """The wavenumber structure of one CLASS k list, padded to static lengths (so one compiled program
    serves every cosmology): the extended grid (perturbation nodes, then CLASS's extrapolation steps,
    continued past 1e6 /Mpc as padding), its first n_nodes points being the nodes, and the sigma quadrature."""

    k_ext: jax.Array  # (n_ext_max,) [1/Mpc]
    lnk_ext: jax.Array
    n_nodes: jax.Array  # number of perturbation nodes (int)
    sigma: hc.SigmaGrid


@functools.lru_cache(maxsize=64)
def _grid_cached(k_nodes_bytes: bytes, prec) -> HMcodeGrid:
    k_nodes = np.frombuffer(k_nodes_bytes, dtype=float)
    # concrete arrays even when first called inside a jit/jacfwd trace: the cache outlives the trace (a traced
    # constant cached here leaked into the next trace: UnexpectedTracerError, found by the slow AD test)
    with jax.ensure_compile_time_eval():
        k_ext, n_valid = hc.extended_k(k_nodes, prec.max_k_extra, prec.k_per_decade_for_pk, prec.n_ext_max)
        sg = hc.SigmaGrid.build(k_ext, n_valid, prec.sigma_k_per_decade, prec.n_sigma_max)
        return HMcodeGrid(k_ext=jnp.asarray(k_ext), lnk_ext=jnp.asarray(np.log(k_ext)),
                          n_nodes=jnp.asarray(len(k_nodes)), sigma=sg)


def make_grid(k_nodes, prec: "HMcodePrecision") -> HMcodeGrid:
    """`HMcodeGrid` for CLASS's perturbation wavenumbers k_nodes [1/Mpc] (numpy, increasing; cached)."""
    return _grid_cached(np.ascontiguousarray(np.asarray(k_nodes, dtype=float)).tobytes(), prec)


# ------------------------------------------------------------------------------------------ R_nl
@functools.lru_cache(maxsize=None)
def _root_fn(prec):
    """sigma_cb(R) = delta_c solved as CLASS (bisection in R), then Newton; custom JVP by the
    implicit-function theorem.  Inputs (sigma grid, P_cb on it, delta_c, r1, r2, r_start, tolerance, Newton
    on/off (traced: one compiled program for CLASS's default and tight tolerances)); the grid, the bracket
    and the switches carry no derivative."""

    def F(sg, pk, dc, r):
        return jnp.sqrt(hc.sigma2(sg, pk, r)) - dc

    @jax.custom_jvp
    def root(sg, pk, dc, r1, r2, r0, tol, newton):

        def cond(c):
            return (jnp.abs(c[3]) > tol) & (c[4] <= prec.max_iterations)

        def body(c):
            r1, r2, r, _, it = c
            diff = F(sg, pk, dc, r)
            r1 = jnp.where(diff > tol, r, r1)
            r2 = jnp.where(diff < -tol, r, r2)
            return r1, r2, (r1 + r2) / 2.0, diff, it + 1

        _, _, r, diff, it = jax.lax.while_loop(cond, body, (r1, r2, r0, jnp.asarray(jnp.inf), jnp.asarray(0)))
        r_bis = r
        for _ in range(prec.newton_steps):
            f, dfdr = jax.value_and_grad(F, argnums=3)(sg, pk, dc, r)
            r = r - f / dfdr
        return jnp.where(newton > 0, r, r_bis), it.astype(float), diff

    @root.defjvp
    def root_jvp(primals, tangents):
        sg, pk, dc = primals[:3]
        dpk, ddc = tangents[1:3]
        r, it, diff = root(*primals)
        _, df = jax.jvp(lambda p, d: F(sg, p, d, r), (pk, dc), (dpk, ddc))
        dfdr = jax.grad(F, argnums=3)(sg, pk, dc, r)
        return (r, it, diff), (-df / dfdr, jnp.zeros_like(it), jnp.zeros_like(diff))

    return root


# ------------------------------------------------------------------------------------------ one z
def _sigma_table(g: HMcodeGrid, prec, c: HMcodeCosmo, lpk_ext):
    """(R (n,), sigma (n,), ddsigma (n,)) of hmcode_fill_sigtab from ln P on the extended grid."""
    dd = cs.second_derivatives(g.lnk_ext, lpk_ext, "est_deriv")
    pk = hc.pk_on_sigma_grid(g.sigma, g.lnk_ext, lpk_ext, dd)
    rmin, rmax = prec.rmin_for_sigtab / c.h, prec.rmax_for_sigtab / c.h
    n = prec.n_tables
    r = jnp.exp(jnp.log(rmin) + jnp.log(rmax / rmin) * jnp.arange(n) / (n - 1))
    s = jnp.sqrt(jax.vmap(lambda rr: hc.sigma2(g.sigma, pk, rr))(r))
    return r, s, cs.second_derivatives(r, s, "est_deriv")


def hmcode_at_z(g: HMcodeGrid, prec: HMcodePrecision, dyn, c: HMcodeCosmo, tables: hg.GrowthTables, lnpk_m,
                lnpk_cb, z, om_z, k, pk_lin, version: str, cb: bool):
    """P_nl [Mpc^3] at wavenumbers k [1/Mpc] (n,) with linear P pk_lin there, and the HMcodeState, at one
    redshift z.  lnpk_m, lnpk_cb: ln P [Mpc^3] on the grid (the first g.n_nodes entries are used; lnpk_cb =
    lnpk_m without massive neutrinos); om_z: CLASS's background Omega_m(z); cb: the P_cb spectrum."""
    variants = ("2020_baryonic", "2020", "2020_unfitted") if version == "2020_baryonic_feedback" else (version,)
    v2020 = version != "2015"
    cd = c.as_dict()
    a = 1.0 / (1.0 + z)
    fnu = c.Omega0_ncdm_tot / c.Omega0_m
    om0 = c.Omega0_m - c.Omega0_ncdm_tot if cb else c.Omega0_m
    use_cb = cb or not c.has_ncdm

    ext = lambda lp: hc.extrapolate_lnpk(g.k_ext, g.n_nodes, lp, c.n_s, c.alpha_s, c.k_pivot)  # noqa: E731
    lm_ext = ext(lnpk_m)
    lcb_ext = ext(lnpk_cb) if c.has_ncdm else lm_ext
    l_ext = lcb_ext if use_cb else lm_ext  # index_pk
    dd_l = cs.second_derivatives(g.lnk_ext, l_ext, "natural")
    dd_cb = cs.second_derivatives(g.lnk_ext, lcb_ext, "natural")
    p_sel = hc.pk_on_sigma_grid(g.sigma, g.lnk_ext, l_ext, dd_l)
    p_cb = hc.pk_on_sigma_grid(g.sigma, g.lnk_ext, lcb_ext, dd_cb)
    sigma8 = jnp.sqrt(hc.sigma2(g.sigma, p_sel, 8.0 / c.h))
    sigma8_cb = jnp.sqrt(hc.sigma2(g.sigma, p_cb, 8.0 / c.h))
    sig_d = hc.sigma_disp(g.sigma, p_sel, 0.0)
    sig_d100 = hc.sigma_disp(g.sigma, p_sel, 100.0 / c.h)

    # growth (HMcode's own, at a)
    g_over_a, int_g, om_norad, growth = hg.at_a(tables, a)

    # sigma(R) table (hmcode_fill_sigtab)
    if v2020 and c.has_ncdm and not cb:
        ratio = hc.cbnu_ratio(g.k_ext, z, fnu, c.Omega0_m * c.h**2, c.T_cmb, g_over_a / (1.0 + z))
        lpk_tab = lm_ext + 2.0 * jnp.log(ratio)
    else:
        lpk_tab = lcb_ext
    rtab, stab, ddstab = _sigma_table(g, prec, c, lpk_tab)

    dc, dv = hv.collapse_thresholds("2015" if not v2020 else "2020", sigma8, om_z, fnu, g_over_a,
                                    int_g * (1.0 + z), om_norad)

    # haloes
    n = prec.nsteps_for_p1h_integral
    mmin, mmax = prec.mmin_for_p1h_integral / c.h, prec.mmax_for_p1h_integral / c.h
    mass = jnp.exp(jnp.log(mmin) + jnp.log(mmax / mmin) * jnp.arange(n) / (n - 1))
    rho_c = hc.rho_crit_msun_mpc3(c.h)
    r_real = (3.0 * mass / (4.0 * math.pi * rho_c * om0)) ** (1.0 / 3.0)
    r_vir = r_real / dv ** (1.0 / 3.0)
    sig = cs.evaluate(rtab, stab, ddstab, r_real)
    sigf = cs.evaluate(rtab, stab, ddstab, r_real * 0.01 ** (1.0 / 3.0))
    nu = dc / sig

    # R_nl (bracket and start as CLASS)
    computable = nu[0] <= 1.0
    i_nl = jnp.clip(jnp.searchsorted(nu, 1.0, side="right") - 1, 1, n - 3)
    r0 = (1.0 - nu[i_nl]) / (nu[i_nl + 1] - nu[i_nl]) * (r_real[i_nl + 1] - r_real[i_nl]) + r_real[i_nl]
    r_start = jnp.where(computable, r0, r_real[n // 2])
    dc_root = jnp.where(computable, dc, sig[n // 2])
    r_nl, it, diff_last = _root_fn(prec)(g.sigma, p_cb, dc_root, r_real[i_nl - 1], r_real[i_nl + 2], r_start, dyn[0],
                                         dyn[1])
    # CLASS's n_eff uses sigma at the last bisection point, which is not R_nl when the first guess already met
    # the tolerance (CLASS then returns the bracket's midpoint as R_nl); at the exact root both are delta_c
    sigma_nl = jnp.where(dyn[1] > 0, jnp.sqrt(hc.sigma2(g.sigma, p_cb, r_nl)), dc_root + diff_last)
    k_nl = 1.0 / r_nl
    computable = computable & (k_nl <= g.k_ext[g.n_nodes - 1])
    n_eff = -3.0 - r_nl * sigma_nl**-2 * hc.sigma_prime(g.sigma, p_cb, r_nl)

    # formation redshifts -> concentration (without the version amplitude A)
    g_form = jnp.minimum(dc * growth / sigf, 1.0)
    z_form = 1.0 / hg.a_of_growth(tables, g_form) - 1.0
    conc_shape = jnp.where(z_form < z, 1.0, (1.0 + z_form) / (1.0 + z))
    a_inf = 1.0 / (1.0 + prec.z_infinity)
    has_fld = c.Omega0_fld != 0.0  # CLASS's has_fld (traced: one program with and without a fluid)
    if v2020:
        g_lcdm = hg.growint(cd, a, -1.0, 0.0)
        de_inf = jnp.where(has_fld, hg.at_a(tables, a_inf)[3] / hg.growint(cd, a_inf, -1.0, 0.0), 1.0)
        decorr = de_inf * g_lcdm / growth
    else:
        decorr = jnp.where(has_fld, (hg.growint(cd, a_inf, c.w0, c.wa) / hg.growint(cd, a_inf, -1.0, 0.0)) ** 1.5,
                           1.0)
    conc_shape = jnp.where(z < prec.z_infinity, conc_shape * decorr, conc_shape)

    # wiggles (2020 family)
    kk = k[:, None]
    if v2020:
        ln_an = nw.analytic_lnpk(g.k_ext, cd)
        x_w, _, p_w = nw.split(g.lnk_ext, l_ext, dd_l, ln_an, cs.second_derivatives(g.lnk_ext, ln_an, "natural"),
                               prec.nk_wiggle)
        p_w = p_w * jnp.exp(3.0 * x_w) * hc._ANORM
        lk = jnp.log(k)
        inside = (lk >= x_w[0]) & (lk <= x_w[-1])
        pk_wig = jnp.where(inside, cs.evaluate(x_w, p_w, cs.second_derivatives(x_w, p_w, "est_deriv"), lk), 0.0)
    else:
        pk_wig = jnp.zeros_like(k)

    delta_lin = pk_lin * k**3 * hc._ANORM
    gst = hc.sheth_tormen(nu)
    out = []
    for variant in variants:
        p = hv.halo_parameters(variant, n_eff, z, sigma8, sigma8_cb, sig_d, sig_d100, c.h, c.c_min, c.eta_0,
                               c.log10T_heat)
        conc = p["A"] * conc_shape
        win = hc.window_nfw(nu[None, :] ** p["eta"] * kk, r_vir[None, :], conc[None, :])
        win = hv.window_modification(variant, win, mass[None, :], z, fnu, c.h, c.Omega0_b, c.Omega0_cdm,
                                     c.Omega0_m, c.log10T_heat)
        y = mass[None, :] * gst[None, :] * win**2
        p1h = jnp.sum((y[:, 1:] + y[:, :-1]) * (nu[1:] - nu[:-1])[None, :] / 2.0, axis=1)
        p1h = p1h * hc._ANORM * k**3 * hv.one_halo_damping(variant, k, p["k_star"]) / (rho_c * om0)
        p2h = hv.two_halo(variant, k, delta_lin, pk_wig, sig_d, p["fdamp"], p["kdamp"])
        al = p["alpha"]
        out.append((p1h**al + p2h**al) ** (1.0 / al) / k**3 / hc._ANORM)
    p_nl = out[0] if len(out) == 1 else out[0] * out[1] / out[2]
    p_nl = jnp.where(computable, p_nl, pk_lin)
    st = HMcodeState(k_nl=k_nl, n_eff=n_eff, delta_c=dc, Delta_v=dv, sigma8=sigma8, sigma8_cb=sigma8_cb,
                     sigma_disp=sig_d, computable=computable, iterations=it)
    return p_nl, st


def hmcode_pk(c: HMcodeCosmo, k_nodes, lnpk_m, lnpk_cb, z, om_z, k=None, pk_lin=None, version: str = "2020",
              cb: bool = False, prec: HMcodePrecision = HMcodePrecision()):
    """HMcode P_nl [Mpc^3], shape (n_k, n_z), and the HMcodeState (fields (n_z,)) at redshifts z (n_z,).

    k_nodes: CLASS's perturbation wavenumbers [1/Mpc] (numpy, host side); lnpk_m, lnpk_cb: ln P_lin [Mpc^3]
    on them, shape (n_z, n_nodes) (lnpk_cb ignored without massive neutrinos); om_z: Omega_m(z) (n_z,); k,
    pk_lin (n_k,) / (n_k, n_z): the output wavenumbers and the linear P there (default: the nodes and
    exp(lnpk)); version: '2015' (= '2016'), '2020', '2020_baryonic_feedback' (or any string CLASS accepts).
    One compiled program per (version, cb, prec, array shapes): the k list only changes values.
    Differentiable (jacfwd / jvp) in every array argument and in the fields of ``c``."""
    version = parse_version(version)
    g = make_grid(k_nodes, prec)
    n_nodes = len(k_nodes)
    n_ext = g.k_ext.shape[0]
    z = jnp.atleast_1d(jnp.asarray(z, dtype=float))
    om_z = jnp.atleast_1d(jnp.asarray(om_z, dtype=float))

    def pad(a):
        return jnp.pad(jnp.atleast_2d(jnp.asarray(a, dtype=float)), ((0, 0), (0, n_ext - n_nodes)), mode="edge")

    lm, lcb = pad(lnpk_m), pad(lnpk_cb)
    default_k = k is None
    if default_k:
        k = g.k_ext
        pk_lin = jnp.exp(lcb if (cb and c.has_ncdm) else lm).T
    k = jnp.asarray(k, dtype=float)
    pk_lin = jnp.asarray(pk_lin, dtype=float).reshape(k.shape[0], z.shape[0])
    # the bisection tolerance and the Newton switch are traced (prec keeps only static choices)
    dyn = jnp.array([prec.tol_sigma, float(prec.newton_steps > 0)])
    static = dataclasses.replace(prec, tol_sigma=1e-6, newton_steps=max(prec.newton_steps, 2))
    p, st = _hmcode_jit(static, version, cb, g, c, dyn, lm, lcb, z, om_z, k, pk_lin)
    return (p[:n_nodes] if default_k else p), st


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _hmcode_jit(prec, version: str, cb: bool, g, c, dyn, lnpk_m, lnpk_cb, z, om_z, k, pk_lin):
    tables = hg.growth_tables(c.as_dict(), prec.growth)

    def one(lm, lcb, zz, oz, pl):
        return hmcode_at_z(g, prec, dyn, c, tables, lm, lcb, zz, oz, k, pl, version, cb)

    return jax.vmap(one, in_axes=(0, 0, 0, 0, 1), out_axes=(1, 0))(lnpk_m, lnpk_cb, z, om_z, pk_lin)
