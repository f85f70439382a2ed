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


from .tables import PertTables, tables_from_arrays  # noqa: E402
from .solver import solve_mode  # noqa: E402

__all__ = ["PerturbationPrecision", "PertTables", "tables_from_arrays", "solve_mode"]
