"""Native (h/Mpc-consistent) API of boltzax.pt: closed-form kernels, consistency with the
CLASS-PT layer, bias assembly / vmap, and AD gradients vs finite differences."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import boltzax  # noqa: F401  (x64)
from boltzax.pt import bias, classpt_api as cpt, fftlog, kernels, spectra

REF = Path(__file__).parent / "reference" / "classpt" / "classpt_ref.npz"
KH = np.linspace(0.005, 0.30, 60)  # the reference k grid (h/Mpc)


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(REF))


def test_kernels_match_closed_forms():
    """Our exact derivation reproduces Simonovic et al. 2018 (arXiv:1708.08130): M22 of F2^2 and
    M13 of F3, the UV limit -61/105 k^2 sigma_v^2 P, and the bias-operator ratios."""
    nu = -0.5 * fftlog.etas(fftlog.B_MATTER)[::16]
    n1, n2 = nu[:, None], nu[None, :]
    n12 = n1 + n2
    I = kernels.master_I(n1, n2)
    s18 = ((1.5 - n12) * (0.5 - n12) * (n1 * n2 * (98 * n12 ** 2 - 14 * n12 + 36) - 91 * n12 ** 2
                                        + 3 * n12 + 58)
           / (196 * n1 * (1 + n1) * (0.5 - n1) * n2 * (1 + n2) * (0.5 - n2))) * I
    k22 = kernels.p22_kernels()
    direct = 2 * sum(float(c) * kernels.master_I(n1 - a, n2 - b) for (a, b), c in k22["mm"][(0, 0, 2)].items())
    assert np.abs(direct / s18 - 1).max() < 1e-6  # term-by-term sum vs factorised form
    logc, cuv = kernels.p13_kernels()["mm"][(0, 0, 2)]
    m13 = kernels.m13_vector(logc, nu)
    s18_13 = (1 + 9 * nu) / 4 * np.tan(nu * np.pi) / (28 * np.pi * (nu + 1) * nu * (nu - 1) * (nu - 2) * (nu - 3))
    assert np.abs(m13 / s18_13 - 1).max() < 1e-10
    assert cuv == Fraction(61, 105)
    # redshift-space UV coefficients (mu^2n, f^p, b1^q): CLASS-PT's values, derived independently
    uv = {k: v[1] for k, v in kernels.p13_kernels()["mm"].items()}
    assert uv[(2, 1, 2)] == Fraction(-6, 105) and uv[(2, 2, 2)] == 1
    assert uv[(4, 2, 0)] == Fraction(63, 35) and uv[(6, 4, 0)] == 1
    # d2G2 = 2 int S P P: (3 - 2 nu12)/(nu1 nu2) I (Simonovic et al. 2018 app. / CLASS-PT M_Id2G2)
    M = 2 * sum(float(c) * kernels.master_I(n1 - a, n2 - b) for (a, b), c in k22["d2G2"][(0, 0, 0)].items())
    assert np.abs(M / ((3 - 2 * n12) / (n1 * n2) * I) - 1).max() < 1e-10


@pytest.fixture(scope="module")
def native():
    """One jitted function for every cosmology: all pieces at the 3 redshifts (vmap over z)."""
    mats = spectra.loop_matrices()

    def one(pk, f, h, rs, hr, Dr):
        return bias.pieces_at_k(spectra.components(pk, f, h, rs, hr, Dr, mats), KH)

    return jax.jit(jax.vmap(one, in_axes=(0, 0, None, None, 0, 0)))


def _args(R, c):
    h = R["h"][c]
    return (jnp.asarray(R["pk_lin_cb_fftlog"][c] * h ** 3), jnp.asarray(R["f_z"][c]), h,
            R["rs_drag"][c], jnp.asarray(R["AP_hratio"][c]), jnp.asarray(R["AP_Dratio"][c]))


def test_native_vs_classpt(ref, native):
    """Native path (linear P on the FFTLog nodes, one spline stage, h/Mpc units) vs CLASS-PT at
    all cosmologies and redshifts: agreement at the level of CLASS-PT's own input noise
    (< 1.5e-2 of each piece's amplitude, see
    test_pt_classpt.test_classpt_interpolation_noise_is_reproduced)."""
    assert np.allclose(ref["k_h"], KH)
    worst = 0.0
    for c in range(ref["h"].size):
        h = ref["h"][c]
        conv = np.full(48, h ** 3)
        conv[10:14] = h
        out = np.asarray(native(*_args(ref, c)))
        for iz in range(3):
            ours = out[iz] / conv[:, None]
            theirs = ref["pk_mult"][c, iz]
            err = np.abs(ours[:40] - theirs[:40]).max(1) / np.abs(theirs[:40]).max(1)
            worst = max(worst, err.max())
            assert err.max() < 1.5e-2, (c, iz, int(err.argmax()), err.max())
    print(f"native path vs CLASS-PT, 13 cosmologies x 3 z: {worst:.1e}")


def test_native_assembly_matches_classpt_wrappers(ref):
    """bias.all_spectra (native units) == CLASS-PT's wrappers on the same pieces, once CLASS-PT's
    unit quirks are undone: b4_native = h^2 b4_CLASS-PT, and 1/4 b2^2 Pd2d2_0 removed."""
    c, iz = 3, 1
    h, f = ref["h"][c], ref["f_z"][c, iz]
    n = int(ref["n_pt"][c])
    pt = cpt.ClassPT(np.exp(ref["lnpk_pt"][c][:, :n]), ref["f_z"][c], h, ref["rs_drag"][c],
                     ref["z"], ref["tau0"][c], ref["rs_rec"][c], H_z=ref["H_z"][c],
                     DA_z=ref["DA_z"][c], Omega_g=ref["Omega_g"][c])
    B = json.loads(str(ref["bias"]))
    pt.initialize_output(ref["k_h"] * h, ref["z"][iz])
    pm = pt._pm
    conv = np.full(48, h ** 3)
    conv[10:14] = h
    cpieces = pm[:48] * conv[:, None]  # native units, same k points (h/Mpc)
    p = bias.BiasParams(b1=B["b1"], b2=B["b2"], bG2=B["bG2"], bGamma3=B["bGamma3"], cs=0.7,
                        cs0=B["cs0"], cs2=B["cs2"], cs4=B["cs4"], Pshot=B["Pshot"],
                        b4=B["b4"] * h ** 2)
    out = bias.all_spectra(cpieces, ref["k_h"], f, p)
    b = (p.b1, p.b2, p.bG2, p.bGamma3)
    gg0 = pt.pk_gg_l0(*b, p.cs0, p.Pshot, 0.0, 0.0, B["b4"]) - 0.25 * p.b2 ** 2 * pt._pd2d2
    np.testing.assert_allclose(out["gg_l0"], gg0, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out["gg_l2"], pt.pk_gg_l2(*b, p.cs2, 0.0, B["b4"]), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out["gg_l4"], pt.pk_gg_l4(*b, p.cs4, B["b4"]), rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(out["mm_real"], pt.pk_mm_real(0.7), rtol=1e-12)
    np.testing.assert_allclose(out["gg_real"], pt.pk_gg_real(*b, 0.7, p.cs0, p.Pshot), rtol=1e-12)
    np.testing.assert_allclose(out["gm_real"], pt.pk_gm_real(*b, 0.7, p.cs0), rtol=1e-12)
    # vmap over a batch of bias parameters (e.g. for marginalisation)
    batch = jax.tree_util.tree_map(lambda x: jnp.full(5, x) * jnp.linspace(0.9, 1.1, 5), p)
    vm = jax.vmap(lambda q: bias.all_spectra(cpieces, ref["k_h"], f, q)["gg_l0"])(batch)
    assert vm.shape == (5, ref["k_h"].size)
    np.testing.assert_allclose(vm[2], out["gg_l0"], rtol=1e-12)


@pytest.mark.parametrize("c", [0, 5, 11])
def test_gradients_vs_finite_differences(ref, native, c):
    """AD vs central differences at three cosmologies: derivatives of the galaxy multipoles with
    respect to the amplitude of the linear spectrum (P -> A P, a proxy for A_s / sigma_8), the
    growth rate f, h, r_s(z_drag) and the bias parameters."""
    pk, f, h, rs, hr, Dr = _args(ref, c)
    p0 = bias.BiasParams(b1=2.0, b2=-1.0, bG2=0.1, bGamma3=-0.1, cs0=5.0, cs2=30.0, cs4=1.0,
                         Pshot=3000.0, b4=100.0)

    def model(theta, p=p0):
        A, df, hh, rr = theta  # df: shift of f at all three redshifts
        pieces = native(A * pk, f + df, hh, rr, hr, Dr)
        out = [bias.p_gg_ell(pieces[i], KH, f[i] + df, p) for i in range(3)]
        return jnp.concatenate([jnp.concatenate(o) for o in out])

    theta = jnp.array([1.0, 0.0, h, rs])
    J = jax.jacfwd(model)(theta)
    for i, eps in enumerate((1e-4, 1e-4, 1e-6, 1e-3)):
        d = jnp.zeros(4).at[i].set(eps)
        fd = (model(theta + d) - model(theta - d)) / (2 * eps)
        scale = np.abs(np.asarray(fd)).max()
        assert np.abs(np.asarray(J[:, i] - fd)).max() / scale < 1e-6, (c, i)

    pieces = native(pk, f, h, rs, hr, Dr)[1]

    def of_bias(v):
        return jnp.concatenate(bias.p_gg_ell(pieces, KH, f[1], bias.BiasParams(*v)))

    v0 = jnp.asarray(p0, dtype=float)
    Jb = jax.jacfwd(of_bias)(v0)
    for i in range(v0.size):
        d = jnp.zeros(v0.size).at[i].set(1e-3)
        fd = (of_bias(v0 + d) - of_bias(v0 - d)) / 2e-3
        assert np.abs(np.asarray(Jb[:, i] - fd)).max() <= 1e-6 * max(np.abs(np.asarray(fd)).max(), 1.0)


def test_real_form_equals_complex_form(ref):
    """The real coordinates used by `spectra` (conjugate symmetry of the FFTLog coefficients)
    give the same quadratic and linear forms as the complex reference form."""
    h = ref["h"][0]
    pk = jnp.asarray(ref["pk_lin_cb_fftlog"][0, 0] * h ** 3)
    M = kernels.m22_matrix(kernels.p22_kernels()["mm"][(0, 0, 2)],
                                           -0.5 * fftlog.etas(fftlog.B_MATTER))
    X = fftlog.x_matrix(pk, fftlog.B_MATTER)
    Y = fftlog.y_matrix(pk, fftlog.B_MATTER)
    qc = np.asarray(fftlog.quad_form(M, X))
    qr = np.asarray(jnp.sum(Y * (fftlog.to_real_quadratic(M) @ Y), axis=0))
    np.testing.assert_allclose(qr, qc, rtol=1e-9, atol=1e-12 * np.abs(qc).max())
    m13 = kernels.m13_vector(kernels.p13_kernels()["mm"][(0, 0, 2)][0], -0.5 * fftlog.etas(fftlog.B_MATTER))
    np.testing.assert_allclose(np.asarray(fftlog.to_real_linear(m13) @ Y),
                               np.asarray(fftlog.dot13(m13, X)), rtol=1e-9, atol=1e-14)
