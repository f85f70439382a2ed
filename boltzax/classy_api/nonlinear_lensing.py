"""The nonlinear lensing potential behind `boltzax.Class` (``non_linear = halofit`` or ``hmcode`` with ``lCl``
or ``lensing = yes``), as CLASS 3.4.1.

What CLASS does:

* fourier.c, fourier_init: with a lensing-potential C_l requested, ``index_tau_desired_nl = 0``: walking the
  source time sampling ``pfo->tau = ppt->tau_sampling`` backwards from today, at each node it computes the linear
  P_m(k) from the delta_m source at that node (fourier_pk_linear), HaloFit's or HMcode's P_nl on the scalar
  perturbation wavenumbers, and stores ``nl_corr_density[index_pk_m][tau, k] = sqrt(P_nl / P_lin)``.  At the first
  node where the method cannot find its nonlinear scale inside the k range (``nl_corr_not_computable_at_this_k``:
  HaloFit sigma(R_min) < 1, HMcode k_nl beyond the last node) it stores 1, and 1 at every earlier node.
* transfer.c, transfer_perturbation_copy_sources_and_nl_corrections: for scalar modes the copied sources
  delta_m, delta_cb, theta_m, theta_cb, phi, phi', phi + psi and psi are multiplied by that factor (delta_cb and
  theta_cb by the P_cb one) at every (k, tau) node; the temperature and polarisation sources are not.  Of these,
  boltzax's CMB uses phi + psi only (the lensing potential: C_l^phiphi, and through it the lensed C_l).
* perturbations.c, perturbations_get_k_list: with nonlinear corrections the scalar k list continues beyond the
  CMB k_max to max(P_k_max, nonlinear_min_k_max = 5 /Mpc); the CMB transfer still stops at the CMB k_max.

Here: the factor is computed on boltzax's source nodes (`perturbations.sources.default_k` / ``default_tau``, CLASS's
sampling) at the exact redshift of every node, from a linear P(k, z) table solved to CLASS's k_last >= 5 /Mpc
(`halofit.class_k_range`) on fixed z nodes (``Z_NODES``, cubic in z between them).  HaloFit's P_nl at the source
k is the closed form at that k (halofit_pk, as CLASS at its nodes); HMcode's is `hmcode.hmcode_pk` at the source k
(its tables from CLASS's pk-run k nodes).  The factor is 1 at the nodes before the first non-computable one,
counted from today, as CLASS.

Differences left: CLASS's sigma integrals run over its CMB+pk scalar k list (denser below the CMB k_max) where
boltzax uses the pk-run list (`class_k_grid`); CLASS's k spline of the sources (transfer_interpolate_sources)
continues past the CMB k_max to 5 /Mpc.  Nodes beyond ``Z_NODES[-1]`` = 10, and beyond the latest ``N_Z_PAD`` nodes
with z <= 10, get 1 (CLASS: computed while computable; the size of that difference was not measured).
The source k list itself continues to max(P_k_max, 5 /Mpc) (`nonlinear_source_precision`).
"""

from __future__ import annotations

import numpy as np

# fixed z nodes of the linear table behind the corrections (one compiled linear_power for every cosmology):
# 0, then uniform in ln(1 + z) to z = 10
Z_NODES = tuple([0.0] + [float(np.expm1(x)) for x in np.linspace(np.log1p(0.05), np.log1p(10.0), 47)])
# static number of source times at which the stage runs (padded with z = 0)
N_Z_PAD = 160


def nonlinear_source_precision(precision, request):
    """``precision`` with the source k list continued to max(P_k_max (with mPk), nonlinear_min_k_max = 5 /Mpc
    [hmcode_min_k_max]) as CLASS's with a nonlinear method (perturbations.c, perturbations_get_k_list), so that
    the full-Limber C_l^phiphi integrates the corrected source that far (transfer.c: k_max =
    ppt->k[k_size - 1]).  boltzax's list ends at that k itself; CLASS's at its first log step (10 per decade)
    beyond it (5-6.3 /Mpc)."""
    import dataclasses

    from ..nonlinear.halofit import HalofitPrecision

    k_nl = HalofitPrecision(**{f: v for st, f, v in request.class_precision if st == "halofit"}).min_k_max
    if request.non_linear == "hmcode":
        k_nl = max(k_nl, request.hmcode.min_k_max)
    if "mPk" in request.output:
        k_nl = max(k_nl, float(request.P_k_max))
    sp = precision.sources
    rule = dataclasses.replace(sp.k_rule, k_max_nonlinear=float(k_nl))
    return dataclasses.replace(precision, sources=dataclasses.replace(sp, k_rule=rule))


def _source_grid(res, precision, l_unl: int):
    """CLASS's source (k, tau) sampling for l_unl as the CMB pipeline uses it (numpy)."""
    import jax

    from ..cmb import source_precision_for
    from ..perturbations.sources import default_k, default_tau

    sp = source_precision_for(precision, l_unl).sources
    k = np.asarray(jax.jit(default_k, static_argnums=1)(res, sp))
    tau = np.asarray(jax.jit(default_tau, static_argnums=1)(res, sp))
    return k, tau


def linear_table(res, precision, request):
    """Linear P(k, z) at Z_NODES to CLASS's k_last beyond max(P_k_max, nonlinear_min_k_max) [/ hmcode_min_k_max]."""
    import jax

    from ..nonlinear.halofit import HalofitPrecision, class_k_range
    from ..pipeline import linear_power

    k_max = float(request.P_k_max) if "mPk" in request.output else 0.0
    if request.non_linear == "hmcode":
        k_max = max(k_max, request.hmcode.min_k_max)
    _, k_last = jax.jit(class_k_range, static_argnums=2)(res, k_max, HalofitPrecision())
    return linear_power(res, precision, Z_NODES, float(k_last) * (1.0 + 1e-12)), k_max


def nl_corr_phi_plus_psi(res, precision, request, l_unl: int) -> np.ndarray:
    """sqrt(P_nl / P_lin) of total matter on the CMB source nodes, shape (n_k, n_tau) (module docstring)."""
    import jax.numpy as jnp

    from ..nonlinear.halofit import linear_at

    k_src, tau = _source_grid(res, precision, l_unl)
    z_src = np.asarray(res.background.z_of_tau(jnp.asarray(tau)))
    lp, k_max = linear_table(res, precision, request)
    late = np.nonzero(z_src <= Z_NODES[-1])[0]  # increasing tau: today last
    if len(late) > N_Z_PAD:  # keep the latest N_Z_PAD nodes
        late = late[-N_Z_PAD:]
    z = np.zeros(N_Z_PAD)
    z[: len(late)] = np.clip(z_src[late], 0.0, None)
    p_lin = np.asarray(linear_at(lp, k_src, z, cb=False))  # (n_k, N_Z_PAD)
    if request.non_linear == "halofit":
        p_nl, ok = _halofit(res, lp, request, k_src, z, p_lin, k_max)
    else:
        p_nl, ok = _hmcode(res, lp, request, z, k_src, p_lin, k_max)
    ratio = np.sqrt(p_nl / p_lin)
    ok = ok[: len(late)]
    # CLASS: from today backwards; 1 at the first node that is not computable and before it
    n_good = len(late) if np.all(ok) else len(late) - 1 - int(np.max(np.nonzero(~ok)[0]))
    corr = np.ones((len(k_src), len(tau)))
    if n_good:
        cols = late[len(late) - n_good:]
        corr[:, cols] = ratio[:, len(late) - n_good: len(late)]
    return corr


def _halofit(res, lp, request, k, z, p_lin, k_max):
    from ..nonlinear.class_k_grid import n_points_max
    from ..nonlinear.halofit import HalofitPrecision
    from .nonlinear import _jitted

    prec = HalofitPrecision(**{f: v for stage, f, v in request.class_precision if stage == "halofit"})
    n_max = n_points_max(max(k_max, prec.min_k_max), prec.k_per_decade, g=prec.k_grid)
    states, power = _jitted(prec, n_max, False)
    st = states(res, lp, z, k_max)
    return np.asarray(power(st, k, p_lin)), np.asarray(st.computable)


def _hmcode(res, lp, request, z, k, p_lin, k_max):
    from ..nonlinear.halofit import background_at, linear_at
    from ..nonlinear.hmcode import HMcodePrecision, hmcode_pk
    from .nonlinear_hmcode import hmcode_cosmo, k_nodes

    opts = request.hmcode
    nodes = k_nodes(res, max(k_max, opts.min_k_max))
    lm = np.log(np.asarray(linear_at(lp, nodes, z, cb=False))).T
    lcb = np.log(np.asarray(linear_at(lp, nodes, z, cb=True))).T if int(res.params.n_ncdm) > 0 else lm
    om_z, _, _ = background_at(res.background, z)
    prec = HMcodePrecision(nk_wiggle=opts.nk_wiggle, z_infinity=opts.z_infinity)
    p, st = hmcode_pk(hmcode_cosmo(res, opts), nodes, lm, lcb, z, om_z, k=k, pk_lin=p_lin, version=opts.version,
                      cb=False, prec=prec)
    return np.asarray(p), np.asarray(st.computable)
