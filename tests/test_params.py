"""CLASS input names -> CosmoParams: defaults, aliases, closure rules and clear errors."""

import math

import jax
import numpy as np
import pytest

from boltzax import CosmoSevereError, from_class_dict
from boltzax.constants import nu_over_gamma, omega_gamma
from boltzax.params import CLASS_DEFAULTS, PLANCK18


def test_defaults_are_class_defaults():
    p, req = from_class_dict({})
    assert float(p.h) == CLASS_DEFAULTS["h"]
    assert float(p.omega_b) == CLASS_DEFAULTS["omega_b"]
    assert float(p.N_ur) == pytest.approx(3.044)
    assert p.n_ncdm == 0 and p.closure == "lambda" and p.YHe_from_bbn and p.reio_from_tau
    assert p.recombination == "hyrec"
    assert req.output == ()


def test_aliases():
    p1, _ = from_class_dict({"H0": 70.0, "Omega_b": 0.05, "Omega_cdm": 0.25, "ln10^{10}A_s": 3.0})
    assert float(p1.h) == pytest.approx(0.7)
    assert float(p1.omega_b) == pytest.approx(0.05 * 0.49)
    assert float(p1.omega_cdm) == pytest.approx(0.25 * 0.49)
    assert float(p1.A_s) == pytest.approx(math.exp(3.0) * 1e-10)
    p2, _ = from_class_dict({"omega_ur": nu_over_gamma * omega_gamma(2.7255) * 2.5})
    assert float(p2.N_ur) == pytest.approx(2.5)


def test_ncdm_lists_and_strings():
    p, _ = from_class_dict({"N_ncdm": 3, "m_ncdm": "0.01, 0.02,0.05", "deg_ncdm": [1, 1, 1], "N_ur": 0.00441})
    np.testing.assert_allclose(np.asarray(p.m_ncdm), [0.01, 0.02, 0.05])
    np.testing.assert_allclose(np.asarray(p.T_ncdm), [0.71611] * 3)
    with pytest.raises(CosmoSevereError, match="m_ncdm"):
        from_class_dict({"N_ncdm": 2, "m_ncdm": "0.06"})
    with pytest.raises(CosmoSevereError, match="m_ncdm"):
        from_class_dict({"m_ncdm": 0.06})


def test_closure_rules():
    p, _ = from_class_dict({"Omega_Lambda": 0.0, "w0_fld": -0.9, "wa_fld": 0.1})
    assert p.closure == "fld" and p.has_fld
    p, _ = from_class_dict({"Omega_fld": 0.1})
    assert p.closure == "lambda" and p.has_fld
    with pytest.raises(CosmoSevereError, match="Omega_Lambda"):
        from_class_dict({"Omega_Lambda": 0.7, "Omega_fld": 0.0})
    with pytest.raises(CosmoSevereError, match="w0_fld"):
        from_class_dict({"w0_fld": -0.9})


@pytest.mark.parametrize(
    "bad, name",
    [
        ({"no_such_param": 1}, "no_such_param"),
        ({"h": 0.7, "H0": 70}, "H0"),
        ({"h": 3.0}, "h"),
        ({"omega_b": 0.5}, "omega_b"),
        ({"YHe": 0.9}, "YHe"),
        ({"tau_reio": 0.05, "z_reio": 8}, "z_reio"),
        ({"recombination": "cosmorec"}, "recombination"),
        ({"output": "tCl,xyz"}, "output"),
        ({"h": "abc"}, "h"),
        ({"non linear": "foo"}, "non_linear"),
    ],
)
def test_errors_name_the_parameter(bad, name):
    with pytest.raises(CosmoSevereError, match=name):
        from_class_dict(bad)


def test_request_parsing():
    _, req = from_class_dict({"output": "tCl, pCl,lCl mPk", "lensing": "yes", "z_pk": "0, 0.5,1",
                              "P_k_max_h/Mpc": 2.0, "h": 0.7, "non linear": "halofit"})
    assert req.output == ("tCl", "pCl", "lCl", "mPk") and req.lensing
    assert req.z_pk == (0.0, 0.5, 1.0) and req.P_k_max == pytest.approx(1.4)
    assert req.non_linear == "halofit"


def test_params_is_a_pytree():
    p, _ = from_class_dict(PLANCK18)
    leaves, tree = jax.tree_util.tree_flatten(p)
    assert all(np.asarray(x).dtype == np.float64 for x in leaves)
    q = jax.tree_util.tree_unflatten(tree, leaves)
    assert q.n_ncdm == 1 and float(q.N_ur) == pytest.approx(2.0328)
    assert float(jax.grad(lambda pp: pp.h * pp.omega_b)(p).h) == pytest.approx(float(p.omega_b))


def test_ppf_options():
    """CLASS's PPF scheme (use_ppf = yes, c_gamma_over_c_fld = 0.4) is accepted; the plain fluid is refused
    with an error naming the parameter."""
    base = {"Omega_Lambda": 0.0, "w0_fld": -0.9, "wa_fld": 0.1}
    from_class_dict(dict(base, use_ppf="yes", c_gamma_over_c_fld=0.4))
    for bad in ({"use_ppf": "no"}, {"c_gamma_over_c_fld": 0.5}):
        with pytest.raises(CosmoSevereError, match=list(bad)[0]):
            from_class_dict(dict(base, **bad))
