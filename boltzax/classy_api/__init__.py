"""``boltzax.Class``: a drop-in for classy 3.4.1's ``Class`` (``from boltzax import Class``).

A thin host-side wrapper over the pure `compute` pipeline. Names, units and conventions follow classy
(``python/classy.pyx``): H in 1/Mpc, distances in Mpc, age in Gyr, k in 1/Mpc, P(k) in Mpc^3, raw C_l
dimensionless. Scalar properties (``h``, ``Omega_m``, ``age`` ...) are `CallableFloat`: usable both as
attributes and as calls, as in classy 3.4.

One file per family of classy methods: `lifecycle` (set/compute/empty), `background` (H, distances,
densities, tables, units), `derived` (get_current_derived_parameters), `power` (P(k), sigma, growth f),
`power_arrays` (P(k) on arrays, tilt, D(k, z), primordial), `transfer` (get_transfer), `perturbations`,
`cmb` (C_l, sources), `nonlinear` (HaloFit), `distortions`, `baselines` (set_baseline); CLASS-PT's methods
in `boltzax.classy_pt`.

Outputs that boltzax does not compute yet raise `NotImplementedOutputError` (a `CosmoSevereError`),
never wrong numbers.
"""

from __future__ import annotations

from ..classy_pt import PTMixin
from ._base import IMPLEMENTED_OUTPUTS, CallableFloat
from .background import BackgroundMixin
from .cmb import CMBMixin
from .derived import DerivedMixin
from .distortions import DistortionsMixin
from .lifecycle import LifecycleMixin
from .nonlinear import NonlinearMixin
from .perturbations import PerturbationsMixin
from .power import PowerMixin
from .power_arrays import PowerArraysMixin
from .transfer import TransferMixin


class Class(LifecycleMixin, BackgroundMixin, DerivedMixin, PowerMixin, PowerArraysMixin, NonlinearMixin,
            TransferMixin, PerturbationsMixin, CMBMixin, DistortionsMixin, PTMixin):
    """classy-compatible front door. ``set`` parameters (CLASS names), ``compute()``, then query.
    With ``'non linear': 'PT'`` also CLASS-PT's methods (`classy_pt.PTMixin`)."""


__all__ = ["Class", "CallableFloat", "IMPLEMENTED_OUTPUTS"]
