"""Failure modes (issue 17): each test provokes one failure and checks the error type and that the message
names the parameter or quantity and, where there is one, the allowed range.

Input errors are `CosmoSevereError` raised before any computation; numerical failures of valid input are
`CosmoComputationError` naming the quantity and the cosmology; the native API reports the same failures in
``status`` fields (`boltzax.status`).  Computations use the "fast" preset (logic, not accuracy)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from boltzax import Class, CosmoComputationError, CosmoSevereError, from_class_dict
from boltzax import status as bst
from boltzax.params import PLANCK18

PK = {"output": "mPk", "P_k_max_1/Mpc": 1.0}


def _named(msg: str, *words: str) -> bool:
    return all(w in msg for w in words)


# ------------------------------------------------------------------------------ input hygiene (no compute)
SEVERE = [  # (input dict, words the message must contain)
    ({"h": "abc"}, ("'h'", "abc")),
    ({"h": ""}, ("'h'",)),
    ({"h": "  "}, ("'h'",)),
    ({"omega_cdm": [0.1, 0.2]}, ("'omega_cdm'", "list")),
    ({"n_s": {"a": 1}}, ("'n_s'", "dict")),
    ({"tau_reio": None}, ("'tau_reio'", "None")),
    ({"A_s": True}, ("'A_s'",)),
    ({"h": float("inf")}, ("'h'", "finite")),
    ({"N_ncdm": "two", "m_ncdm": 0.06}, ("'N_ncdm'",)),
    ({"N_ncdm": 1, "m_ncdm": "0.06,0.06"}, ("'m_ncdm'", "2 entries", "N_ncdm = 1")),
    ({"N_ncdm": 3, "m_ncdm": "0.06, 0.1"}, ("'m_ncdm'", "2 entries", "N_ncdm = 3")),
    ({"N_ncdm": 2, "m_ncdm": ""}, ("'m_ncdm'", "empty")),
    ({"N_ncdm": 2, "m_ncdm": "0.1,,0.1"}, ("'m_ncdm'", "empty")),
    ({"N_ncdm": 2, "m_ncdm": "0.1, 0.1", "T_ncdm": "0.7"}, ("'T_ncdm'", "1 entries")),
    ({"m_ncdm": 0.06}, ("'m_ncdm'", "N_ncdm")),
    ({"N_ncdm": 11, "m_ncdm": 0.1}, ("'N_ncdm'", "[0, 10]")),
    ({"h": 0.7, "100*theta_s": 1.04}, ("'h'", "'100*theta_s'")),
    ({"H0": 70, "h": 0.7}, ("'h'", "'H0'")),
    ({"A_s": 2e-9, "ln10^{10}A_s": 3.0}, ("'A_s'", "'ln10^{10}A_s'")),
    ({"Omega_Lambda": 0.7, "Omega_fld": 0.0, "Omega_k": 0.0}, ("'Omega_Lambda'", "'Omega_fld'")),
    ({"Omega_b": 0.05, "omega_b": 0.022}, ("'omega_b'", "'Omega_b'")),
    ({"tau_reio": 0.05, "z_reio": 8}, ("'tau_reio'", "'z_reio'")),
    ({"output": "tCl", "l_max_scalars": 20000}, ("'l_max_scalars'", "[2, 10000]")),
    ({"output": "tCl", "l_max_scalars": 1}, ("'l_max_scalars'", "[2, 10000]")),
    ({"output": "tCl", "l_max_scalars": 2500.5}, ("'l_max_scalars'", "integer")),
    ({**PK, "P_k_max_1/Mpc": 500}, ("'P_k_max_1/Mpc'", "[0.001, 100.0]")),
    ({**PK, "P_k_max_1/Mpc": 0}, ("'P_k_max_1/Mpc'", "[0.001, 100.0]")),
    ({"output": "mPk", "P_k_max_h/Mpc": 1000}, ("'P_k_max_h/Mpc'", "[0.001, 100.0]")),
    ({**PK, "z_pk": "0, 3", "z_max_pk": 2}, ("'z_pk'", "'z_max_pk'")),
    ({**PK, "z_pk": 2000}, ("'z_pk'", "[0.0, 1000.0]")),
    ({**PK, "z_pk": -0.5}, ("'z_pk'", "[0.0, 1000.0]")),
    ({"h": -0.7}, ("'h'", "[0.3, 1.5]")),
    ({"Omega_k": 2.0}, ("'Omega_k'", "[-0.5, 0.5]")),
    ({"omega_b": 0.5}, ("'omega_b'", "[0.005, 0.039]")),
    ({"N_ur": -1}, ("'N_ur'", "[0.0, 20.0]")),
    ({"m_ncdm": 60, "N_ncdm": 1}, ("'m_ncdm'", "[0.0, 50.0]")),
    ({"Omega_Lambda": 0, "w0_fld": 0.5}, ("'w0_fld'",)),
    ({"Omega_Lambda": 0, "w0_fld": -0.5, "wa_fld": 1.0}, ("'w0_fld'", "'wa_fld'", "< 0.333333")),
    ({"Omega_Lambda": 0, "w0_fld": 0.2, "wa_fld": 0.2}, ("'w0_fld'", "'wa_fld'", "< 0.333333")),
    ({"omega_b": 0.036}, ("'omega_b'", "BBN", "[0.0073, 0.03287]")),
    ({"omega_b": 0.006}, ("'omega_b'", "BBN", "[0.0073, 0.03287]")),
    ({"N_ur": 8.0}, ("'N_ur'", "BBN", "[0.046, 6.046]")),
    ({"N_ur": 3.0, "N_ncdm": 3, "m_ncdm": "0.1,0.1,0.1", "deg_ncdm": "2,2,2"}, ("'N_ur'", "BBN")),
    ({"YHe": 0.9}, ("'YHe'", "[0.01, 0.5]")),
    ({"sigma8": 5.0, "output": "mPk"}, ("'sigma8'", "[0.1, 3.0]")),
    ({"100*theta_s": 3.0}, ("'100*theta_s'", "[0.5, 2.0]")),
]


@pytest.mark.parametrize("bad, words", SEVERE, ids=[str(i) for i in range(len(SEVERE))])
def test_input_errors_name_parameter_and_range(bad, words):
    """Raised by the parameter layer, before any computation, naming the parameter (and range)."""
    with pytest.raises(CosmoSevereError) as e:
        from_class_dict(bad, amplitude_from_sigma8=True)
    assert _named(str(e.value), *words), str(e.value)


def test_input_errors_through_class_before_computing():
    """`Class.compute` raises the same errors without computing anything (no results kept)."""
    c = Class(precision="fast")
    c.set({**PLANCK18, "Omega_Lambda": 0, "w0_fld": 0.3, "wa_fld": 0.1})
    with pytest.raises(CosmoSevereError, match="w0_fld"):
        c.compute()
    assert c._res is None and c._pk is None


def test_valid_edges_are_accepted():
    """The w0 + wa < 1/3 rule and the BBN table do not refuse the box of issue 17 (and 20 % beyond)."""
    from_class_dict({"Omega_Lambda": 0, "w0_fld": -0.3, "wa_fld": 0.6})  # w(a -> 0) = 0.3
    from_class_dict({"Omega_Lambda": 0, "w0_fld": -0.5, "wa_fld": -1.0})
    from_class_dict({"YHe": 0.25, "omega_b": 0.036})  # a fixed YHe needs no BBN table
    from_class_dict({"N_ur": 5.8})
    from_class_dict({"N_ur": 5.0, "N_ncdm": 1, "m_ncdm": 1.0})
    from_class_dict({"omega_b": 0.0274})


# ------------------------------------------------------------------------------ status flags (no compute)
def test_describe_status():
    assert bst.describe_status(0) == "ok"
    text = bst.describe_status(bst.NONFINITE_PK | bst.ROOT_MISS)
    assert "power spectrum" in text and "root solve" in text
    assert "unknown" in bst.describe_status(1 << 20)
    assert len(set(bst.FLAGS)) == len(bst.FLAGS) and all(f & (f - 1) == 0 for f in bst.FLAGS)  # one bit each


def test_where_ok_keeps_gradients_finite():
    """A failed point of a vmapped batch: the others' gradients are untouched (no coupling across the batch),
    and with where_ok the failed point's forward-mode derivative is 0, so a batch sum stays finite."""
    import jax
    import jax.numpy as jnp

    def loss(x):
        val = jnp.sqrt(x)  # NaN (and a NaN derivative) for x < 0
        status = jnp.where(x < 0, bst.NONFINITE_PK, 0)
        return bst.where_ok(status, val, 0.0)

    xs = jnp.array([4.0, -1.0, 9.0])
    np.testing.assert_allclose(jax.vmap(jax.jacfwd(loss))(xs), [0.25, 0.0, 1.0 / 6.0])
    np.testing.assert_allclose(jax.vmap(jax.grad(loss))(xs)[::2], [0.25, 1.0 / 6.0])  # reverse: others intact
    assert np.all(np.isfinite(jax.jacfwd(lambda v: jnp.sum(jax.vmap(loss)(v)))(xs)))


def test_cosmology_summary_names_parameters():
    p, _ = from_class_dict({**PLANCK18, "Omega_Lambda": 0, "w0_fld": -0.9})
    s = bst.cosmology_summary(p)
    for name in ("h = 0.673212", "omega_b", "omega_cdm", "Omega_k", "m_ncdm = [0.06]", "w0_fld = -0.9", "tau_reio"):
        assert name in s, s


# ------------------------------------------------------------------------------ computations (fast preset)
@pytest.fixture(scope="module")
def fid():
    c = Class(precision="fast")
    c.set({**PLANCK18, **PK})
    c.compute()
    return c


def test_native_status_is_zero_for_a_good_cosmology(fid):
    assert int(fid._res.status) == 0 and int(fid._pk.status) == 0


def test_native_status_flags_failures(fid):
    """results_status on tables with a NaN, a recombination outside 500-2000, a missed root, BBN range."""
    import equinox as eqx
    import jax.numpy as jnp

    from boltzax.pipeline import results_status

    res, p = fid._res, fid._res.params
    assert int(results_status(p, p, res.background, res.thermo)) == 0
    bg = eqx.tree_at(lambda b: b.H_table, res.background, res.background.H_table.at[3].set(jnp.nan))
    assert int(results_status(p, p, bg, res.thermo)) & bst.NONFINITE_BACKGROUND
    th = eqx.tree_at(lambda t: t.x_e, res.thermo, res.thermo.x_e.at[5].set(jnp.inf))
    assert int(results_status(p, p, res.background, th)) & bst.NONFINITE_THERMO
    th = eqx.tree_at(lambda t: t.z_rec, res.thermo, jnp.asarray(2500.0))
    assert int(results_status(p, p, res.background, th)) == bst.RECOMBINATION_RANGE
    assert int(results_status(p.replace(tau_reio=jnp.asarray(0.2)), p, res.background, res.thermo)) == bst.ROOT_MISS
    assert int(results_status(p.replace(omega_b=jnp.asarray(0.04)), p, res.background, res.thermo)) == bst.BBN_RANGE


def test_closed_universe_starts_at_class_k_min():
    """Omega_k = -0.1 (closed, valid in CLASS): P(k) finite from CLASS's first mode sqrt((8 - 1e-4) K); a k
    below it raises naming k, the range and the closed-space rule."""
    c = Class(precision="fast")
    c.set({**PLANCK18, **PK, "Omega_k": -0.1})
    c.compute()
    K = float(c._res.background.K)
    k_min = np.sqrt((8.0 - 1e-4) * K)
    P, k, _ = c.get_pk_and_k_and_z()
    assert k[0] == pytest.approx(k_min, rel=1e-12) and np.all(np.isfinite(P)) and np.all(P > 0)
    assert np.isfinite(c.sigma8()) and np.isfinite(c.pk_lin(k_min, 0.0))
    with pytest.raises(CosmoSevereError, match=r"k = 0\.0001 1/Mpc outside the computed range.*closed"):
        c.pk_lin(1e-4, 0.0)


def test_nonfinite_power_spectrum_names_quantity_and_cosmology(monkeypatch):
    """A perturbation integration that leaves its valid range (a NaN in the P(k) table) raises
    CosmoComputationError naming P(k), the k and z, and the cosmology's parameters."""
    import boltzax.pipeline as pl

    real = pl.linear_power

    def broken(res, precision, z_nodes, k_max=1.0):
        lp = real(res, precision, z_nodes, k_max)
        return lp.__class__(k=lp.k, z=lp.z, ln_T2_m=lp.ln_T2_m.at[7, 0].set(np.nan), ln_T2_cb=lp.ln_T2_cb,
                            params=lp.params, f_m=lp.f_m, f_cb=lp.f_cb, status=lp.status)

    monkeypatch.setattr(pl, "linear_power", broken)
    c = Class(precision="fast")
    c.set({**PLANCK18, **PK})
    with pytest.raises(CosmoComputationError) as e:
        c.compute()
    msg = str(e.value)
    assert _named(msg, "non-finite linear power spectrum P_m", "k = ", "z = 0", "h = 0.673212", "omega_cdm", "m_ncdm")
    assert c._pk is None


def test_nonfinite_background_names_cosmology(monkeypatch):
    import equinox as eqx
    import jax.numpy as jnp

    import boltzax.pipeline as pl

    real = pl.compute

    def broken(params, precision=None, **kw):
        res = real(params, precision, **kw)
        return eqx.tree_at(lambda r: r.background.H_table, res, res.background.H_table * jnp.nan)

    monkeypatch.setattr(pl, "compute", broken)
    c = Class(precision="fast")
    c.set({**PLANCK18, **PK})
    with pytest.raises(CosmoComputationError, match=r"non-finite background.*cosmology: h = 0\.673212"):
        c.compute()


@pytest.mark.slow  # its own compilation (the 100*theta_s root solve): minutes cold
def test_theta_s_root_out_of_reach():
    """100*theta_s = 1.9 is in its allowed range but no h in [0.3, 1.5] gives it: the root solve's miss is a
    CosmoComputationError naming 100*theta_s and the range searched."""
    c = Class(precision="fast")
    d = {**PLANCK18, "100*theta_s": 1.9}
    del d["h"]
    c.set(d)
    with pytest.raises(CosmoComputationError) as e:
        c.compute()
    msg = str(e.value)
    assert "'100*theta_s' = 1.9" in msg and re.search(r"\[0\.3, 1\.5\]", msg), msg


def test_unconverged_roots_name_input_and_range(monkeypatch):
    """tau_reio (-> z_reio) and 100*theta_s (-> h) missed by the solver: CosmoComputationError naming the
    input, the unknown and its allowed range (the solvers run with throw=False inside jit)."""
    from types import SimpleNamespace

    import boltzax.thermo.thermodynamics as T
    from boltzax.classy_api.lifecycle import _check_roots

    params, _ = from_class_dict({"tau_reio": 0.2})
    monkeypatch.setattr(T, "derived_parameters", lambda th: {"100*theta_s": 1.04, "tau_reio": 0.15, "z_reio": 49.9})
    with pytest.raises(CosmoComputationError, match=r"'tau_reio' = 0\.2 did not converge.*z_reio.*\[0\.0, 50\.0\]"):
        _check_roots(params, SimpleNamespace(params=params, thermo=None))
    monkeypatch.setattr(T, "derived_parameters", lambda th: {"100*theta_s": 1.04, "tau_reio": 0.2, "z_reio": 60.0})
    with pytest.raises(CosmoComputationError, match=r"z_reio = 60.*outside the allowed range \[0\.0, 50\.0\]"):
        _check_roots(params, SimpleNamespace(params=params, thermo=None))


def test_sigma8_input_outside_reach_of_A_s(fid):
    """sigma8 as input: A_s is rescaled (exact, P is proportional to A_s); a target that needs A_s beyond its
    allowed range raises naming sigma8 and A_s's range."""
    from boltzax.classy_api.lifecycle import _meet_amplitude

    res, lp = _meet_amplitude(fid._res, fid._pk, ("sigma8", 0.5))
    assert float(lp.sigma(8.0 / float(res.params.h))) == pytest.approx(0.5, rel=1e-10)
    with pytest.raises(CosmoComputationError, match=r"'sigma8' = 0\.05 needs A_s.*\[1e-11, 1e-07\] of 'A_s'"):
        _meet_amplitude(fid._res, fid._pk, ("sigma8", 0.05))


def test_halofit_root_outside_bracket():
    """HaloFit's sigma(R) = 1 root beyond R_max = 1/halofit_min_k_nonlinear (CLASS halofit.c stops):
    CosmoComputationError naming sigma(R), the bracket and the precision parameter."""
    c = Class(precision="fast")
    c.set({**PLANCK18, **PK, "non_linear": "halofit", "halofit_min_k_nonlinear": 2.0})
    c.compute()
    with pytest.raises(CosmoComputationError, match=r"sigma\(R\) = 1 lies outside its bracket.*halofit_min_k_nonlinear"):
        c.pk(0.1, 0.0)


@pytest.mark.slow
def test_vmapped_batch_with_a_failing_point(fid):
    """Native API, a vmapped batch of three cosmologies where one fails (omega_cdm < 0: H^2 < 0 in the past):
    its status flags the failure, the others' sigma8 and forward-mode gradients equal the unbatched ones, and
    with where_ok the failed point's value and derivative are finite (0), not NaN."""
    import jax
    import jax.numpy as jnp

    from boltzax import compute, get_precision, planck18
    from boltzax.pipeline import linear_power

    prec = get_precision("fast")
    base = planck18()

    def sigma8(om):
        p = base.replace(omega_cdm=om)
        lp = linear_power(compute(p, prec), prec, (0.0,), 1.0)
        return bst.where_ok(lp.status, lp.sigma(8.0 / p.h), 0.0), lp.status

    xs = jnp.array([float(base.omega_cdm), 0.14, -0.2])
    vals, flags = jax.vmap(sigma8)(xs)
    grads = jax.vmap(jax.jacfwd(lambda x: sigma8(x)[0]))(xs)
    assert int(flags[0]) == 0 and int(flags[1]) == 0 and int(flags[2]) & bst.NONFINITE_BACKGROUND, flags
    assert float(vals[0]) == pytest.approx(fid.sigma8(), rel=1e-9) and float(vals[1]) > float(vals[0])
    assert float(vals[2]) == 0.0 and np.all(np.isfinite(grads)) and float(grads[2]) == 0.0
    assert 1.0 < float(grads[0]) / float(vals[0]) * 0.12 < 3.0, grads  # d ln sigma8 / d ln omega_cdm ~ 1.5


def test_closed_universe_curvature_factors_have_finite_derivatives():
    """CLASS's s_l = sqrt(max(1 - K (l^2 - 1)/k^2, 0)) is clipped for the high multipoles of the smallest k in a
    closed universe; forward mode through a plain sqrt(max(...)) gave inf x 0 = NaN (the sweep's NaN gradient
    of sigma8 at Omega_k = -0.0135, session 8).  Same values, finite derivatives."""
    import jax
    import jax.numpy as jnp

    from boltzax.perturbations.equations import s_l

    k, K = 1e-4, 1.02e-9  # K / k^2 = 0.102: s_l clipped from l = 4
    vals, tang = jax.jvp(lambda KK: s_l(k, KK, 12), (jnp.asarray(K),), (jnp.asarray(K),))
    l = np.arange(13)
    ref = np.sqrt(np.maximum(1.0 - K * (l * l - 1.0) / k ** 2, 0.0))
    np.testing.assert_array_equal(np.asarray(vals), ref)
    assert np.all(np.isfinite(np.asarray(tang))) and np.all(np.asarray(tang)[4:] == 0.0)
    g = jax.grad(lambda KK: jnp.sum(s_l(k, KK, 12)))(jnp.asarray(K))
    assert np.isfinite(float(g))
