"""Property-based robustness (issue 17), the CI sample: random points over the issue's parameter box and
20 % beyond its edges (hypothesis, derandomized: a fixed sample).  Every call returns finite spectra and
finite gradients, or raises `CosmoSevereError` / `CosmoComputationError` whose message names a parameter of
the point or the cosmology; never a silent NaN.  The larger sweep (>= 300 points, with gradients) is
tools/robustness_sweep.py, its last result in CHANGELOG.md.

Cost: one "fast"-preset compilation with the dark-energy fluid and one massive species (all drawn points
share it: N_ur, Omega_k, masses, w0/wa are traced).  Finite gradients over the box are checked in
test_fourier.test_pk_gradient_matches_finite_differences, which already holds the forward-mode Jacobian
program (a second compilation of it here took 27 min of CPU under load)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boltzax import Class, CosmoComputationError, CosmoSevereError
from boltzax.testing import ROBUSTNESS_BOX, ROBUSTNESS_M_NCDM, ROBUSTNESS_WIDEN

K_TEST = (1e-3, 0.01, 0.1, 0.5, 1.0)
Z_TEST = (0.0, 1.0)


def _widened(lo, hi):
    pad = ROBUSTNESS_WIDEN * (hi - lo)
    return st.floats(lo - pad, hi + pad, allow_nan=False, allow_infinity=False).map(lambda x: round(x, 6))


@st.composite
def box_points(draw):
    """One CLASS input: every box parameter (w0/wa fluid), one massive species."""
    d = {n: draw(_widened(*b)) for n, b in ROBUSTNESS_BOX.items()}
    d.update({"N_ncdm": 1, "m_ncdm": draw(_widened(*ROBUSTNESS_M_NCDM)), "Omega_Lambda": 0.0})
    return d


def _names_something(msg: str, d: dict) -> bool:
    return "cosmology:" in msg or any(f"'{n}'" in msg for n in d) or "N_eff" in msg


@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(box_points())
def test_class_returns_finite_spectra_or_a_named_error(d):
    """Through `Class` (fast preset): finite positive P(k, z) and sigma8, or an error naming the problem."""
    c = Class(precision="fast")
    try:
        c.set({**d, "output": "mPk", "P_k_max_1/Mpc": 1.0, "z_max_pk": 1.0, "modes": "s, t"})
        c.compute()
        pk = np.array([[c.pk_lin(k, z) for k in K_TEST] for z in Z_TEST])
        s8 = c.sigma8()
    except (CosmoSevereError, CosmoComputationError) as e:
        assert _names_something(str(e), d), f"error names nothing: {e}"
        return
    assert np.all(np.isfinite(pk)) and np.all(pk > 0) and np.isfinite(s8) and s8 > 0, (d, pk, s8)


PT_BIAS = {"b1": (0.5, 4.0), "b2": (-5.0, 5.0), "bG2": (-3.0, 3.0), "bGamma3": (-3.0, 3.0),
           "cs0": (-50.0, 50.0), "cs2": (-50.0, 50.0), "cs4": (-50.0, 50.0), "Pshot": (-5e3, 2e4),
           "a0": (-1e3, 1e3), "a2": (-1e3, 1e3), "b4": (-500.0, 500.0)}


@pytest.fixture(scope="module")
def pt_pieces():
    """CLASS-PT's stored pieces (tests/reference/classpt) at one cosmology and z: the bias assembly alone."""
    import os

    ref = np.load(os.path.join(os.path.dirname(__file__), "reference", "classpt", "classpt_ref.npz"))
    h = float(ref["h"][3])
    conv = np.full(48, h ** 3)
    conv[10:14] = h
    return ref["pk_mult"][3, 1][:48] * conv[:, None], ref["k_h"], float(ref["f_z"][3, 1])


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({n: _widened(*b) for n, b in PT_BIAS.items()}))
def test_pt_spectra_finite_over_bias_parameters(pt_pieces, b):
    """Native PT assembly (`boltzax.pt.bias`) over random bias/counterterm/stochastic parameters: finite
    spectra and finite gradients with respect to every parameter."""
    import jax
    import jax.numpy as jnp

    from boltzax.pt import bias

    pieces, kh, f = pt_pieces
    p = bias.BiasParams(cs=b["cs0"], **b)

    def total(q):
        return sum(jnp.sum(v) for v in bias.all_spectra(pieces, kh, f, q).values())

    out = bias.all_spectra(pieces, kh, f, p)
    assert all(np.all(np.isfinite(np.asarray(v))) for v in out.values())
    g = jax.grad(total)(jax.tree_util.tree_map(jnp.asarray, p))
    assert all(np.isfinite(float(x)) for x in g), g


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "two", None])
def test_pt_wrappers_name_a_bad_bias_parameter(bad):
    """CLASS-PT's wrappers refuse a non-finite or non-numeric bias parameter, naming it (CLASS-PT itself
    would return NaN)."""
    from boltzax.pt.classpt_api import _check_bias

    with pytest.raises(CosmoSevereError, match=r"pk_gg_l0: bias parameter 'b2'"):
        _check_bias("pk_gg_l0", b1=2.0, b2=bad)
    _check_bias("pk_gg_l0", b1=2.0, b2=np.array([1.0, -3.0]))  # arrays of finite numbers are fine
