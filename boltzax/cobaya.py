"""cobaya theory: cobaya's own CLASS theory (``cobaya.theories.classy.classy``) running on ``boltzax`` in
classy's place.

In a cobaya input, either of::

    theory:
      boltzax:                          # boltzax.get_cobaya_class() (cobaya's hook for external packages)
        extra_args: {non_linear: hmcode}
    theory:
      boltzax.cobaya.BoltzaxClassy:     # the class by its import path
        precision: fast

Everything else (``extra_args``, ``renames``, ``stop_at_error``, the requests a likelihood makes: Hubble,
angular_diameter_distance, Pk_interpolator / Pk_grid, sigma8, fsigma8, rdrag, Cl ...) is cobaya's classy theory
unchanged: it calls the classy methods of ``boltzax.Class`` exactly as it calls classy's.  ``precision`` is
boltzax's preset (``boltzax.get_precision``: fast, default, high), the only option that classy lacks.

Needs cobaya (``pip install "boltzax[cobaya]"``); importing this module without it raises ImportError.
"""

from __future__ import annotations

import contextlib
import importlib
from unittest import mock

import boltzax

# the module (cobaya.theories.classy's __init__ rebinds the name 'classy' to the class)
_cobaya_classy = importlib.import_module("cobaya.theories.classy.classy")


class BoltzaxClassy(_cobaya_classy.classy):
    r"""boltzax (differentiable Einstein-Boltzmann solver in JAX) as cobaya's CLASS theory."""

    # boltzax's precision preset (boltzax.get_precision); the options of cobaya's classy theory are inherited
    precision: str = "default"

    def initialize(self):
        """cobaya's classy ``initialize`` with ``boltzax`` as the module it loads (instead of importing classy
        from ``path`` or the Python path): same option handling, same ``extra_args`` defaults."""
        with _boltzax_as_classy(self.precision):
            super().initialize()

    def get_version(self):
        return f"boltzax {boltzax.__version__}"

    @classmethod
    def is_installed(cls, **kwargs):
        return True  # a Python package: nothing for cobaya-install to build

    @classmethod
    def install(cls, *args, **kwargs):
        return True


class _ClassyModule:
    """The module object cobaya's classy theory uses: ``Class`` (with boltzax's precision preset) and classy's
    exception types."""

    CosmoComputationError = boltzax.CosmoComputationError
    CosmoSevereError = boltzax.CosmoSevereError
    CosmoError = boltzax.CosmoError
    __version__ = boltzax.__version__

    def __init__(self, precision: str):
        self._precision = precision

    def Class(self):  # noqa: N802 (classy's name)
        return boltzax.Class(precision=self._precision)


@contextlib.contextmanager
def _boltzax_as_classy(precision: str):
    def load(module_name=None, *args, **kwargs):
        if module_name != "classy":  # pragma: no cover (cobaya's classy theory loads only classy)
            raise ValueError(f"boltzax.cobaya: unexpected module '{module_name}'")
        return _ClassyModule(precision)

    with mock.patch.object(_cobaya_classy, "load_external_module", load):
        yield


def get_cobaya_class():
    """cobaya's hook: ``theory: {boltzax: ...}`` in a cobaya input resolves to this class."""
    return BoltzaxClassy
