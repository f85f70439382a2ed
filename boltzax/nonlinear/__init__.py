"""Nonlinear matter power spectra as CLASS 3.4.1 computes them (``non_linear``): `halofit` (Takahashi 2012 +
Bird et al., ``external/Halofit/halofit.c``), `hmcode` (Mead et al. 2015/2016/2021, ``external/HMcode/hmcode.c``:
versions 2015/2016, 2020, 2020_baryonic_feedback; helpers in `hmcode_common`, `hmcode_growth`,
`hmcode_nowiggle`, `hmcode_versions`, CLASS's splines in `class_splines`), and `class_k_grid` (CLASS's P(k)
wavenumber range and the spline quadrature the nonlinear codes integrate with).  Pure JAX functions: jit,
jacfwd and vmap over z work; classy's methods are in `classy_api.nonlinear`."""

from .halofit import HalofitPrecision, HalofitState, halofit_pk, halofit_power, halofit_states
from .hmcode import HMcodeCosmo, HMcodePrecision, HMcodeState, hmcode_pk

__all__ = ["HalofitPrecision", "HalofitState", "halofit_pk", "halofit_power", "halofit_states", "HMcodeCosmo",
           "HMcodePrecision", "HMcodeState", "hmcode_pk"]
