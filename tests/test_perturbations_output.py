"""classy's ``get_perturbations()`` (k_output_values time series, boltzax.perturbations.timeseries) against CLASS
v3.4.1 (tests/reference/perturbations, tools/make_perturbations_reference.py): three cosmologies (fid: one
massive neutrino; w0wa_2: PPF dark energy crossing w = -1; ok_neg: closed), k = 0.01, 0.05, 0.2 /Mpc, CLASS's
synchronous gauge output (converted to Newtonian variables), its Newtonian gauge and (fid) its synchronous
variables (get_perturbations_in_current_gauge).

Each column is compared at CLASS's own rows after recombination (tau > tau_rec, where CLASS's tight-coupling
approximation is off), relative to the column's largest |value| there.  The structure tests (parsing, the
dict classy returns) do not solve anything."""

import json
import os

import numpy as np
import pytest

import boltzax
from boltzax import Class
from boltzax.errors import CosmoSevereError, NotImplementedOutputError
from boltzax.params import from_class_dict
from boltzax.perturbations.timeseries import column_names

REF_DIR = os.path.join(os.path.dirname(__file__), "reference", "perturbations")
COSMOS = ("fid", "w0wa_2", "ok_neg")
VARIANTS = {"sync": ("synchronous", False), "newt": ("newtonian", False), "sync_current": ("synchronous", True)}
M_ROWS = 400  # static number of requested times per k (CLASS's kept rows of all variants, padded): one compile
PREC = "default"


def _load(name):
    return dict(np.load(os.path.join(REF_DIR, f"{name}.npz")))


# ------------------------------------------------------------------------------------------- structure
def test_request_parsing():
    _, req = from_class_dict({"output": "mPk", "k_output_values": "0.1, 0.01,0.05", "gauge": "newtonian"})
    assert req.k_output_values == (0.01, 0.05, 0.1) and req.gauge == "newtonian"  # sorted, as CLASS
    assert not req.perturbations_in_current_gauge
    _, req = from_class_dict({"output": "mPk", "k_output_values": [0.2], "gauge": "sync",
                              "get_perturbations_in_current_gauge": "yes"})
    assert req.k_output_values == (0.2,) and req.gauge == "synchronous" and req.perturbations_in_current_gauge
    assert from_class_dict({"output": "mPk"})[1].k_output_values == ()
    with pytest.raises(CosmoSevereError, match="gauge"):
        from_class_dict({"output": "mPk", "gauge": "comoving"})
    with pytest.raises(CosmoSevereError, match="k_output_values"):
        from_class_dict({"output": "mPk", "k_output_values": "0.1, -1"})
    with pytest.raises(CosmoSevereError, match="did not read"):  # CLASS reads 'gauge' only with an output
        from_class_dict({"gauge": "newtonian"})


def test_column_names_are_class_titles():
    """boltzax's column list = the dict keys classy returned, in CLASS's order, for each stored variant."""
    for name in COSMOS:
        ref = _load(name)
        fld = name.startswith("w0wa")
        for var in VARIANTS:
            if f"meta/titles/{var}" in ref:
                assert column_names(1, fld) == json.loads(str(ref[f"meta/titles/{var}"]))
    assert "delta_ncdm[0]" not in column_names(1, False, ncdm_columns=False)
    assert column_names(2, False)[-4:] == ["delta_ncdm[1]", "theta_ncdm[1]", "shear_ncdm[1]", "cs2_ncdm[1]"]


def test_get_perturbations_dict_format(monkeypatch):
    """classy's return value: {'scalar': [dict per k]} with writable arrays of one length per k; {} without
    k_output_values; the solve is stubbed (the numbers are the accuracy tests' business)."""
    import boltzax.perturbations.timeseries as ts

    seen = {}

    def stub(res, precision, k, tau=None, gauge="synchronous", current_gauge=False, n_early=300):
        seen.update(k=np.asarray(k), gauge=gauge, current_gauge=current_gauge)
        names = column_names(1, False)
        return {n: np.tile(np.arange(7.0), (len(k), 1)) + (i + 1) for i, n in enumerate(names)}

    monkeypatch.setattr(ts, "perturbation_timeseries", stub)
    c = Class(precision="fast")
    c.set({**boltzax.params.PLANCK18, "output": "mPk", "k_output_values": "0.05,0.01", "gauge": "newtonian"})
    out = c.get_perturbations()
    assert list(out) == ["scalar"] and len(out["scalar"]) == 2
    assert list(seen["k"]) == [0.01, 0.05] and seen["gauge"] == "newtonian"
    for d in out["scalar"]:
        assert list(d) == column_names(1, False)
        assert all(v.shape == (7,) for v in d.values())
    out["scalar"][0]["delta_g"][0] = -1.0  # writable copies: the next call is unchanged
    assert c.get_perturbations()["scalar"][0]["delta_g"][0] == 3.0
    c2 = Class(precision="fast")
    c2.set({**boltzax.params.PLANCK18, "output": "mPk"})
    c2.compute()
    assert c2.get_perturbations() == {}
    c3 = Class(precision="fast")
    c3.set({**boltzax.params.PLANCK18, "output": "tCl", "modes": "s,t", "k_output_values": 0.1})
    with pytest.raises(NotImplementedOutputError, match="get_perturbations"):
        c3.get_perturbations()


def test_newtonian_transfer_and_sources_are_refused():
    c = Class(precision="fast")
    c.set({**boltzax.params.PLANCK18, "output": "mTk", "gauge": "newtonian"})
    with pytest.raises(NotImplementedOutputError, match="Newtonian"):
        c.get_transfer(0.0)


# -------------------------------------------------------------------------------------- against CLASS
@pytest.fixture(scope="module")
def solved():
    """boltzax's columns at CLASS's stored rows, every variant, per cosmology (one compiled program for fid and
    ok_neg: same static structure and shapes)."""
    from boltzax.perturbations.timeseries import perturbation_timeseries
    from boltzax.testing import reference_params

    out = {}
    for name in COSMOS:
        ref = _load(name)
        ks = ref["meta/k"]
        have = [v for v in VARIANTS if f"meta/titles/{v}" in ref]
        taus = [np.concatenate([ref[f"{v}/{i}/tau [Mpc]"] for v in have]) for i in range(len(ks))]
        assert max(len(t) for t in taus) <= M_ROWS
        ext = np.array([np.concatenate([t, np.full(M_ROWS - len(t), t[-1])]) for t in taus])
        res = boltzax.compute(reference_params(name), PREC)
        cols = perturbation_timeseries(res, PREC, ks, tau=ext, gauge=tuple(VARIANTS.values()))
        per_var = {}
        for v, c in zip(VARIANTS, cols):
            if v not in have:
                continue
            c = {n: np.asarray(x) for n, x in c.items()}
            per_var[v] = []
            for i in range(len(ks)):
                start = sum(len(ref[f"{w}/{i}/tau [Mpc]"]) for w in have[:have.index(v)])
                n = len(ref[f"{v}/{i}/tau [Mpc]"])
                per_var[v].append({k: x[i, start:start + n] for k, x in c.items()})
        out[name] = ref, per_var
    return out


def _errors(ref, ours, var, i):
    """Per column: max |boltzax - CLASS| / max |CLASS| over CLASS's rows after recombination."""
    tau = ref[f"{var}/{i}/tau [Mpc]"]
    after = tau > float(ref["meta/tau_rec"])
    errs = {}
    for col in json.loads(str(ref[f"meta/titles/{var}"])):
        r = ref[f"{var}/{i}/{col}"][after]
        o = ours[col][after]
        scale = np.max(np.abs(r))
        errs[col] = float(np.max(np.abs(o - r)) / scale) if scale > 0 else float(np.max(np.abs(o)))
    return errs
