"""boltzax: a differentiable Einstein-Boltzmann solver in JAX, with CLASS's conventions.

Two front doors:

* ``boltzax.Class``: a drop-in for classy's ``Class`` (``set``/``compute``/accessors).
* ``boltzax.compute(params, precision)``: a pure function of the `CosmoParams` pytree that works under
  ``jit``, ``grad``, ``jacfwd`` and ``vmap``; ``boltzax.cmb_cls(res, precision, l_max, lensing)`` then gives the
  CMB C_l (classy's keys), with the same transformations.  It cannot raise inside ``jit``/``vmap``: failures
  are reported in ``Results.status`` / ``LinearPk.status`` (bit flags, ``boltzax.status.describe_status``).

Importing boltzax turns on JAX 64-bit mode and a persistent compilation cache (see ``_config``).
"""

from . import _config  # noqa: F401  (x64 + compilation cache, before anything traces)
from . import status  # noqa: F401  (status flags of the native API: boltzax.status.describe_status)
from .classy_api import Class
from .errors import CosmoComputationError, CosmoError, CosmoSevereError, NotImplementedOutputError
from .cmb import cmb_cls
from .pipeline import Results, compute
from .params import CosmoParams, Request, default_params, from_class_dict, planck18
from .precision import Precision, get_precision

__version__ = "0.1.0"


def get_cobaya_class():
    """cobaya's hook for external packages: ``theory: {boltzax: ...}`` in a cobaya input is cobaya's classy
    theory running on boltzax (``boltzax.cobaya.BoltzaxClassy``; needs the ``cobaya`` extra)."""
    from .cobaya import BoltzaxClassy

    return BoltzaxClassy


__all__ = [
    "Class",
    "Results",
    "cmb_cls",
    "compute",
    "NotImplementedOutputError",
    "CosmoComputationError",
    "CosmoError",
    "CosmoParams",
    "CosmoSevereError",
    "Precision",
    "Request",
    "default_params",
    "from_class_dict",
    "get_precision",
    "planck18",
]
