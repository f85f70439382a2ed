"""Linear P(k, z) from boltzax's own background, thermodynamics and perturbations against CLASS v3.4.1
(tests/reference, `pk` family: output = mPk), at cosmologies spread over the box: one massive neutrino
(0.06, 0.3 eV), two massive species, w0wa crossing -1 (PPF) and positive curvature.  Modes are solved
exactly at reference wavenumbers (no k interpolation); the end-to-end classy path (k sampling +
interpolation, sigma8) is tested on one cosmology, AD against finite differences on three."""

import numpy as np
import pytest

import jax
import jax.numpy as jnp

import boltzax
from boltzax.fourier import primordial_PR, transfer_grid
from boltzax.perturbations import tables_from_boltzax
from boltzax.testing import load_reference, reference_class_input, reference_params

PREC = boltzax.get_precision("default")
PP = PREC.perturbations
K_IDX = np.linspace(22, 259, 10).astype(int)  # 10 reference wavenumbers 5e-4 ... 5 /Mpc
COSMOS = ("fid", "lcdm_5", "ncdm2", "w0wa_2", "ok_pos")


@pytest.fixture(scope="module")
def transfer_fn():
    def f(params):
        res = boltzax.compute(params, PREC)
        tab = tables_from_boltzax(res.background, res.thermo, PP, PP.n_q_ncdm, res.params.cs2_fld)
        return res.params, tab

    def g(tab, k, z):
        return transfer_grid(k, z, tab, PP)

    return f, jax.jit(g)


@pytest.mark.parametrize("name", COSMOS)
def test_pk_lin_matches_class(transfer_fn, name):
    """P_m and P_cb at 10 wavenumbers 5e-4 <= k <= 5 /Mpc x z = 0, 0.5, 1, 2: 1e-3."""
    ref = load_reference(name)
    setup, solve = transfer_fn
    params, tab = setup(reference_params(name))
    k = jnp.asarray(ref["pk/k"][K_IDX])
    z = jnp.asarray(ref["pk/z"])
    dm, dcb = solve(tab, k, z)
    norm = (2 * np.pi**2 / k**3 * primordial_PR(params, k))[:, None]
    tol = 1e-3
    for d, key in ((dm, "pk/lin"), (dcb, "pk/cb_lin")):
        err = np.abs(np.asarray(norm * d**2).T / ref[key][:, K_IDX] - 1)
        assert np.all(err < tol), (name, key, err.max(axis=0))


def test_classy_pk_and_sigma8():
    """The classy path: output = mPk, pk_lin / pk_cb_lin interpolated from the solved grid, sigma8."""
    name = "lcdm_5"
    ref = load_reference(name)
    c = boltzax.Class()
    c.set(reference_class_input(name, "pk"))
    c.compute()
    k = np.asarray(ref["pk/k"])
    sel = (k >= 5e-4) & (k <= 1.0)
    for j, z in enumerate(np.asarray(ref["pk/z"])):
        P = np.array([c.pk_lin(kk, z) for kk in k[sel]])
        Pcb = np.array([c.pk_cb_lin(kk, z) for kk in k[sel]])
        assert np.max(np.abs(P / ref["pk/lin"][j, sel] - 1)) < 1e-3
        assert np.max(np.abs(Pcb / ref["pk/cb_lin"][j, sel] - 1)) < 1e-3
    assert abs(float(c.sigma8) / float(ref["pk/sigma8"]) - 1) < 3e-4
    assert abs(float(c.sigma8_cb) / float(ref["pk/sigma8_cb"]) - 1) < 3e-4
    with pytest.raises(boltzax.CosmoSevereError):
        c.pk_lin(10.0, 0.0)  # beyond P_k_max_1/Mpc


def test_pk_gradient_matches_finite_differences():
    """d P_m(k, z=0) / d(omega_cdm, m_ncdm) by forward-mode AD through background, thermodynamics and
    perturbations equals central finite differences (1e-3 relative) at two wavenumbers, at three
    cosmologies (one compilation: the base cosmology is an argument).  The 'fast' preset keeps the
    compilation short: the derivative of the discrete solution is what is checked."""
    from boltzax.testing import pk_jacobian_fn

    fields = ("omega_cdm", "m_ncdm")
    f_jit, jac_jit = pk_jacobian_fn()
    for cosmo in ("lcdm_1", "fid", "lcdm_5"):
        base = reference_params(cosmo)
        x0 = jnp.array([base.omega_cdm, jnp.ravel(base.m_ncdm)[0]])  # m_ncdm keeps its (n_ncdm,) shape
        jac = jac_jit(x0, base)  # (n_k, 2)
        for i, h in enumerate((1e-4, 1e-3)):
            e = jnp.zeros(2).at[i].set(h)
            fd = (f_jit(x0 + e, base) - f_jit(x0 - e, base)) / (2 * h)
            np.testing.assert_allclose(np.asarray(jac[:, i]), np.asarray(fd), rtol=1e-3,
                                       err_msg=f"{cosmo} {fields[i]}")
    # issue 17: the same program at random points of the box widened by 20 % (h, omega_b, omega_cdm, A_s,
    # n_s, tau_reio, N_ur, Omega_k, m_ncdm drawn; fixed seed): finite values and gradients, or the input is
    # refused naming the parameter
    from boltzax import CosmoSevereError, from_class_dict
    from boltzax.testing import ROBUSTNESS_BOX, ROBUSTNESS_M_NCDM, ROBUSTNESS_WIDEN

    rng = np.random.default_rng(8)
    widened = {n: (lo - ROBUSTNESS_WIDEN * (hi - lo), hi + ROBUSTNESS_WIDEN * (hi - lo))
               for n, (lo, hi) in {**ROBUSTNESS_BOX, "m_ncdm": ROBUSTNESS_M_NCDM}.items()
               if n not in ("w0_fld", "wa_fld", "r")}
    checked = 0
    for _ in range(4):
        d = {n: round(float(rng.uniform(*b)), 6) for n, b in widened.items()} | {"N_ncdm": 1}
        try:
            base, _ = from_class_dict(d)
        except CosmoSevereError as e:
            assert any(f"'{n}'" in str(e) for n in d), str(e)
            continue
        x0 = jnp.array([base.omega_cdm, jnp.ravel(base.m_ncdm)[0]])
        val, jac = np.asarray(f_jit(x0, base)), np.asarray(jac_jit(x0, base))
        assert np.all(np.isfinite(val)) and np.all(val > 0) and np.all(np.isfinite(jac)), (d, val, jac)
        checked += 1
    assert checked >= 2, "too few accepted points"
