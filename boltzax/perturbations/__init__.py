"""Linear scalar perturbations in synchronous gauge (see equations.py, initial.py, solver.py)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class PerturbationPrecision:
    l_max_g: int = 12  # photon temperature hierarchy (CLASS precisions.h l_max_g)
    l_max_pol: int = 10  # photon polarisation hierarchy (CLASS l_max_pol_g)
    l_max_ur: int = 17  # massless neutrino hierarchy (CLASS l_max_ur)
    k_tau_ini: float = 0.01  # start each mode at k tau = this (super-horizon; CLASS uses 0.07 and TCA)
    tau_ini_max: float = 1.0  # [Mpc] latest start (radiation era, before any k-independent physics)
    rsa_k_tau: float = 45.0  # CLASS radiation_streaming_trigger_tau_over_tau_k
    ufa_k_tau: float = 30.0  # CLASS ur_fluid_trigger_tau_over_tau_k
    ur_fluid: bool = True  # use CLASS's ur fluid approximation (False: full hierarchy, ~0.3% more accurate at k=1)
    rtol: float = 1e-5  # relative tolerance of the adaptive stiff solver
    atol: float = 1e-10  # absolute tolerance (the state is normalised to eta_ini = 1)
    max_steps: int = 20000
    # fixed ESDIRK steps uniform in ln a in each phase (solver.py): full hierarchies, ur fluid until the
    # ncdm fluid switch, both fluids until the RSA, RSA; () selects the adaptive diffrax Kvaerno5 reference
    # solver (rtol, atol, max_steps)
    fixed_steps: tuple = (200, 4, 80, 120)
    ncdm_fluid: bool = True  # CLASS's ncdm fluid approximation (ncdmfa_CLASS) after k tau = ncdmfa_k_tau
    ncdmfa_k_tau: float = 31.0  # CLASS ncdm_fluid_trigger_tau_over_tau_k
    l_max_ncdm: int = 17  # ncdm hierarchy (CLASS precisions.h l_max_ncdm)
    # ncdm momentum nodes of the perturbation hierarchy (Gauss-Laguerre, ncdm.fd_quadrature); 0 = CLASS's
    # automatic choice for tolerance tol_ncdm (ncdm.class_perturbation_n_q: 5 nodes at CLASS's default 1e-3).
    # CLASS's 5-node rule shifts P(k) by up to -1e-3 at k > 1/Mpc against a converged rule (>= 8 nodes),
    # mass-independently (the relativistic-era ncdm); the default reproduces CLASS, 'high' converges.
    n_q_ncdm: int = 0
    tol_ncdm: float = 1e-3  # CLASS precisions.h tol_ncdm_synchronous
    table_lna_min: float = -23.0  # first ln a of the background/thermo table the equations read
    table_n: int = 3000  # points of that table (uniform in ln a, Catmull-Rom interpolation)


from .tables import PertTables, tables_from_arrays, tables_from_boltzax  # noqa: E402
from .solver import matter_transfer, solve_mode  # noqa: E402

__all__ = ["PerturbationPrecision", "PertTables", "tables_from_arrays", "tables_from_boltzax", "solve_mode",
           "matter_transfer"]
