"""The classy-compatible wrapper: lifecycle, errors, units and CallableFloat semantics.

Uses the "fast" precision preset (logic, not accuracy: accuracy is tested per module)."""

import json
import os

import numpy as np
import pytest

from boltzax import Class, CosmoSevereError, NotImplementedOutputError
from boltzax.constants import H0_100
from boltzax.params import PLANCK18


@pytest.fixture(scope="module")
def cosmo():
    c = Class(precision="fast")
    c.set(PLANCK18)
    c.set(recombination="recfast")
    c.compute()
    return c


def test_unknown_parameter_names_it():
    c = Class()
    c.set({"no_such_param": 1})
    with pytest.raises(CosmoSevereError, match="no_such_param"):
        c.compute()


def test_unimplemented_output_is_a_clear_error():
    c = Class()
    c.set({"output": "nCl"})
    with pytest.raises(NotImplementedOutputError, match="nCl"):
        c.compute()
    with pytest.raises(NotImplementedOutputError):
        Class().density_cl()


def test_units_and_callable_floats(cosmo):
    h = PLANCK18["h"]
    assert cosmo.h == pytest.approx(h) and cosmo.h() == pytest.approx(h)
    assert cosmo.Hubble(0.0) == pytest.approx(h * H0_100, rel=1e-10)  # 1/Mpc
    assert 13.0 < cosmo.age() < 14.5  # Gyr
    z = np.array([0.5, 1.0, 2.0])
    da = cosmo.angular_distance(z)
    assert da.shape == (3,)
    np.testing.assert_allclose(cosmo.luminosity_distance(z), da * (1 + z) ** 2, rtol=1e-10)
    np.testing.assert_allclose(cosmo.comoving_distance(z), da * (1 + z), rtol=1e-10)
    assert 1.03 < cosmo.theta_s_100() < 1.05
    assert 140 < cosmo.rs_drag() < 155
    assert cosmo.scale_independent_growth_factor(0.0) == pytest.approx(1.0, rel=1e-8)


def test_tables_have_classy_names(cosmo):
    bg = cosmo.get_background()
    for key in ("z", "proper time [Gyr]", "conf. time [Mpc]", "H [1/Mpc]", "comov. dist.", "ang.diam.dist.",
                "lum. dist.", "comov.snd.hrz.", "(.)rho_g", "(.)rho_b", "(.)rho_cdm", "gr.fac. D", "gr.fac. f"):
        assert key in bg, key
    th = cosmo.get_thermodynamics()
    for key in ("z", "conf. time [Mpc]", "x_e", "kappa' [Mpc^-1]", "exp(-kappa)", "g [Mpc^-1]", "Tb [K]"):
        assert key in th, key


def test_derived_parameters(cosmo):
    d = cosmo.get_current_derived_parameters(["h", "Omega_m", "z_rec", "rs_d", "100*theta_s", "tau_reio"])
    assert d["tau_reio"] == pytest.approx(PLANCK18["tau_reio"], rel=1e-6)
    assert 1050 < d["z_rec"] < 1100
    with pytest.raises(CosmoSevereError, match="not_a_derived"):
        cosmo.get_current_derived_parameters(["not_a_derived"])


def test_lifecycle():
    c = Class(precision="fast")
    c.set({"h": 0.7, "recombination": "recfast"})
    c.compute()
    assert c.h() == pytest.approx(0.7)
    c.struct_cleanup()
    c.set({"h": 0.65})
    c.compute()
    assert c.h() == pytest.approx(0.65)
    c.empty()
    assert c.pars == {}


# ------------------------------------------------------------------------------ classy conformance (issue 16)
def test_every_classy_method_exists():
    from boltzax.class_inputs import vocabulary

    missing = [m for m in vocabulary()["classy_methods"] if not hasattr(Class, m)]
    assert not missing, missing


@pytest.mark.parametrize("name", ["get_Weyl_pk_and_k_and_z", "spectral_distortion"])
def test_unimplemented_methods_name_themselves(name):
    with pytest.raises(NotImplementedOutputError, match=name):
        getattr(Class(), name)()


def test_set_accumulates_and_baseline():
    c = Class()
    assert c.set({"h": 0.7}) is True and c.set(omega_b=0.022) is True
    assert c.pars == {"h": 0.7, "omega_b": 0.022}
    assert c.set({"h": 0.7}) is None  # nothing changed (classy)
    c.set_baseline("p18")
    assert c.pars["H0"] == 6.685836e+01 and "non_linear" not in c.pars
    with pytest.raises(CosmoSevereError, match="baseline"):
        c.set_baseline("wmap")
    with pytest.raises(CosmoSevereError, match="level"):
        c.compute(["nonsense"])


@pytest.fixture(scope="module")
def cosmo_pk():
    c = Class(precision="fast")
    c.set(PLANCK18)
    c.set({"recombination": "recfast", "output": "mPk", "P_k_max_1/Mpc": 6, "z_max_pk": 1.0})
    return c  # computed lazily by the first accessor (classy 3.4)


def test_pk_edges_and_writable_arrays(cosmo_pk):
    c = cosmo_pk
    P, k, z = c.get_pk_and_k_and_z()
    assert c.pk_lin(1e-4, 0) == pytest.approx(c.pk_lin(k[0], 0), rel=1e-12)  # CLASS's smallest k
    top = c.pk_lin(6.000000000000001, 0)  # one ulp beyond P_k_max: clamped, finite
    assert np.isfinite(top) and top == pytest.approx(c.pk_lin(6.0, 0), rel=1e-12)
    # a script looping over CLASS's own grid, endpoints included (k from get_pk_and_k_and_z, z decreasing)
    loop = np.array([[c.pk_lin(kk, zz) for zz in z] for kk in k[:: max(1, len(k) // 15)]] + [[c.pk_lin(k[-1], zz)
                                                                                             for zz in z]])
    assert np.all(np.isfinite(loop)) and np.all(loop > 0)
    np.testing.assert_allclose(loop[-1], P[-1], rtol=1e-10)
    for bad in (6.1, 5e-5):
        with pytest.raises(CosmoSevereError, match="outside the computed range"):
            c.pk_lin(bad, 0)
    for arr in (P, k, z, c.get_thermodynamics()["x_e"], c.get_background()["z"], c.Hubble(np.array([0.0, 1.0]))):
        arr *= 1.0  # classy returns writable numpy arrays
    ks = np.logspace(-4, np.log10(6.0), 7)
    assert np.all(np.isfinite(c.get_pk_all(ks, 0.5, nonlinear=False)))
    flat = c.get_pk_array(ks, np.array([0.0, 1.0]), 7, 2, False)
    assert flat[7 + 3] == pytest.approx(c.pk_lin(ks[3], 1.0), rel=1e-12)  # pk[index_z * k_size + index_k]
    with pytest.raises(CosmoSevereError, match="no nonlinear method"):
        c.get_pk_array(ks, np.array([0.0]), 7, 1, True)


def test_derived_and_new_accessors(cosmo_pk):
    from boltzax.classy_api.derived import CLASSY_DERIVED

    c = cosmo_pk
    for n in CLASSY_DERIVED:
        try:
            assert np.isfinite(c.get_current_derived_parameters([n])[n]), n
        except NotImplementedOutputError as e:
            assert n in str(e)
    with pytest.raises(CosmoSevereError, match="was not recognized"):
        c.get_current_derived_parameters(["bogus"])
    d = c.get_current_derived_parameters(["z_eq", "k_eq", "m_ncdm_tot", "Omega_m"])
    assert 3300 < d["z_eq"] < 3500 and d["k_eq"] == pytest.approx(float(c.k_eq))
    assert d["m_ncdm_tot"] == pytest.approx(0.06, rel=1e-4)  # CLASS: Omega_ncdm h^2 93.14 eV
    assert c.Om_m(0.0) == pytest.approx(d["Omega_m"], rel=1e-7)  # table vs 64-node ncdm quadrature
    assert c.Om_b(0.0) + c.Om_cdm(0.0) + c.Om_ncdm(0.0) == pytest.approx(d["Omega_m"], rel=1e-4)
    assert -3 < c.pk_tilt(0.1, 0.0) < 0 and 0.5 < c.scale_dependent_growth_factor_D(0.1, 1.0) < 0.7
    assert c.effective_f_sigma8_spline(0.5) == pytest.approx(c.effective_f_sigma8(0.5), rel=2e-2)
    prim = c.get_primordial()
    assert prim["k [1/Mpc]"][0] == pytest.approx(1e-4) and np.all(prim["P_scalar(k)"] > 0)
    assert c.density_factor == pytest.approx(1.6881743146153584e-19, rel=1e-12)  # classy's value


def test_conformance_table_is_current():
    import importlib.util
    import os

    root = os.path.join(os.path.dirname(__file__), "..")
    spec = importlib.util.spec_from_file_location("conformance_table", os.path.join(root, "tools",
                                                                                   "conformance_table.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with open(os.path.join(root, "docs", "conformance.md")) as f:
        assert f.read() == mod.table(), "docs/conformance.md is stale: run python tools/conformance_table.py"


def test_unconverged_root_solve_is_reported(monkeypatch):
    """An input fixed by a root solve that the computed cosmology does not meet raises CosmoComputationError
    naming the input (the solver runs with throw=False inside jit)."""
    from types import SimpleNamespace

    import boltzax.thermo.thermodynamics as T
    from boltzax import CosmoComputationError, from_class_dict
    from boltzax.classy_api.lifecycle import _check_roots

    params, _ = from_class_dict({"100*theta_s": 1.9})
    res = SimpleNamespace(params=params.replace(h=1.4), thermo=None)
    monkeypatch.setattr(T, "derived_parameters", lambda th: {"100*theta_s": 1.3, "tau_reio": 0.0543,
                                                             "z_reio": 7.7})
    with pytest.raises(CosmoComputationError, match=r"100\*theta_s"):
        _check_roots(params, res)
    params, _ = from_class_dict({"tau_reio": 0.2})
    with pytest.raises(CosmoComputationError, match="tau_reio"):
        _check_roots(params, SimpleNamespace(params=params, thermo=None))


def test_sigma8_and_S8_as_inputs(cosmo_pk):
    base = {k: v for k, v in PLANCK18.items() if k != "ln10^{10}A_s"}
    extra = {"recombination": "recfast", "output": "mPk", "P_k_max_1/Mpc": 6, "z_max_pk": 1.0}
    for name, value in (("sigma8", 0.75), ("S8", 0.8)):
        c = Class(precision="fast")
        c.set({**base, **extra, name: value})
        assert float(getattr(c, name)) == pytest.approx(value, rel=1e-10)
        # P is proportional to A_s: the same cosmology as cosmo_pk up to the amplitude
        ratio = c.get_current_derived_parameters(["A_s"])["A_s"] / cosmo_pk.get_current_derived_parameters(["A_s"])["A_s"]
        assert c.pk_lin(0.1, 0.5) == pytest.approx(ratio * cosmo_pk.pk_lin(0.1, 0.5), rel=1e-10)
    c = Class()
    c.set({"sigma8": 0.8})
    with pytest.raises(CosmoSevereError, match="sigma8"):
        c.compute()


# ------------------------------------------------------------------------------ values against classy
CLASSY_API_REF = os.path.join(os.path.dirname(__file__), "reference", "classy_api", "values.npz")


@pytest.fixture(scope="module")
def classy_api_ref():
    assert os.path.exists(CLASSY_API_REF), "missing: run tools/make_classy_api_reference.py"
    return dict(np.load(CLASSY_API_REF))


@pytest.mark.parametrize("name", ["fid", "ncdm3", "ok_neg_w0wa"])
def test_new_accessors_match_classy(name, classy_api_ref):
    """Derived parameters, Om_*(z), equality and unit constants against classy 3.4.1 (1e-4, the background
    target; fast preset, RECFAST as the reference)."""
    ref = classy_api_ref
    c = Class(precision="fast")
    c.set(json.loads(str(ref[f"{name}/input"])))
    prefix = f"{name}/derived/"
    names = [k[len(prefix):] for k in ref if k.startswith(prefix)]
    got = c.get_current_derived_parameters(names)
    for n in names:
        assert got[n] == pytest.approx(float(ref[prefix + n]), rel=1e-4, abs=1e-12), n
    for f in ("Om_m", "Om_b", "Om_cdm", "Om_ncdm"):
        np.testing.assert_allclose(getattr(c, f)(ref["Z"]), ref[f"{name}/{f}"], rtol=1e-4, atol=1e-12, err_msg=f)
    assert float(c.z_eq) == pytest.approx(float(ref[f"{name}/z_eq"]), rel=1e-4)
    assert float(c.k_eq) == pytest.approx(float(ref[f"{name}/k_eq"]), rel=1e-4)
    for u in [k[6:] for k in ref if k.startswith("units/")]:
        assert getattr(c, u) == pytest.approx(float(ref["units/" + u]), rel=1e-14), u
