"""HMcode behind `boltzax.Class` (``non_linear = hmcode``): the glue between a computed run and the pure
stage `boltzax.nonlinear.hmcode`.

* CLASS's perturbation wavenumbers (`class_k_grid.class_k_nodes`: k_min from tau0 and the curvature, the
  BAO-aware log steps to the first node >= max(P_k_max, 5 /Mpc)), computed on the host from the run;
* the linear P_m, P_cb at those nodes and the requested z from boltzax's linear table (continued below its
  first k as `halofit.linear_at`), CLASS's background numbers (`background.derived_densities`), Omega_m(z);
* P_nl at the nodes (one compiled program per (version, spectrum): shapes do not depend on the cosmology),
  cached per z; classy's pk(k, z) etc. then spline ln P_nl in ln k between the nodes (natural spline), as
  CLASS's fourier_pk_at_k_and_z does (CLASS also splines in ln tau between its time nodes; here z is exact).
"""

from __future__ import annotations

import functools

import numpy as np


def hmcode_cosmo(res, opts):
    """`HMcodeCosmo` from computed results ``res`` and the `params.HMcodeOptions` (jitted: one dispatch)."""
    import jax

    return jax.jit(_hmcode_cosmo, static_argnums=1)(res, opts)


def _hmcode_cosmo(res, opts):
    import jax.numpy as jnp

    from ..background import derived_densities
    from ..nonlinear.hmcode import HMcodeCosmo

    p = res.params
    m = res.background.model
    dd = derived_densities(p)
    return HMcodeCosmo(
        h=p.h, H0=m.H0, Omega0_m=dd["Omega0_m"], Omega0_b=dd["Omega0_b"], Omega0_cdm=dd["Omega0_cdm"],
        Omega0_ncdm_tot=dd["Omega0_ncdm_tot"], Omega0_lambda=dd["Omega0_lambda"], Omega0_fld=dd["Omega0_fld"],
        Omega0_k=dd["Omega0_k"], Omega0_r=dd["Omega0_r"], Omega0_g=dd["Omega0_g"], Neff=dd["Neff"],
        w0=m.w0 if m.has_fld else jnp.asarray(-1.0), wa=m.wa if m.has_fld else jnp.asarray(0.0), T_cmb=p.T_cmb,
        A_s=p.A_s, n_s=p.n_s, alpha_s=p.alpha_s, k_pivot=p.k_pivot, eta_0=opts.eta_0, c_min=opts.c_min,
        log10T_heat=opts.log10T_heat, has_ncdm=int(p.n_ncdm) > 0, has_fld=bool(m.has_fld))


def k_nodes(res, k_max: float) -> np.ndarray:
    """CLASS's perturbation wavenumbers [1/Mpc] for this run (P_k_max or HMcode's minimum 5 /Mpc)."""
    from ..nonlinear.class_k_grid import ClassKGridPrecision, class_k_min, class_k_nodes

    bg, th = res.background, res.thermo
    k_min = float(class_k_min(bg.conformal_age, bg.K, th.ra_rec, th.tau_rec, ClassKGridPrecision()))
    return class_k_nodes(k_min, float(th.rs_rec), k_max)


def _pad_len(n: int) -> int:
    """Static length (a multiple of 64) that n perturbation nodes are padded to: few compiled programs."""
    return 64 * ((int(n) + 63) // 64)


@functools.lru_cache(maxsize=None)
def _glue_jit(cb: bool, has_ncdm: bool):
    """Jitted (ln P_m, ln P_cb on the padded nodes (n_z, n_pad), P_lin of the spectrum there (n_pad, n_z),
    Omega_m(z)): one dispatch instead of a dozen eager ones."""
    import jax
    import jax.numpy as jnp

    from ..nonlinear.halofit import background_at, linear_at

    def glue(res, lp, nodes_pad, z):
        lm = jnp.log(linear_at(lp, nodes_pad, z, cb=False)).T
        lcb = jnp.log(linear_at(lp, nodes_pad, z, cb=True)).T if has_ncdm else lm
        return lm, lcb, jnp.exp(lcb if (cb and has_ncdm) else lm).T, background_at(res.background, z)[0]

    return jax.jit(glue)


def hmcode_nodes(res, lp, opts, z, k_max: float, cb: bool, nodes=None):
    """(k_nodes, P_nl (n_nodes, n_z), HMcodeState) at redshifts z (numpy 1-d) for the spectrum P_m or P_cb.

    HMcode's P_nl is evaluated at the perturbation nodes only (padded to `_pad_len`), not on the whole extended
    grid of its tables (up to 1e6 /Mpc): the same numbers, about half the one-halo work."""
    from ..nonlinear.hmcode import HMcodePrecision, hmcode_pk

    nodes = k_nodes(res, max(k_max, opts.min_k_max)) if nodes is None else nodes
    z = np.atleast_1d(np.asarray(z, dtype=float))
    n = len(nodes)
    nodes_pad = np.concatenate([nodes, np.full(_pad_len(n) - n, nodes[-1])])
    has_ncdm = int(res.params.n_ncdm) > 0
    lm, lcb, p_lin, om_z = _glue_jit(bool(cb), has_ncdm)(res, lp, nodes_pad, z)
    prec = HMcodePrecision(nk_wiggle=opts.nk_wiggle, z_infinity=opts.z_infinity)
    p, st = hmcode_pk(hmcode_cosmo(res, opts), nodes, lm[:, :n], lcb[:, :n], z, om_z, k=nodes_pad, pk_lin=p_lin,
                      version=opts.version, cb=cb, prec=prec)
    return nodes, np.asarray(p)[:n], st


def spline_lnk(nodes, p_nodes, k):
    """P at k [1/Mpc] from the natural spline of ln P in ln k through the nodes (p_nodes (n_nodes, n_z))."""
    from scipy.interpolate import CubicSpline

    s = CubicSpline(np.log(nodes), np.log(p_nodes), bc_type="natural", axis=0)
    return np.exp(s(np.log(np.clip(k, nodes[0], nodes[-1]))))


def analytic_nowiggle(res, k):
    """classy pk_analytic_nw(k) [Mpc^3]: CLASS's Eisenstein & Hu no-wiggle spectrum (hmcode_eisenstein_hu)."""
    from ..nonlinear.hmcode_nowiggle import analytic_lnpk
    from ..params import HMcodeOptions

    c = hmcode_cosmo(res, HMcodeOptions()).as_dict()
    return np.exp(np.asarray(analytic_lnpk(np.asarray(k, dtype=float), c)))


def numerical_nowiggle(res, lp, z: float, nodes, nk_wiggle: int = 512):
    """ln P_nw on the extended k grid (hmcode_wnw_split at redshift z): inside CLASS's de-wiggling range
    (5e-3 < k < 5 /Mpc, exclusive) the natural spline of ln P_nw in ln k (from `hmcode_nowiggle.split`), the
    linear ln P_m elsewhere.  Returns (k_ext, ln P_nw)."""
    import jax.numpy as jnp

    from ..nonlinear import class_splines as cs
    from ..nonlinear import hmcode_common as hc
    from ..nonlinear import hmcode_nowiggle as nw
    from ..nonlinear.halofit import linear_at
    from ..params import HMcodeOptions

    p = res.params
    k_ext, _ = hc.extended_k(nodes)
    lnk = np.log(k_ext)
    lm = jnp.log(linear_at(lp, nodes, [z], cb=False)[:, 0])
    l_ext = hc.extrapolate_lnpk(k_ext, len(nodes), jnp.pad(lm, (0, len(k_ext) - len(nodes))), p.n_s, p.alpha_s,
                                p.k_pivot)
    ln_an = nw.analytic_lnpk(jnp.asarray(k_ext), hmcode_cosmo(res, HMcodeOptions()).as_dict())
    x, p_nw, _ = nw.split(lnk, l_ext, cs.second_derivatives(lnk, l_ext, "natural"), ln_an,
                          cs.second_derivatives(lnk, ln_an, "natural"), nk_wiggle)
    ln_nw = jnp.log(p_nw)
    inside = (lnk > x[0]) & (lnk < x[-1])
    val = cs.evaluate(x, ln_nw, cs.second_derivatives(x, ln_nw, "natural"), jnp.asarray(lnk))
    return k_ext, np.asarray(jnp.where(inside, val, l_ext))
