"""Nonlinear matter power spectra as CLASS 3.4.1 computes them (``non_linear``): `halofit` (Takahashi 2012 +
Bird et al., ``external/Halofit/halofit.c``), and `class_k_grid` (CLASS's P(k) wavenumber range and the
spline quadrature the nonlinear codes integrate with).  Pure JAX functions of computed `Results` and a
`fourier.LinearPk`: jit, jacfwd and vmap over z work; classy's methods are in `classy_api.nonlinear`."""

from .halofit import HalofitPrecision, HalofitState, halofit_pk, halofit_power, halofit_states

__all__ = ["HalofitPrecision", "HalofitState", "halofit_pk", "halofit_power", "halofit_states"]
