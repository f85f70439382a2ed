"""Linear perturbations and P(k): against CLASS v3.4.1 tables/spectra stored in tests/data_perturbations/
(written by tools/make_pert_fixture.py; the background/thermo tables come from CLASS, so these tests check
the perturbation module in isolation).  Massless neutrinos, flat LambdaCDM, three cosmologies.  sigma8 and
AD-vs-FD of P(k) are tested end to end in test_fourier.py."""

import numpy as np
import pytest

import boltzax  # noqa: F401  (x64)
import equinox as eqx
import jax
import jax.numpy as jnp

from boltzax.fourier import primordial_PR, transfer_grid
from boltzax.perturbations import PerturbationPrecision, tables_from_arrays
from boltzax.perturbations.equations import Layout, derivs_tau
from boltzax.perturbations.initial import adiabatic_ic

DATA = __file__.rsplit("/", 1)[0] + "/data_perturbations/"
NAMES = ("lcdm", "high", "low")
PREC = PerturbationPrecision()


def _load(name):
    d = dict(np.load(DATA + name + ".npz"))
    a2rho = {s: d["a2rho_" + s] for s in ("g", "b", "cdm", "ur", "lambda")}
    tab = tables_from_arrays(d["lna"], d["tau"], d["aH"], a2rho, d["dkappa"], d["cb2"])
    params = boltzax.default_params()
    params = eqx.tree_at(lambda p: (p.A_s, p.n_s, p.h), params, (d["A_s"], d["n_s"], d["h"]))
    return d, tab, params


@pytest.fixture(scope="module")
def cosmos():
    return {n: _load(n) for n in NAMES}


@pytest.fixture(scope="module")
def transfer_fn():
    return jax.jit(lambda k, z, tab: transfer_grid(k, z, tab, PREC))


@pytest.mark.parametrize("name", NAMES)
def test_pk_at_nodes_matches_class(cosmos, transfer_fn, name):
    """P_m(k, z) from transfer functions solved exactly at the test wavenumbers: 1e-3 vs CLASS."""
    d, tab, params = cosmos[name]
    k = jnp.asarray(d["k_test"])
    dm, _ = transfer_fn(k, jnp.asarray(d["z_test"]), tab)
    P = 2 * np.pi**2 / k[:, None] ** 3 * primordial_PR(params, k)[:, None] * dm**2
    err = np.abs(np.asarray(P) / d["pk_m"] - 1)
    assert err.max() < 1e-3, (name, err.max(axis=1))


def test_initial_conditions_are_the_growing_mode(cosmos):
    """The series initial state satisfies the equations: d delta_cdm/d tau from the right-hand side
    equals the derivative of the series, 2 delta_cdm / tau (delta ~ tau^2 at leading order)."""
    _, tab, _ = cosmos["lcdm"]
    lay = Layout(PREC.l_max_g, PREC.l_max_pol, PREC.l_max_ur)
    for k in (1e-3, 0.1, 2.0):
        tau = 1e-3 / k
        bg = dict(tab.at(tab.lna_of_tau(tau)), tau=tau)
        y = adiabatic_ic(k, tau, bg, lay)
        dy = derivs_tau(y, k, bg, lay, 0)
        np.testing.assert_allclose(dy[0], 2 * y[0] / tau, rtol=2e-3)
        np.testing.assert_allclose(dy[lay.i_g], 2 * y[lay.i_g] / tau, rtol=2e-3)
