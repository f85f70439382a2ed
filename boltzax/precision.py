"""Static precision settings (array shapes, tolerances), in the spirit of CLASS's ``precisions.h``.

A `Precision` is hashable and passed as a static argument to jitted functions: changing it recompiles.
Named presets: ``"fast"`` (logic tests, ~1e-3), ``"default"`` (the 1e-4 background / 1e-3 spectra
targets), ``"high"`` (convergence checks). One documented field per knob.
"""

from __future__ import annotations

import dataclasses

from .perturbations import PerturbationPrecision
from .perturbations.sampling import KSamplingRule


@dataclasses.dataclass(frozen=True)
class BackgroundPrecision:
    n_loga: int = 2000  # points of the uniform ln(a) table from a_ini to a=1 (growth RK4 step, Hermite tables)
    a_ini: float = 1e-14  # first scale factor of the table (CLASS a_ini_over_a_today_default)
    n_gl: int = 4  # Gauss-Legendre nodes per table interval for the tau, t, r_s integrals
    # ncdm momentum nodes for rho, p, pseudo_p (ncdm.fd_quadrature): a multiple of 8 gives the composite
    # Gauss-Legendre rule (64: < 2e-9 relative; 32: ~1e-6), otherwise Gauss-Laguerre
    n_q_bg: int = 64


@dataclasses.dataclass(frozen=True)
class ThermoPrecision:
    z_ini: float = 1e4  # start of the recombination integration (x_e from Saha before)
    n_z: int = 2000  # points of the thermodynamics table in z (log-spaced in 1+z at high z)
    rtol: float = 1e-8  # relative tolerance of the recombination ODE solve
    atol: float = 1e-11  # absolute tolerance of the recombination ODE solve
    # RECFAST (thermo/recfast.py): fixed-grid Radau IIA on rec_z_grid(z_ini, n_z)
    recfast_newton_iterations: int = 4  # Newton iterations per implicit step (then one IFT correction)
    recfast_switch_width: float = 1e-5  # logistic width in x_H, x_He of RECFAST's x > 0.995 triggers
    n_z_high: int = 40  # extra log-spaced table points from z_ini to z_max_table (Saha, fully coupled T_b)
    z_max_table: float = 5e6  # top of the thermodynamics table (CLASS thermo_z_initial)


@dataclasses.dataclass(frozen=True)
class SourcePrecision:
    """CMB source functions (perturbations/sources.py, sampling.py; CLASS precisions.h names in comments)."""

    l_max_scalars: int = 2500  # l_max the k sampling serves (CLASS l_max_scalars; k_max = 1.8 l_max / tau0)
    n_k: int = 0  # static number of k nodes; 0: length of CLASS's list at the fiducial point (530 at 2500)
    k_rule: KSamplingRule = KSamplingRule()  # CLASS's k-list parameters (k_step_sub, k_step_super, ...)
    # static length of the source time list: CLASS's rule gives 574-611 times over tests/reference (sampling.py),
    # front-padded to this; a cosmology needing more gets NaN sources and CosmoComputationError
    n_tau: int = 640
    start_sources_at_tau_c_over_tau_h: float = 0.008  # CLASS start_sources_at_tau_c_over_tau_h
    sampling_stepsize: float = 0.1  # CLASS perturbations_sampling_stepsize
    boost_above_age_fraction: float = 1.0  # CLASS perturbations_sampling_boost_above_age_fraction
    sub_steps: int = 2  # ESDIRK steps between consecutive source times (per occupied phase)
    sub_steps_k_min: float = 0.0  # [1/Mpc] modes with k below this take ONE step between source times
    pre_steps: int = 600  # ESDIRK steps uniform in ln a from the earliest mode start to the first source time
    # modes integrated in this many groups of consecutive k, one after the other (solver.solve_at_output_times:
    # a group occupies fewer approximation phases at a time than the whole batch, and its steps follow its
    # own largest k: pre_phase, node_alpha; CHANGELOG session 10 for the measured times)
    k_groups: int = 16
    # ESDIRK tableau of the source solve (linear_esdirk._tableau: diffrax's Kvaerno3/4/5)
    tableau: str = "Kvaerno5"
    # pre-output steps per group (solver.solve_at_output_times): the group's largest k advances its acoustic
    # phase k c_s tau by at most this [rad] per step (0: every group the common step of pre_steps), steps at
    # most pre_dlna_max in ln a
    pre_phase: float = 0.25
    pre_dlna_max: float = 0.1
    # steps only to some source times, the others interpolated (solver.step_nodes): at most node_alpha / rate
    # between steps (0: a step to every source time), with the acoustic rate of k = min(group's k_max, node_k_cut)
    node_alpha: float = 0.5
    node_k_cut: float = 0.5


@dataclasses.dataclass(frozen=True)
class Precision:
    name: str = "default"
    background: BackgroundPrecision = BackgroundPrecision()
    thermo: ThermoPrecision = ThermoPrecision()
    perturbations: PerturbationPrecision = PerturbationPrecision()
    pk_n_k: int = 200  # wavenumbers solved for P(k) (fourier.k_sampling: BAO-aware density in ln k)
    pk_k_min: float = 1e-4  # [1/Mpc] smallest solved wavenumber
    sources: SourcePrecision = SourcePrecision()  # CMB source functions (sampling, steps)
    transfer: "TransferPrecision | None" = None  # CMB line of sight + harmonic (None: TransferPrecision())
    lensing: "LensingPrecision | None" = None  # CMB lensing (None: LensingPrecision(), CLASS's defaults)
    tensors: "object | None" = None  # tensor modes (perturbations.tensors.TensorPrecision; None: CLASS's defaults)


PRESETS: dict[str, Precision] = {
    "fast": Precision(
        name="fast",
        background=BackgroundPrecision(n_loga=600, n_q_bg=32),
        thermo=ThermoPrecision(n_z=600, rtol=1e-6, atol=1e-9),
        perturbations=PerturbationPrecision(fixed_steps=(60, 2, 24, 30), l_max_g=8, l_max_pol=6, l_max_ur=8,
                                            l_max_ncdm=8, n_q_ncdm=5, table_n=1500),
        pk_n_k=60,
        sources=SourcePrecision(sub_steps=1, pre_steps=300),
    ),
    "default": Precision(),
    "high": Precision(
        name="high",
        background=BackgroundPrecision(n_loga=6000, n_gl=6, n_q_bg=96),
        thermo=ThermoPrecision(n_z=6000, rtol=1e-10, atol=1e-13),
        perturbations=PerturbationPrecision(fixed_steps=(400, 8, 160, 240), n_q_ncdm=12, table_n=6000),
        pk_n_k=300,
        sources=SourcePrecision(sub_steps=3, pre_steps=1000),
    ),
}


def get_precision(p: "str | Precision | None" = None) -> Precision:
    """A preset by name (``fast``/``default``/``high``), or the given Precision unchanged."""
    if p is None:
        return PRESETS["default"]
    if isinstance(p, Precision):
        return p
    try:
        return PRESETS[p]
    except KeyError:
        from .errors import CosmoSevereError

        raise CosmoSevereError(f"Unknown precision preset '{p}'; choose from {sorted(PRESETS)}") from None


@dataclasses.dataclass(frozen=True)
class TransferPrecision:
    """Line-of-sight stage (CLASS ``transfer.c``; defaults from CLASS ``precisions.h``) and the static grid
    sizes that make it jittable. Used by ``boltzax.transfer`` and ``boltzax.harmonic``."""

    l_logstep: float = 1.12  # CLASS l_logstep: l-list grows by this factor ...
    l_linstep: int = 40  # CLASS l_linstep: ... until the step reaches this, then linear steps
    q_linstep: float = 0.45  # CLASS q_linstep: asymptotic q step in units of 2 pi/(tau0 - tau_rec)
    q_logstep_spline: float = 170.0  # CLASS q_logstep_spline: small-q log step (q_linstep/q_logstep_spline [1/Mpc])
    k_max_tau0_over_l_max: float = 1.8  # CLASS k_max_tau0_over_l_max: q_max = first source k >= this l_max/tau0
    hyper_sampling_flat: float = 8.0  # CLASS hyper_sampling_flat: Bessel table points per 2 pi in x
    hyper_x_min: float = 1e-5  # CLASS hyper_x_min: first x of the Bessel table
    hyper_phi_min_abs: float = 1e-10  # CLASS hyper_phi_min_abs: j_l set to 0 below the x where |j_l| = this
    # curved space (boltzax/hyperspherical.py, transfer_curved.py)
    hyper_sampling_curved_low_nu: float = 7.0  # CLASS: Phi^l_nu table points per period 2 pi/nu, nu <= step below
    hyper_sampling_curved_high_nu: float = 3.0  # CLASS: the same for nu > hyper_nu_sampling_step
    hyper_nu_sampling_step: float = 1000.0  # CLASS hyper_nu_sampling_step
    hyper_flat_approximation_nu: float = 4000.0  # CLASS: above this nu, Phi^l_nu from j_l with rescaled argument
    q_logstep_open: float = 6.0  # CLASS q_logstep_open: curved q list uses q_logstep_spline / ar^this
    q_logstep_trapzd: float = 20.0  # CLASS q_logstep_trapzd: closed-space small-q log step (integer nu)
    q_numstep_transition: float = 250.0  # CLASS q_numstep_transition: closed case, steps to blend into spline steps
    delta_k_t0: float = 0.15  # CLASS transfer_neglect_delta_k_S_t0 [1/Mpc]: T0 transfer 0 for q > l/r_a + this
    delta_k_t1: float = 0.04  # CLASS transfer_neglect_delta_k_S_t1 [1/Mpc]
    delta_k_t2: float = 0.15  # CLASS transfer_neglect_delta_k_S_t2 [1/Mpc]
    delta_k_e: float = 0.11  # CLASS transfer_neglect_delta_k_S_e [1/Mpc]
    neglect_late_source: float = 400.0  # CLASS transfer_neglect_late_source: above this l, T1/T2/E use tau < tau_cut
    l_switch_limber: float = 30.0  # CLASS l_switch_limber: lensing potential by Limber above this l
    q_logstep_limber: float = 1.025  # CLASS q_logstep_limber: ratio of the full-Limber q grid (phi-phi, l > 30)
    cmb_lensing_sampling_factor: float = 1.0  # CLASS: lensing source step (tau0-tau)/min(l_switch_limber, l_max) x this
    cmb_lensing_sampling_fraction: float = 0.001  # CLASS: lensing source sampled until tau = (1 - this) tau0
    # static sizes (jit shapes); grids are CLASS's with these many points (transfer.grid_sizes)
    x_max_over_l_max: float = 2.0  # Bessel table up to x = this l_max (must exceed q_max tau0 ~ 1.8 l_max)
    # T/E line of sight in float32 (Bessel cubics, source products, tau sums; x and the cell fraction in float64):
    # 2x faster; C_l move by <= 1.3e-7 against float64 (fid, nur reference sources, 2 <= l <= 2500)
    los_float32: bool = True
    # source times beyond the sizing cosmologies' tau <= tau_cut count (static bound; the count includes the front
    # padding of the source time list, so it varies with CLASS's number of late times: +-10 over the box)
    n_early_margin: int = 16
    q_window_margin: float = 1.05  # line-of-sight q window per l: this x the widest window of the sizing cosmology


@dataclasses.dataclass(frozen=True)
class LensingPrecision:
    """Knobs of the CMB lensing step (``boltzax.lensing``; CLASS ``precisions.h``, lensing section).

    Defaults are CLASS v3.4.1's: the fast method, C_gl,2 to second order, C_gl (monopole) dropped.
    """

    # CLASS accurate_lensing. False: Riemann sum on beta in (0, pi / non_accurate_boundary] of the lensed
    # minus unlensed correlation functions (the unlensed C_l are added back). True: Gauss-Legendre
    # quadrature on [-1, 1] of the full lensed correlation functions.
    accurate: bool = False
    # CLASS delta_l_max: the unlensed C_l are needed up to l_max + delta_l_max. -1: CLASS's rule
    # (input.c) int(0.33 l_max) in fast mode, int(0.5 l_max) in accurate mode.
    delta_l_max: int = -1
    # CLASS num_mu_minus_lmax (accurate mode): num_mu = l_max + delta_l_max + this, made even; one of the
    # num_mu points is mu = 1 (for sigma^2), the other num_mu - 1 are Gauss-Legendre nodes.
    num_mu_minus_lmax: int = 0
    # CLASS non_accurate_lensing_boundary (fast mode): beta in (0, pi / this], num_mu = 2 (l_max +
    # delta_l_max) // this (integer division), of which num_mu - 1 equal steps in beta plus mu = 1.
    non_accurate_boundary: int = 16
    # CLASS lensing_C0_order (0 or 1): order in C_gl,0, the monopole of the deflection correlation.
    c0_order: int = 0
    # CLASS lensing_C2_order (0 .. 4): order in C_gl,2 (the quadrupole); 3 and 4 use Lewis & Challinor
    # 2006 (astro-ph/0601594) eqs. 9.12, 9.16-9.18.
    c2_order: int = 2
    # Not in CLASS (0 = CLASS): C_l^phiphi is used up to l_pp = l_max + delta_l_max + pp_extra_l in C_gl,
    # C_gl,2 (sigma^2), the CMB C_l up to l_max + delta_l_max; num_mu follows l_pp (the grid must resolve
    # sigma^2). The deflection variance converges slowly in L: at l <= 2000 the cut of C_pp at 3325 moves
    # lensed TT by 2e-4, EE 2.5e-4, BB 8e-3 (accurate method, against C_pp and CMB to 5500), the cut of
    # the CMB C_l only by 4e-5, 2e-5, 2e-3 (tools/lensing_margin_study.py). Cheap: only C_gl grows.
    pp_extra_l: int = 0
    # lax.scan unroll factor of the recurrences over l (speed only; results identical)
    unroll: int = 2
