"""HMcode's own growth factors, as CLASS 3.4.1 computes them (``external/HMcode/hmcode.c``).

HMcode does not use CLASS's growth factor D (CLASS's comment: "HMcode and CLASS differ a bit in their
growth definitions"); it integrates its own:

* `growth_tables` (hmcode_noradiation_growth_init / _compute, hmcode_norad, hmcode_growth_derivs): the
  linear growth g(a) of a universe without radiation,
  g'' = 3/2 Omega_m^norad(a) g / a^2 - (2 + A_H / H^2) g' / a  (' = d/da),
  with H^2 = Omega_m / a^3 + Omega_v + Omega_w X_de(a) + [a small neutrino term, below], A_H = -(Omega_m / a^3
  + Omega_v (1 + 3 w_v) + Omega_w (1 + 3 w(a)) X_de) / 2, X_de = a^(-3 (1 + w0 + wa)) exp(-3 wa (1 - a)),
  Omega_m^norad = Omega0_m / a^3 / H^2 (CLASS's Omega0_m: ncdm included as matter; no curvature term:
  CLASS's Omega_m := 1 - Omega_v - Omega_w makes it vanish), the neutrino term
  Omega_nu_rad [(1 + (0.3173 a)^1.83)^(1/1.83) - 1] / a^4 with Omega_nu_rad = Omega0_g Neff 7/8 (4/11)^(4/3)
  ("correction from inconsistent modeling between X_nu and H2_norad in HMcode").  Started at a = 1e-4 with
  g = a^(1 - 3 f / 5), f = 1 - Omega_m^norad(1e-4), to a = 1 (CLASS: ndf15 at tolerance 1e-10; here
  classical Runge-Kutta in ln a, ``substeps`` per table interval: converged to < 1e-10), tabulated at 128
  log-spaced a.  Tables: g/a, its running integral int_{1e-4}^a g/a da (Mead et al. 2021, arXiv:2009.01858,
  eqs. A1-A2 use g and this integral in delta_c and Delta_v), Omega_m^norad, g / g(1) and its inverse, all
  with CLASS's estimated-derivative splines.
* `growint` (hmcode_growint): the Linder & Cahn (2007) approximation D(a) / D(1) = exp(-int_a^1 Omega_m(a')^gamma
  da' / a'), gamma = 0.55 (w0 = -1), 0.55 + 0.02 (1 + w0) (w0 < -1), 0.55 + 0.05 (1 + w0) otherwise, on 1024
  linear points, integrated by CLASS's spline (used in the dark-energy corrections of the concentration).
"""

from __future__ import annotations

import dataclasses
import math

import equinox as eqx
import jax
import jax.numpy as jnp

from . import class_splines as cs


@dataclasses.dataclass(frozen=True)
class GrowthPrecision:
    """Fixed in CLASS's hmcode.c (not precision parameters there) except ``substeps`` (this port's ODE)."""

    a_ini: float = 1e-4  # hmcode_noradiation_growth_init a_ini
    a_size: int = 128  # phg->a_size
    substeps: int = 16  # RK4 steps per table interval (ln a)
    growint_n: int = 1024  # hmcode_growint ng


class GrowthTables(eqx.Module):
    """HMcode's growth tables on a (a_size,) with CLASS's estimated-derivative second derivatives."""

    a: jax.Array
    g_over_a: jax.Array
    dd_g_over_a: jax.Array
    int_g: jax.Array
    dd_int_g: jax.Array
    om_norad: jax.Array
    dd_om_norad: jax.Array
    norm_g: jax.Array  # g / g(1)
    dd_norm_g: jax.Array
    dd_a_of_g: jax.Array  # second derivatives of a(norm_g)


def _norad(c, a):
    """(H^2, A_H, Omega_m^norad) of hmcode_norad at a <= 1 (a_nu = 1, so the neutrinos' 1/a^3 terms are
    off).  ``c``: dict of the density parameters (see `growth_tables`)."""
    a3 = a * a * a
    w_de = c["w0"] + (1.0 - a) * c["wa"]
    x_de = a ** (-3.0 * (1.0 + c["w0"] + c["wa"])) * jnp.exp(-3.0 * c["wa"] * (1.0 - a))
    om_cb = c["Omega0_m"]  # phg Omega_cdm + Omega_b = Omega0_m (ncdm counted in "cdm")
    om_v, om_w = c["Omega0_lambda"], c["Omega0_fld"]
    ah = -(om_cb / a3 + om_v * (1.0 + 3.0 * (-1.0)) + om_w * (1.0 + 3.0 * w_de) * x_de) / 2.0
    h2 = om_cb / a3 + om_v + om_w * x_de  # + (1 - Omega_m - Omega_v - Omega_w) / a^2 = 0 identically
    om_nu = c["Omega0_g"] * c["Neff"] * 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)
    h2 = h2 + om_nu * ((1.0 + (0.3173 * a) ** 1.83) ** (1.0 / 1.83) - 1.0) / a3 / a
    return h2, ah, om_cb / a3 / h2


def growth_tables(c, prec: GrowthPrecision = GrowthPrecision()) -> GrowthTables:
    """HMcode's growth tables (hmcode_noradiation_growth_compute).  ``c``: dict with Omega0_m,
    Omega0_lambda, Omega0_fld, w0, wa, Omega0_g, Neff (CLASS background values; w0 = -1, wa = 0 and
    Omega0_fld = 0 without a fluid)."""
    n = prec.a_size
    lna_ini = math.log(prec.a_ini)
    lna = lna_ini + jnp.arange(n) * (0.0 - lna_ini) / (n - 1)
    lna = lna.at[0].set(lna_ini).at[-1].set(0.0)
    a_tab = jnp.exp(lna).at[0].set(prec.a_ini).at[-1].set(1.0)

    def rhs(l, y):
        a = jnp.exp(l)
        h2, ah, om = _norad(c, a)
        g, dg = y
        return jnp.stack([dg, 1.5 * om * g / (a * a) - (2.0 + ah / h2) * dg / a]) * a

    _, _, om0 = _norad(c, jnp.asarray(prec.a_ini))
    f = 1.0 - om0
    y0 = jnp.stack([prec.a_ini ** (1.0 - 3.0 * f / 5.0), (1.0 - 3.0 * f / 5.0) * prec.a_ini ** (-3.0 * f / 5.0)])
    m = prec.substeps

    def interval(y, lims):
        l0, l1 = lims
        h = (l1 - l0) / m

        def rk4(yy, j):
            l = l0 + j * h
            k1 = rhs(l, yy)
            k2 = rhs(l + h / 2, yy + h / 2 * k1)
            k3 = rhs(l + h / 2, yy + h / 2 * k2)
            k4 = rhs(l + h, yy + h * k3)
            return yy + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4), None

        y1, _ = jax.lax.scan(rk4, y, jnp.arange(m, dtype=float))
        return y1, y1[0]

    _, g_rest = jax.lax.scan(interval, y0, (lna[:-1], lna[1:]))
    g = jnp.concatenate([y0[:1], g_rest])
    g_over_a = g / a_tab
    dd_ga = cs.second_derivatives(a_tab, g_over_a, "est_deriv")
    int_g = cs.cumulative(a_tab, g_over_a, dd_ga)
    _, _, om = _norad(c, a_tab)
    norm_g = g / g[-1]
    return GrowthTables(a=a_tab, g_over_a=g_over_a, dd_g_over_a=dd_ga, int_g=int_g,
                        dd_int_g=cs.second_derivatives(a_tab, int_g, "est_deriv"), om_norad=om,
                        dd_om_norad=cs.second_derivatives(a_tab, om, "est_deriv"), norm_g=norm_g,
                        dd_norm_g=cs.second_derivatives(a_tab, norm_g, "est_deriv"),
                        dd_a_of_g=cs.second_derivatives(norm_g, a_tab, "est_deriv"))


def at_a(t: GrowthTables, a):
    """(g/a, int g/a da, Omega_m^norad, g/g(1)) at scale factor a (CLASS's splines)."""
    return (cs.evaluate(t.a, t.g_over_a, t.dd_g_over_a, a), cs.evaluate(t.a, t.int_g, t.dd_int_g, a),
            cs.evaluate(t.a, t.om_norad, t.dd_om_norad, a), cs.evaluate(t.a, t.norm_g, t.dd_norm_g, a))


def a_of_growth(t: GrowthTables, g):
    """a at which g(a)/g(1) = g (the spline of a against g/g(1); the halo formation time)."""
    return cs.evaluate(t.norm_g, t.a, t.dd_a_of_g, g)


def growint(c, a, w0, wa, n: int = 1024):
    """Linder-Cahn growth D(a)/D(1) for a w0-wa dark energy (hmcode_growint), CLASS's Omega0_m, Omega0_k
    and Omega0_de = 1 - Omega0_m - Omega0_r - Omega0_k.  a scalar; w0, wa scalars."""
    one = a == 1.0  # CLASS: ainit == amax gives 1 directly
    a = jnp.where(one, 0.5, a)
    s = a + (1.0 - a) * jnp.arange(n) / (n - 1)
    z = 1.0 / s - 1.0
    x_de = s ** (-3.0 * (1.0 + w0 + wa)) * jnp.exp(-3.0 * wa * (1.0 - s))
    om_de = 1.0 - c["Omega0_m"] - c["Omega0_r"] - c["Omega0_k"]
    hub2 = c["Omega0_m"] * (1.0 + z) ** 3 + c["Omega0_k"] * (1.0 + z) ** 2 + om_de * x_de
    om = c["Omega0_m"] * (1.0 + z) ** 3 / hub2
    gamma = jnp.where(w0 == -1.0, 0.55, jnp.where(w0 < -1.0, 0.55 + 0.02 * (1.0 + w0), 0.55 + 0.05 * (1.0 + w0)))
    y = -(om**gamma) / s
    val = cs.integrate(s, y, cs.second_derivatives(s, y, "est_deriv"))
    return jnp.where(one, 1.0, jnp.exp(val))
