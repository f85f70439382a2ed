"""The classy-compatible wrapper: lifecycle, errors, units and CallableFloat semantics.

Uses the "fast" precision preset (logic, not accuracy: accuracy is tested per module)."""

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
    c.set({"output": "tCl"})
    with pytest.raises(NotImplementedOutputError, match="tCl"):
        c.compute()
    with pytest.raises(NotImplementedOutputError):
        Class().raw_cl()


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
