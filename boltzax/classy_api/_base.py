"""Shared pieces of the classy wrapper: `CallableFloat`, the scalar-or-array decorator, the
not-implemented method factory and the set of implemented ``output`` entries."""

from __future__ import annotations

import numpy as np

from ..errors import NotImplementedOutputError

# outputs that are computed today; the others raise NotImplementedOutputError at compute()
IMPLEMENTED_OUTPUTS: set[str] = {"mPk", "mTk", "vTk", "tCl", "pCl", "lCl"}


class CallableFloat(float):
    """A float that can also be called, like classy 3.4's properties: ``cosmo.h`` == ``cosmo.h()``."""

    def __call__(self) -> float:
        return float(self)


def _vectorise(f):
    """Accept a scalar (returns a float) or an array (returns a numpy array), like classy's helpers."""

    def wrapped(self, z):
        zz = np.asarray(z, dtype=float)
        out = np.array(f(self, np.atleast_1d(zz)), dtype=float)  # a writable copy, as classy
        return float(out[0]) if zz.ndim == 0 else out.reshape(zz.shape)

    wrapped.__name__ = f.__name__
    wrapped.__doc__ = f.__doc__
    return wrapped


def _not_yet(what: str, issue: str):
    def method(self, *args, **kwargs):
        raise NotImplementedOutputError(f"{what} is not implemented in boltzax yet ({issue})")

    method.__name__ = what
    method.not_implemented = issue  # read by tools/conformance_table.py
    return method
