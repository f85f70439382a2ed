"""CLASS's input vocabulary (class_inputs.py) and input hygiene (issue 16, 17): no compute, a few seconds.

Property-based part: random CLASS dicts in and 20 % beyond the box of issue 17 go through `from_class_dict`;
each is accepted exactly when every value lies in `params.RANGES`, otherwise the CosmoSevereError names the
parameter; no other exception type ever escapes."""

import json
import math
import os
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boltzax import CosmoSevereError, NotImplementedOutputError, from_class_dict, io
from boltzax.class_inputs import HONOURED_PRECISION, apply_precision, vocabulary
from boltzax.cli import main
from boltzax.params import PLANCK18, RANGES
from boltzax.precision import get_precision
from boltzax.testing import ROBUSTNESS_BOX, ROBUSTNESS_WIDEN

INI = os.path.join(os.path.dirname(__file__), "data", "class_ini")


# ------------------------------------------------------------------------------ vocabulary
def test_vocabulary_is_class_3_4_1():
    v = vocabulary()
    assert v["class_version"] == "v3.4.1"
    assert {"Neff", "100*theta_s", "theta_s_100", "reionization_exponent", "compute damping scale"} <= set(
        v["input_names"])
    assert {"k_per_decade_for_pk", "k_min_tau0", "l_switch_limber", "tol_ncdm_synchronous"} <= set(
        v["precision_defaults"])
    assert len(v["classy_methods"]) == 100


@pytest.mark.parametrize("name, value", [
    ("k_per_decade_for_pk", 20), ("k_min_tau0", 0.002), ("compute damping scale", "no"),
    ("perturbations_sampling_stepsize", 0.05), ("l_switch_limber", 40), ("write_warnings", "yes"),
    ("reionization_exponent", 1.5), ("Omega_scf", 0), ("omega_dcdmdr", 0.0), ("DM_decay_Gamma", 0),
    ("thermodynamics_verbose", 1), ("sBBN file", "x.dat"),
])
def test_class_names_at_default_values_are_accepted(name, value):
    from_class_dict({name: value})


def test_precision_parameters_honoured():
    _, req = from_class_dict({"l_max_g": 20, "ncdm_fluid_approximation": 3, "N_ncdm": 1, "m_ncdm": 0.06,
                              "tol_ncdm_synchronous": 1e-4})
    prec = apply_precision(get_precision("fast"), req.class_precision)
    assert prec.perturbations.l_max_g == 20 and prec.perturbations.ncdm_fluid is False
    assert prec.perturbations.tol_ncdm == 1e-4 and prec.name == "fast+class"
    assert set(HONOURED_PRECISION) <= set(vocabulary()["precision_defaults"])
    with pytest.raises(NotImplementedOutputError, match="ncdm_fluid_approximation"):
        from_class_dict({"ncdm_fluid_approximation": 1})
    with pytest.raises(CosmoSevereError, match="k_per_decade_for_pk"):
        from_class_dict({"k_per_decade_for_pk": "many"})


@pytest.mark.parametrize("name, value", [
    ("reionization_exponent", 2.0), ("Omega_scf", 0.1), ("DM_decay_Gamma", 1e-20), ("matter_source_in_current_gauge", "yes"),
    ("sigma8", 0.8), ("P_k_ini type", "inflation_V"), ("compute damping scale", "yes"),
])
def test_features_boltzax_lacks_are_named(name, value):
    d = {name: value, "output": "mPk"}
    with pytest.raises(NotImplementedOutputError, match=name.split()[0]):
        from_class_dict(d)


def test_unknown_names_are_checked_against_class():
    with pytest.raises(CosmoSevereError, match="not a CLASS v3.4.1 input") as e:
        from_class_dict({"N_eff": 3.044})
    assert "Neff" in str(e.value)  # the close CLASS name is suggested
    with pytest.raises(CosmoSevereError, match="omega_cbd"):
        from_class_dict({"omega_cbd": 0.1})


def test_unread_names_follow_class():
    # CLASS reads P_k_max and z_pk only with a P(k) output, m_ncdm only with N_ncdm > 0 (classy: an error)
    for d in ({"z_pk": 1}, {"P_k_max_1/Mpc": 2}, {"w0_fld": -1.0}, {"binned_reio_num": 3},
              {"output": "mPk", "l_max_scalars": 2500}, {"T_ncdm": 0.71611}):
        with pytest.raises(CosmoSevereError, match=f"did not read|{list(d)[-1]}"):
            from_class_dict(d)
    with pytest.warns(UserWarning, match="z_pk"):
        _, req = from_class_dict({"z_pk": 1}, unread="warn")
    assert req.z_pk == (0.0,)


def test_neff_theta_and_matter_budget_inputs():
    from boltzax.background import derived_densities

    p, _ = from_class_dict({"Neff": 3.5, "N_ncdm": 1, "m_ncdm": 0.06})
    assert float(derived_densities(p)["Neff"]) == pytest.approx(3.5, rel=1e-12)
    with pytest.raises(CosmoSevereError, match="Neff"):
        from_class_dict({"Neff": 3.0, "N_ur": 2.0})
    p, _ = from_class_dict({"theta_s_100": 1.0411})
    assert p.h_from_theta_s and float(p.theta_s_100) == 1.0411
    p, _ = from_class_dict({"Omega_m": 0.31, "h": 0.7, "N_ncdm": 1, "m_ncdm": 0.06})
    assert float(derived_densities(p)["Omega0_m"]) == pytest.approx(0.31, rel=2e-5)  # ncdm: rho vs rho - 3p
    with pytest.raises(CosmoSevereError, match="Omega_cdm"):
        from_class_dict({"Omega_m": 0.31, "Omega_cdm": 0.25})


@pytest.mark.parametrize("bad, name", [
    ({"h": ""}, "h"), ({"h": [0.7]}, "h"), ({"h": True}, "h"), ({"h": float("nan")}, "h"),
    ({"omega_b": None}, "omega_b"), ({"N_ncdm": 1.5, "m_ncdm": 0.06}, "N_ncdm"),
    ({"N_ncdm": 2, "m_ncdm": "0.06"}, "m_ncdm"), ({"N_ncdm": 2, "m_ncdm": "0.06,,0.1"}, "m_ncdm"),
    ({"h": 0.7, "100*theta_s": 1.04}, "100*theta_s"), ({"A_s": 2e-9, "ln10^{10}A_s": 3.0}, "A_s"),
    ({"Omega_Lambda": 0.7, "Omega_fld": 0.0, "Omega_k": 0.0}, "Omega_Lambda"),
    ({"output": "mPk", "P_k_max_1/Mpc": 500}, "P_k_max_1/Mpc"), ({"output": "tCl", "l_max_scalars": 1e5},
                                                                  "l_max_scalars"),
    ({"output": "mPk", "z_pk": "0, 2", "z_max_pk": 1}, "z_pk"), ({"output": "mPk", "z_pk": -1}, "z_pk"),
    ({"output": "mPk", "modes": "x"}, "modes"), ({3: 1}, "3"),
])
def test_hygiene_errors_name_the_parameter(bad, name):
    with pytest.raises(CosmoSevereError, match=name.replace("*", r"\*").replace("{", r"\{").replace("^", r"\^")):
        from_class_dict(bad)


# ------------------------------------------------------------------------------ CLASS's own .ini files
@pytest.mark.parametrize("name", ["default.ini", "explanatory.ini"])
def test_class_ini_files_are_read(name):
    d = io.read_ini(os.path.join(INI, name))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # explanatory.ini sets sub-parameters of switched-off features
        _, req = from_class_dict(d, unread="warn")
    assert "mPk" in req.output


@pytest.mark.parametrize("text, line", [
    ("h = 0.7\n = 3\n", 2), ("h = 0.7\nomega_b = 0.022\nh = 0.68\n", 3), ("h = abc\n", 1),
    ("output = mPk\nP_k_max_1/Mpc = lots\n", 2),
])
def test_cli_malformed_ini(tmp_path, capsys, text, line):
    ini = tmp_path / "bad.ini"
    ini.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(ini), "--output", str(out), "--precision", "fast"]) == 2
    err = capsys.readouterr().err
    assert "bad.ini" in err and str(line) in err and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())  # nothing written


def test_cli_runs_class_default_ini(tmp_path):
    """CLASS's default.ini (lensed tCl,pCl,lCl + mPk, l_max_scalars = 2500) runs unchanged in `boltzax run` and
    writes CLASS's cl.dat / cl_lensed.dat (fast precision: a logic test, not an accuracy test)."""
    out = tmp_path / "out"
    assert main(["run", os.path.join(INI, "default.ini"), "--output", str(out), "--precision", "fast"]) == 0
    for f in ("cl.dat", "cl_lensed.dat", "background.dat"):
        assert os.path.getsize(out / f"default_{f}") > 0


# ------------------------------------------------------------------------------ property-based
BOX = ROBUSTNESS_BOX  # issue 17's box
ALLOWED = {**RANGES, "ln10^{10}A_s": (math.log(1e10 * RANGES["A_s"][0]), math.log(1e10 * RANGES["A_s"][1]))}


def _widened(lo, hi):
    pad = ROBUSTNESS_WIDEN * (hi - lo)
    return st.floats(lo - pad, hi + pad, allow_nan=False)


@st.composite
def class_dicts(draw):
    d = {n: draw(_widened(*b)) for n, b in BOX.items() if draw(st.booleans())}
    if "w0_fld" in d or "wa_fld" in d:
        d["Omega_Lambda"] = 0.0
    n_ncdm = draw(st.integers(0, 3))
    if n_ncdm:
        d["N_ncdm"] = n_ncdm
        d["m_ncdm"] = ", ".join(str(draw(_widened(0.0, 1.0))) for _ in range(n_ncdm))
    if draw(st.booleans()) or "r" in d:
        d["output"] = "mPk"
        d["P_k_max_1/Mpc"] = draw(st.sampled_from([1.0, 5.0, 200.0]))
    if "r" in d:  # CLASS reads r only with tensor modes
        d["modes"] = "s, t"
    if draw(st.booleans()):  # a wrong type or an empty string somewhere
        d[draw(st.sampled_from(sorted(BOX)))] = draw(st.sampled_from(["", "abc", None, [1.0], True]))
    return d


def _invalid(d):
    """The parameters of ``d`` that `params.RANGES` (or a wrong type) rules out."""
    bad = []
    for n, v in d.items():
        if isinstance(v, (bool, list)) or v is None or (isinstance(v, str) and n in BOX):
            bad.append(n)
        elif n == "m_ncdm":
            if any(not ALLOWED[n][0] <= float(x) <= ALLOWED[n][1] for x in v.split(",")):
                bad.append(n)
        elif n in ALLOWED and not ALLOWED[n][0] <= float(v) <= ALLOWED[n][1]:
            bad.append(n)
    # rules across parameters (params._check_early_fluid, params._check_bbn): either may be the one reported
    # when a single-parameter range is violated too (the parser's order decides), so both count
    try:
        if "Omega_Lambda" in d and float(d.get("w0_fld", -1.0)) + float(d.get("wa_fld", 0.0)) >= 1.0 / 3.0:
            bad.append("w0_fld")
        neff = float(d.get("N_ur", 3.044)) + d.get("N_ncdm", 0) * 0.71611**4 * (11.0 / 4.0) ** (4.0 / 3.0)
        if not 3.046 - 3.0 <= neff <= 3.046 + 3.0:
            bad.append("N_ur")
    except (TypeError, ValueError):  # a wrong type is already in bad
        pass
    return bad


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(class_dicts())
def test_parameter_layer_accepts_valid_and_names_invalid(d):
    bad = _invalid(d)
    try:
        from_class_dict(dict(d))
    except CosmoSevereError as e:
        assert bad, f"valid input refused: {d}: {e}"
        assert any(n in str(e) for n in bad), f"error does not name any of {bad}: {e}"
        return
    assert not bad, f"invalid {bad} accepted: {d}"


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(class_dicts())
def test_class_set_never_raises_another_type(d):
    from boltzax import Class

    c = Class(precision="fast")
    c.set(dict(d))
    from boltzax.params import from_class_dict as parse

    try:
        parse(c.pars)
    except CosmoSevereError:
        pass


def test_planck18_roundtrip_json():
    assert from_class_dict(json.loads(json.dumps(PLANCK18)))[0].n_ncdm == 1
    assert np.isfinite(float(from_class_dict(PLANCK18)[0].h))


def test_class_precision_file(tmp_path, capsys):
    """CLASS's .pre files (here cl_permille.pre) are read; `boltzax run input.ini file.pre` merges them."""
    pre = io.read_ini(os.path.join(INI, "cl_permille.pre"))
    _, req = from_class_dict({**pre, "output": "mPk"})
    assert req.class_precision == ()  # none of these six maps onto boltzax's precision: accepted, no effect
    ini, bad = tmp_path / "a.ini", tmp_path / "bad.pre"
    ini.write_text("h = 0.7\noutput = mPk\n")
    bad.write_text("# precision\nl_max_g = lots\n")
    assert main(["run", str(ini), str(bad), "--output", str(tmp_path / "o"), "--precision", "fast"]) == 2
    err = capsys.readouterr().err
    assert "l_max_g" in err and "bad.pre:2" in err
    bad.write_text("h = 0.68\n")
    assert main(["run", str(ini), str(bad), "--output", str(tmp_path / "o")]) == 2
    assert "also set" in capsys.readouterr().err
