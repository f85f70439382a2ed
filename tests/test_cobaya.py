"""cobaya's classy theory on boltzax (``theory: boltzax``, boltzax/cobaya.py) against the same cobaya model run
on classy 3.4.1 (tests/reference/workflows/cobaya.npz, tools/make_workflow_reference.py).

The likelihood (defined in the tools script, so that both runs share it) requests Hubble, angular diameter
distance, Pk_interpolator (linear and non-linear: cobaya's classy theory then sets non_linear = hmcode), sigma8,
fsigma8 and rdrag at the fiducial cosmology (one 0.06 eV neutrino, omega_cdm sampled), a Gaussian of 1 % errors
on each.  Same P(k) request as tests/test_fourier.py::test_classy_pk_and_sigma8 (P_k_max 5 /Mpc, z_pk up to 2):
the compiled linear solve is shared."""

import importlib.util
import os
import sys

import numpy as np
import pytest

pytest.importorskip("cobaya")

HERE = os.path.dirname(__file__)
REF = os.path.join(HERE, "reference", "workflows", "cobaya.npz")


def _tool():
    name = "make_workflow_reference"
    if name not in sys.modules:  # registered: cobaya reads the likelihood class's module
        spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, "..", "tools", f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(REF))


def test_cobaya_resolves_boltzax():
    """``theory: boltzax`` (cobaya's get_cobaya_class hook) and the import path name the same class, a subclass
    of cobaya's classy theory."""
    from cobaya.component import get_component_class
    from cobaya.theories.classy import classy

    from boltzax.cobaya import BoltzaxClassy

    assert get_component_class("boltzax", kind="theory") is BoltzaxClassy
    assert get_component_class("boltzax.cobaya.BoltzaxClassy", kind="theory") is BoltzaxClassy
    assert issubclass(BoltzaxClassy, classy)


def test_cobaya_model_matches_classy(ref):
    """Every value the likelihood received: background 1e-4, P(k), sigma8, fsigma8 1e-3 (HMcode's P_nl: both
    bisections tight, hmcode_tol_sigma = 1e-10); the log-posterior within what those tolerances allow; boltzax got
    the same classy input as classy did."""
    import json

    tool = _tool()
    data = {k[len("data/"):]: ref[k] for k in ref if k.startswith("data/")}
    model, seen = tool.make_cobaya({"boltzax": {"stop_at_error": True}}, data)
    point = {"omega_cdm": tool.fid_input()["omega_cdm"]}
    logpost = model.logposterior(point).logpost
    theory = model.theory["boltzax"]
    sent = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in theory.classy.pars.items()}
    assert json.loads(json.dumps(sent, sort_keys=True)) == json.loads(str(ref["meta/classy_input"]))
    tol = {"H": 1e-4, "DA": 1e-4, "rdrag": 1e-4, "sigma8": 1e-3, "fsigma8": 1e-3, "pk_lin": 1e-3, "pk_nl": 1e-3}
    errs = {k: float(np.max(np.abs(np.asarray(seen[k]) / ref[k] - 1))) for k in tol}
    print("cobaya boltzax vs classy:", {k: f"{e:.1e}" for k, e in errs.items()}, "logpost", logpost,
          float(ref["logpost"]))
    assert all(errs[k] < tol[k] for k in tol), errs
    # -chi2/2 with 1 % errors on data 1 % above classy's values: d logpost / d(relative error of a value) = -99, so
    # the log-posteriors differ by ~99 x the sum of the values' relative differences (measured: 0.013 of 49.7)
    rel = np.concatenate([np.ravel(np.asarray(seen[k]) / ref[k] - 1) for k in data])
    assert abs(logpost - float(ref["logpost"])) < 2e2 * np.sum(np.abs(rel)), (logpost, float(ref["logpost"]))
