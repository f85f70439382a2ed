"""Background and thermodynamics tables as the perturbation right-hand side needs them.

This is the single adapter between boltzax's `Background`/`Thermo` and the perturbation equations:
everything the equations read is tabulated on a *uniform* grid in x = ln a and interpolated with a
cubic (Catmull-Rom: centred-difference slopes, third-order accurate, C1) so that an adaptive stiff
solver sees smooth coefficients.  Units are CLASS's: conformal time tau [Mpc], a'/a [1/Mpc],
"a2rho" = a^2 * (8 pi G / 3) rho [1/Mpc^2] (CLASS's rho is 8piG/3 rho, background.c), kappa' =
a n_e sigma_T [1/Mpc] (thermodynamics.c), c_b^2 dimensionless.

Builders: `tables_from_arrays` (raw arrays on any increasing ln a grid, used by tests and stubs)
and `tables_from_boltzax` (the boltzax Background/Thermo, wired in when those modules exist).
"""

from __future__ import annotations

from typing import Any

import equinox as eqx
import jax
import interpax
import jax.numpy as jnp
import numpy as np

from .. import ncdm as N

LNA_TABLE_MAX = 0.02  # the tables extend slightly past a = 1 (the solver integrates to ln a = 0.005)
SPECIES = ("g", "b", "cdm", "ur", "lambda", "fld")  # a2rho columns (fld: dark-energy fluid, 0 if absent)


def _cr_coeffs(x, x0, dx, ys):
    """Index and local Catmull-Rom basis for uniform grid x_j = x0 + j dx (clamped to the grid)."""
    n = ys.shape[-1]
    s = (x - x0) / dx
    i = jnp.clip(jnp.floor(s).astype(jnp.int32), 1, n - 3)
    t = s - i
    return i, t


def cr_interp(x, x0, dx, ys):
    """Catmull-Rom cubic interpolation of ys (last axis on the uniform grid), value and d/dx.

    Third-order accurate on a uniform grid; continuous first derivative.  Out of range the end
    cubic is extrapolated (callers keep x inside the grid).
    """
    i, t = _cr_coeffs(x, x0, dx, ys)
    p0 = jnp.take(ys, i - 1, axis=-1)
    p1 = jnp.take(ys, i, axis=-1)
    p2 = jnp.take(ys, i + 1, axis=-1)
    p3 = jnp.take(ys, i + 2, axis=-1)
    m1 = 0.5 * (p2 - p0)
    m2 = 0.5 * (p3 - p1)
    t2 = t * t
    t3 = t2 * t
    h00 = 2 * t3 - 3 * t2 + 1
    h10 = t3 - 2 * t2 + t
    h01 = -2 * t3 + 3 * t2
    h11 = t3 - t2
    val = h00 * p1 + h10 * m1 + h01 * p2 + h11 * m2
    d00 = 6 * t2 - 6 * t
    d10 = 3 * t2 - 4 * t + 1
    d01 = -6 * t2 + 6 * t
    d11 = 3 * t2 - 2 * t
    der = (d00 * p1 + d10 * m1 + d01 * p2 + d11 * m2) / dx
    return val, der


class PertTables(eqx.Module):
    """Tabulated background + thermodynamics on a uniform ln a grid (see module docstring).

    Fields (n = number of grid points):
      lna0, dlna: grid start and spacing; ln_tau (n,): ln of conformal time [Mpc];
      ln_aH (n,): ln(a'/a) [1/Mpc]; ln_a2rho (6, n): ln(a^2 rho_i) for SPECIES (-700 where absent);
      w_fld (n,), ca2_fld (n,): fluid equation of state and adiabatic sound speed squared;
      ln_dkappa (n,): ln kappa' [1/Mpc]; cb2 (n,): baryon sound speed squared;
      tau_fs: conformal time after which photons free-stream (CLASS thermodynamics.c,
      `tau_free_streaming`: first time after recombination with 1/(kappa' tau) > 5) [Mpc];
      tau0: conformal age [Mpc]; K: curvature [1/Mpc^2]; cs2_fld: fluid rest-frame sound speed^2.
    """

    lna0: Any
    dlna: Any
    ln_tau: Any
    ln_aH: Any
    ln_a2rho: Any
    w_fld: Any
    ca2_fld: Any
    ln_dkappa: Any
    cb2: Any
    tau_fs: Any
    tau0: Any
    K: Any
    cs2_fld: Any
    # ncdm (empty arrays without massive species): M = m/T_ncdm,0 (n_ncdm,), CLASS factor_ncdm with the
    # f0 normalisation (n_ncdm,), momentum nodes, Fermi-Dirac weights and dln f0/dln q (n_q,)
    M_ncdm: Any = None
    fac_ncdm: Any = None
    q_ncdm: Any = None
    w_ncdm: Any = None
    dlnf0_ncdm: Any = None
    # ln of a^2 (rho, p, pseudo_p) of each ncdm species from the BACKGROUND quadrature, (3, n_ncdm, n): CLASS
    # uses these (pvecback) for the fluid approximation, the fluid-switch normalisation, rho_m and
    # (rho+p)_tot, and the hierarchy's own momentum sums only for delta rho, (rho+p) theta, shear
    ln_a2ncdm_bg: Any = None
    # a dark-energy fluid with PPF perturbations is present (static: it adds the Gamma_fld variable)
    has_fld: bool = eqx.field(static=True, default=False)

    def at(self, lna):
        """Dict of everything the right-hand side needs at ln a (scalar)."""
        x0, dx = self.lna0, self.dlna
        ln_tau, _ = cr_interp(lna, x0, dx, self.ln_tau)
        ln_aH, dln_aH = cr_interp(lna, x0, dx, self.ln_aH)
        ln_a2rho, _ = cr_interp(lna, x0, dx, self.ln_a2rho)
        ln_dk, dln_dk = cr_interp(lna, x0, dx, self.ln_dkappa)
        cb2, _ = cr_interp(lna, x0, dx, self.cb2)
        w_fld, _ = cr_interp(lna, x0, dx, self.w_fld)
        ca2_fld, _ = cr_interp(lna, x0, dx, self.ca2_fld)
        ncdm_bg = jnp.exp(cr_interp(lna, x0, dx, self.ln_a2ncdm_bg)[0]) if self.M_ncdm.shape[0] else None
        aH = jnp.exp(ln_aH)
        dkappa = jnp.exp(ln_dk)
        return dict(
            tau=jnp.exp(ln_tau),
            a=jnp.exp(lna),
            lna=jnp.asarray(lna, dtype=float),
            aH=aH,
            a2rho=jnp.exp(ln_a2rho),
            dkappa=dkappa,
            ddkappa=aH * dkappa * dln_dk,  # d kappa'/d tau = (a'/a) d kappa'/d ln a
            cb2=cb2,
            w_fld=w_fld,
            ca2_fld=ca2_fld,
            K=self.K,
            cs2_fld=self.cs2_fld,
            M_ncdm=self.M_ncdm,
            fac_ncdm=self.fac_ncdm,
            q_ncdm=self.q_ncdm,
            w_ncdm=self.w_ncdm,
            dlnf0_ncdm=self.dlnf0_ncdm,
            ncdm_bg=ncdm_bg,
        )

    def tau_of_lna(self, lna):
        return jnp.exp(cr_interp(lna, self.lna0, self.dlna, self.ln_tau)[0])

    def lna_of_tau(self, tau):
        """Inverse of tau(ln a) by bisection-free table inversion (linear in ln tau, then one Newton
        step on the cubic, using d ln tau / d ln a = 1/(tau a'/a))."""
        lt = jnp.log(tau)
        grid = self.lna0 + self.dlna * jnp.arange(self.ln_tau.shape[0])
        x = jnp.interp(lt, self.ln_tau, grid)
        for _ in range(2):
            f, df = cr_interp(x, self.lna0, self.dlna, self.ln_tau)
            x = x - (f - lt) / df
        return x


def _first_free_streaming_tau(ln_tau, ln_dkappa, lna):
    """CLASS thermodynamics_calculate_recombination_quantities: tau_free_streaming, the first table time
    after the visibility peak (approximated here by kappa' tau = 1, i.e. the end of tight coupling,
    which precedes the peak) at which tau_c / tau = 1 / (kappa' tau) exceeds 5."""
    kt = jnp.exp(ln_dkappa + ln_tau)
    # radiation_streaming_trigger_tau_c_over_tau = 5 (CLASS precisions.h)
    after = kt < 1.0 / 5.0
    # restrict to after the first crossing of kappa' tau = 1 (recombination): cumulative mask
    passed_rec = jnp.cumsum((kt < 1.0).astype(jnp.int32)) > 0
    ok = after & passed_rec
    idx = jnp.argmax(ok)
    # the crossing itself, linear in ln(kappa' tau) vs ln tau between the two table rows around it: CLASS takes
    # the first row of its own (much finer, dz ~ 0.4) thermodynamics table; a row of this ln a table is
    # ~1.4 Mpc at recombination, which visibly moves the RSA switch in the CMB sources
    lkt = ln_dkappa + ln_tau
    lo, hi = lkt[idx - 1], lkt[idx]
    w = jnp.clip((lo - jnp.log(1.0 / 5.0)) / (lo - hi), 0.0, 1.0)
    return jnp.exp(ln_tau[idx - 1] + w * (ln_tau[idx] - ln_tau[idx - 1]))


# CLASS's thermodynamics table rows below thermo_z_linear = 1e4 (precisions.h; thermodynamics.c,
# thermodynamics_set_z_table): z = reionization_z_start_max + m dz, dz = (thermo_z_linear -
# reionization_z_start_max) / thermo_Nz_lin = 9950 / 20000
_CLASS_Z_ROW0 = 50.0
_CLASS_DZ_ROW = (1e4 - 50.0) / 20000


def _class_free_streaming_z(th):
    """Redshift of CLASS's tau_free_streaming (thermodynamics_calculate_recombination_quantities): the first
    row of CLASS's thermodynamics table after recombination (moving to later times) where tau_c / tau =
    1 / (kappa' tau) >= radiation_streaming_trigger_tau_c_over_tau = 5.  The crossing is found on the boltzax
    table (log-linear between rows) and rounded down to CLASS's row, which the RSA switch time of every mode
    with k > 45 / tau_fs follows (one row is ~0.15 Mpc; the CMB sources jump there)."""
    z = th.z  # increasing
    lkt = jnp.log(th.kappa_dot * th.tau)
    after_rec = z < th.z_rec
    ok = after_rec & (lkt < jnp.log(1.0 / 5.0))
    i = z.shape[0] - 1 - jnp.argmax(ok[::-1])  # highest z (earliest time) after recombination past the trigger
    lo, hi = lkt[i], lkt[i + 1]  # rows i (past the trigger) and i + 1 (before it)
    w = (jnp.log(1.0 / 5.0) - lo) / (hi - lo)
    z_cross = z[i] + w * (z[i + 1] - z[i])
    z_cross = jax.lax.stop_gradient(z_cross)
    return _CLASS_Z_ROW0 + jnp.floor((z_cross - _CLASS_Z_ROW0) / _CLASS_DZ_ROW) * _CLASS_DZ_ROW


def tables_from_arrays(lna, tau, aH, a2rho: dict, dkappa, cb2, K=0.0, w_fld=None, ca2_fld=None,
                       cs2_fld=1.0, ncdm=None, tau_fs=None):
    """Build `PertTables` from arrays on a uniform, increasing ln a grid.

    lna (n,), tau (n,) [Mpc], aH (n,) = a'/a [1/Mpc], a2rho: dict species -> a^2 rho [1/Mpc^2],
    dkappa (n,) [1/Mpc], cb2 (n,); ncdm: None or dict(M, fac, q, w, dlnf0[, a2bg]) (see `PertTables`;
    a2bg = a^2 (rho, p, pseudo_p) (3, n_ncdm, n) from the background, by default the same moments with
    the perturbation nodes); tau_fs: photon free-streaming time [Mpc], by default from these arrays.
    """
    lna = jnp.asarray(lna)
    n = lna.shape[0]
    cols = []
    for s in SPECIES:
        v = a2rho.get(s)
        cols.append(jnp.full((n,), -700.0) if v is None else jnp.log(jnp.maximum(v, 1e-300)))
    ln_tau = jnp.log(tau)
    ln_dk = jnp.log(dkappa)
    return PertTables(
        lna0=lna[0],
        dlna=lna[1] - lna[0],
        ln_tau=ln_tau,
        ln_aH=jnp.log(aH),
        ln_a2rho=jnp.stack(cols),
        w_fld=jnp.full((n,), -1.0) if w_fld is None else jnp.asarray(w_fld),
        ca2_fld=jnp.full((n,), -1.0) if ca2_fld is None else jnp.asarray(ca2_fld),
        ln_dkappa=ln_dk,
        cb2=jnp.asarray(cb2),
        tau_fs=_first_free_streaming_tau(ln_tau, ln_dk, lna) if tau_fs is None else tau_fs,
        tau0=tau[-1],
        K=jnp.asarray(K, dtype=float),
        cs2_fld=jnp.asarray(cs2_fld, dtype=float),
        **_ncdm_fields(ncdm, lna),
        has_fld=w_fld is not None and "fld" in a2rho,
    )


def _ncdm_fields(ncdm, lna):
    if ncdm is None:
        e = jnp.zeros((0,))
        return dict(M_ncdm=e, fac_ncdm=e, q_ncdm=e, w_ncdm=e, dlnf0_ncdm=e,
                    ln_a2ncdm_bg=jnp.zeros((3, 0, lna.shape[0])))
    a2bg = ncdm.get("a2bg")
    if a2bg is None:
        a2 = jnp.exp(2.0 * lna)[:, None]
        a2bg = jnp.stack([a2 * m for m in N.ncdm_moments(jnp.exp(lna), jnp.asarray(ncdm["M"]), jnp.asarray(ncdm["fac"]),
                                                            jnp.asarray(ncdm["q"]), jnp.asarray(ncdm["w"]))])
        a2bg = jnp.swapaxes(a2bg, 1, 2)
    return dict(M_ncdm=jnp.asarray(ncdm["M"]), fac_ncdm=jnp.asarray(ncdm["fac"]), q_ncdm=jnp.asarray(ncdm["q"]),
                w_ncdm=jnp.asarray(ncdm["w"]), dlnf0_ncdm=jnp.asarray(ncdm["dlnf0"]),
                ln_a2ncdm_bg=jnp.log(jnp.maximum(a2bg, 1e-300)))


def ncdm_quadrature(n_q: int, tol: float = 1e-3):
    """Momentum nodes q, Fermi-Dirac weights w (sum w g(q) ~ int g(q) / (e^q + 1) dq) and
    dln f0/dln q = -q / (1 + e^-q) for the perturbation hierarchy (CLASS background_ncdm_init computes
    the same dlnf0_dlnq from f0 by finite differences).  n_q = 0: CLASS's own choice of the number of
    Gauss-Laguerre nodes for tolerance ``tol`` (`ncdm.class_perturbation_n_q`)."""
    q, w = N.fd_quadrature(n_q if n_q > 0 else N.class_perturbation_n_q(tol))
    return q, w, -q / (1.0 + np.exp(-q))


def tables_from_boltzax(bg, th, prec, n_q_ncdm: int | None = None, cs2_fld=1.0):
    """`PertTables` from a boltzax `Background` and `Thermo` on the uniform ln a grid of ``prec``
    (`PerturbationPrecision`: table_lna_min, table_n).

    kappa' and c_b^2 come from the thermodynamics table (z <= 5e6), extrapolated to earlier times as
    fully ionised plasma (kappa' ~ a^-2) with T_b = T_gamma (c_b^2 ~ 1/a), CLASS's own early-time limit
    (thermodynamics.c, thermo_z_initial: everything is ionised and coupled there).  ``n_q_ncdm``:
    momentum nodes of the ncdm hierarchy (None: ``prec.n_q_ncdm``; 0: CLASS's rule).  ``cs2_fld``: the
    dark-energy fluid's rest-frame sound speed squared (CLASS cs2_fld), used by its PPF perturbations."""
    lna = jnp.linspace(prec.table_lna_min, LNA_TABLE_MAX, prec.table_n)
    a = jnp.exp(lna)
    z = 1.0 / a - 1.0
    rho = bg.model.densities(a)
    a2 = a * a
    a2rho = {s: a2 * rho[s] for s in ("g", "b", "cdm", "ur", "lambda")}
    if bg.model.has_fld:
        a2rho["fld"] = a2 * rho["fld"]
    # thermodynamics on ln a: its table is increasing in z
    lna_th = -jnp.log1p(th.z[::-1])
    ln_dk_th = jnp.log(th.kappa_dot[::-1])
    cb2_th = th.c_b2[::-1]
    lo = lna_th[0]
    inside = lna >= lo
    lnc = jnp.clip(lna, lo, lna_th[-1])
    ln_dk = interpax.interp1d(lnc, lna_th, ln_dk_th, method="cubic2")
    cb2 = interpax.interp1d(lnc, lna_th, cb2_th, method="cubic2")
    ln_dk = jnp.where(inside, ln_dk, ln_dk_th[0] - 2.0 * (lna - lo))
    cb2 = jnp.where(inside, cb2, cb2_th[0] * jnp.exp(-(lna - lo)))
    ncdm = None
    if bg.model.M_ncdm.shape[0]:
        q, w, dlnf0 = ncdm_quadrature(prec.n_q_ncdm if n_q_ncdm is None else n_q_ncdm, prec.tol_ncdm)
        a2bg = jnp.stack([rho["ncdm"], rho["p_ncdm"], rho["pseudo_p_ncdm"]]) * a2[None, :, None]
        ncdm = dict(M=bg.model.M_ncdm, fac=bg.model.factor_ncdm, q=q, w=w, dlnf0=dlnf0,
                    a2bg=jnp.swapaxes(a2bg, 1, 2))
    w_fld = rho["w_fld"] if bg.model.has_fld else None
    ca2 = None
    if bg.model.has_fld:
        # adiabatic sound speed c_a^2 = w - w'/(3 (1+w) a'/a) with w' = -a'/a a wa (CLASS perturbations_derivs)
        ca2 = w_fld + a * bg.model.wa / (3.0 * (1.0 + w_fld))
    tau_fs = bg.tau_of_z(_class_free_streaming_z(th))
    return tables_from_arrays(lna, bg.tau_of_z(z), a * rho["H"], a2rho, jnp.exp(ln_dk), cb2, K=bg.K,
                              w_fld=w_fld, ca2_fld=ca2, cs2_fld=cs2_fld, ncdm=ncdm, tau_fs=tau_fs)
