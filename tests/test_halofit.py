"""HaloFit (non_linear = halofit) against CLASS v3.4.1 (tests/reference, `halofit` family: P_k_max_1/Mpc = 20).

* CLASS's k range (first and last perturbation wavenumber) from boltzax's background and thermodynamics;
* the HaloFit stage alone: CLASS's own linear P (stored on CLASS's k grid) through boltzax's HaloFit, all
  reference cosmologies, z = 0, 0.5, 1, 2 (and 3);
* end to end through `boltzax.Class`: P_m, P_cb at 5e-4 <= k <= 5 /Mpc, z = 0, 0.5, 1, 2, five cosmologies
  (0.3 eV neutrino, two species, w0wa crossing -1, Omega_k of both signs), classy's methods;
* gradients: jacfwd of P_nl through background, thermodynamics, perturbations and HaloFit against central
  finite differences ('fast' preset), and of the HaloFit stage alone (the implicit-function derivative of
  the nonlinear scale).
"""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import jax
import jax.numpy as jnp

import boltzax
from boltzax.nonlinear import halofit as hf
from boltzax.nonlinear.class_k_grid import n_points_max
from boltzax.testing import list_references, load_reference, reference_class_input, reference_params

PREC = hf.HalofitPrecision()
N_MAX = n_points_max(20.0, PREC.k_per_decade)
K_LO, K_HI = 5e-4, 5.0
E2E = ("lcdm_5", "ok_pos", "ok_neg", "ncdm2", "w0wa_2")


@pytest.fixture(scope="module")
def background():
    """Results (background + thermodynamics, default precision) per reference cosmology, cached."""
    cache = {}

    def get(name):
        if name not in cache:
            cache[name] = boltzax.compute(reference_params(name, "halofit"), "default")
        return cache[name]

    return get


@pytest.mark.parametrize("name", ("fid", "lcdm_5", "ok_pos", "ok_neg", "ncdm3", "w0wa_1"))
def test_class_k_range(background, name):
    """CLASS's first and last perturbation wavenumber (perturbations_get_k_list) to 1e-6: flat, open and
    closed k_min rules, BAO-aware log steps up to max(P_k_max, 5 /Mpc)."""
    ref = load_reference(name)
    k_min, k_last = jax.jit(hf.class_k_range, static_argnums=2)(background(name), 20.0, PREC)
    kc = ref["halofit/class_k"]
    assert abs(float(k_min) / kc[0] - 1) < 1e-6
    assert abs(float(k_last) / kc[-1] - 1) < 1e-6


@pytest.fixture(scope="module")
def stage():
    """HaloFit on a given linear P at CLASS's quadrature points (jitted once)."""

    @jax.jit
    def run(p_nodes, p_out, k_out, k_min, k_last, z, res, cb):
        kq, wq, _ = hf.quadrature(k_min, k_last, PREC, N_MAX)
        k_nl, n_eff, curv, comp, it = hf.nonlinear_scale(kq, wq, p_nodes, PREC)
        om, ov, w = hf.background_at(res.background, z)
        st = hf.HalofitState(k_nl=k_nl, n_eff=n_eff, curvature=curv, omega_m=om, omega_v=ov, w=w,
                             f_nu=jnp.where(cb, 0.0, hf.f_nu(res.background)), h=res.params.h,
                             computable=comp, iterations=it)
        return hf.halofit_pk(st, k_out, p_out, PREC), k_nl

    def quad_k(k_min, k_last):
        return np.asarray(hf.quadrature(k_min, k_last, PREC, N_MAX)[0])

    return run, quad_k


@pytest.mark.parametrize("name", list_references())
def test_halofit_stage_matches_class(background, stage, name):
    """CLASS's linear P_m / P_cb (its k grid, splined in ln k as fourier.c) through boltzax's HaloFit:
    P_nl within 1e-4 of CLASS at z <= 2 (measured <= 2e-5), within 5e-3 at z = 3 (up to 2.4e-3: CLASS's spline of
    ln P_nl in ln tau and ln k between its nodes), k_nl at z = 0 (a CLASS node) within 1e-5."""
    run, quad_k = stage
    ref = load_reference(name)
    res = background(name)
    kc = ref["halofit/class_k"]
    kq = quad_k(kc[0], kc[-1])
    k = ref["halofit/k"]
    sel = (k >= K_LO) & (k <= K_HI)
    for suffix, tol in (("", 1e-4), ("_high", 5e-3)):
        for cb in (False, True):
            lin = ref[f"halofit/class_pk{'_cb' if cb else ''}_lin{suffix}"]
            for j, z in enumerate(ref[f"halofit/z{suffix}"]):
                if z > 3:
                    continue  # z = 5: CLASS's time nodes decide (see tools/halofit_accuracy_report.py)
                sp = CubicSpline(np.log(kc), np.log(lin[j]), bc_type="natural")
                p_nodes = np.exp(sp(np.log(kq)))
                p_nodes[0] = lin[j][0]
                pnl, k_nl = run(p_nodes, np.exp(sp(np.log(k))), k, kc[0], kc[-1], z, res, cb)
                err = np.abs(np.asarray(pnl) / ref[f"halofit/pk{'_cb' if cb else ''}{suffix}"][j] - 1)[sel]
                assert err.max() < tol, (name, z, cb, err.max())
                if suffix == "" and z == 0:
                    k_nl_ref = ref[f"halofit/k_nl{'_cb' if cb else ''}"][0]
                    assert abs(float(k_nl) / k_nl_ref - 1) < 1e-5, (name, cb)


@pytest.mark.parametrize("name", E2E)
def test_halofit_class_end_to_end(name):
    """boltzax.Class with non_linear = halofit: pk, pk_cb, get_pk_all (nonlinear and linear),
    get_pk_and_k_and_z, nonlinear_scale(_cb), nonlinear_method; P_nl within 1e-3 of CLASS."""
    ref = load_reference(name)
    c = boltzax.Class()
    c.set(reference_class_input(ref, "halofit"))
    c.compute()
    k = ref["halofit/k"]
    sel = (k >= K_LO) & (k <= K_HI)
    zs = ref["halofit/z"]
    P = c.get_pk_all(k[sel], zs, nonlinear=True)
    Pcb = c.get_pk_all(k[sel], zs, nonlinear=True, cdmbar=True)
    assert np.max(np.abs(P / ref["halofit/pk"][:, sel] - 1)) < 1e-3
    assert np.max(np.abs(Pcb / ref["halofit/pk_cb"][:, sel] - 1)) < 1e-3
    # scalar accessors agree with the array ones; pk_lin stays linear
    j, i = 2, int(np.searchsorted(k[sel], 1.0))
    assert c.pk(k[sel][i], zs[j]) == pytest.approx(P[j, i], rel=1e-12)
    assert c.pk_cb(k[sel][i], zs[j]) == pytest.approx(Pcb[j, i], rel=1e-12)
    assert c.pk_lin(k[sel][i], zs[j]) == pytest.approx(ref["halofit/pk_lin"][j, sel][i], rel=1e-3)
    lin = c.get_pk_all(k[sel], zs, nonlinear=False)
    assert np.max(np.abs(lin / ref["halofit/pk_lin"][:, sel] - 1)) < 1e-3
    Pg, kg, zg = c.get_pk_and_k_and_z(nonlinear=True)
    assert Pg.shape == (kg.size, zg.size) and zg[-1] == 0.0
    np.testing.assert_allclose(Pg[:, -1], c.get_pk_all(kg, 0.0, nonlinear=True), rtol=1e-10)
    assert c.nonlinear_method == 1
    k_nl = c.nonlinear_scale(np.array([0.0, 1.0]), 2)
    assert abs(k_nl[0] / ref["halofit/k_nl"][0] - 1) < 1e-4
    assert abs(c.nonlinear_scale_cb(np.array([0.0]), 1)[0] / ref["halofit/k_nl_cb"][0] - 1) < 1e-4
    assert 1.5 < k_nl[1] / k_nl[0] < 4  # grows with z
    flat = c.get_pk_array(k[sel][:3], zs[:2].copy(), 3, 2, True)
    np.testing.assert_allclose(flat, P[:2, :3].reshape(-1), rtol=1e-12)


def test_halofit_requests():
    """halofit needs mPk (or lCl: the nonlinear lensing potential, test_nl_lensing.py); nonlinear accessors need
    a nonlinear method."""
    c = boltzax.Class()
    c.set({"output": "tCl", "non_linear": "halofit"})  # non_linear is read (an output), mPk missing
    with pytest.raises(boltzax.CosmoSevereError, match="mPk"):
        c.compute()


def test_halofit_stage_gradient():
    """jacfwd of ln P_nl with respect to the amplitude and tilt of the linear spectrum and to h (the k/h of the
    neutrino term) equals central finite differences to 1e-5: the derivative
    of the nonlinear scale comes from the implicit-function theorem (custom JVP), the root is exact."""
    ref = load_reference("lcdm_5")
    res = boltzax.compute(reference_params("lcdm_5", "halofit"), "fast")
    kc = ref["halofit/class_k"]
    lnP = CubicSpline(np.log(kc), np.log(ref["halofit/class_pk_lin"][0]), bc_type="natural")
    k_out = jnp.asarray(np.geomspace(0.01, 5.0, 9))

    def pnl(x, z):
        amp, tilt, h = x

        def p_of(k):
            return amp * jnp.exp(jnp.asarray(lnP(np.log(np.asarray(k))))) * (k / 0.05) ** tilt

        kq, wq, _ = hf.quadrature(kc[0], kc[-1], PREC, N_MAX)
        p_nodes = amp * jnp.exp(jnp.asarray(lnP(np.log(np.asarray(kq))))) * (kq / 0.05) ** tilt
        k_nl, n_eff, curv, comp, it = hf.nonlinear_scale(kq, wq, p_nodes, PREC)
        om, ov, w = hf.background_at(res.background, z)
        st = hf.HalofitState(k_nl=k_nl, n_eff=n_eff, curvature=curv, omega_m=om, omega_v=ov, w=w,
                             f_nu=hf.f_nu(res.background), h=h, computable=comp, iterations=it)
        return jnp.log(hf.halofit_pk(st, k_out, p_of(k_out), PREC))

    x0 = jnp.array([1.0, 0.0, float(res.params.h)])
    for z in (0.0, 2.0):
        jac = jax.jacfwd(pnl)(x0, z)
        for i, step in enumerate((1e-4, 1e-4, 1e-5)):
            e = jnp.zeros(3).at[i].set(step)
            fd = (pnl(x0 + e, z) - pnl(x0 - e, z)) / (2 * step)
            np.testing.assert_allclose(np.asarray(jac[:, i]), np.asarray(fd), rtol=1e-5, atol=1e-7)


@pytest.mark.slow  # compiles the forward-mode perturbation solver (~20 min on a loaded 2-core machine)
def test_nonlinear_gradient_matches_finite_differences():
    """d ln P_nl(k, z) / d(omega_cdm, h, m_ncdm) by forward-mode AD through background, thermodynamics,
    perturbations (all modes solved to CLASS's k_last) and HaloFit, and HMcode 2020 (its root's
    implicit-function derivative, the glue of `classy_api.nonlinear_hmcode`), equals central finite
    differences (1e-3 relative) at three cosmologies (one compilation for both methods; 'fast' preset: the
    derivative of the discrete solution is what is checked).  HMcode runs on fixed k nodes (fid's CLASS k
    list: the node count is static)."""
    from boltzax.classy_api import nonlinear_hmcode as nh
    from boltzax.nonlinear import hmcode as hm
    from boltzax.params import HMcodeOptions

    fast = boltzax.get_precision("fast")
    k = jnp.array([0.1, 1.0, 4.0])
    z = jnp.array([0.0, 1.0])
    k_max = 1.0  # P_k_max: the linear solve goes to CLASS's k_last >= 5 /Mpc, as with classy
    opts = HMcodeOptions()
    nodes = nh.k_nodes(boltzax.compute(reference_params("fid"), fast), opts.min_k_max)
    i_k = np.searchsorted(nodes, np.asarray(k))  # HMcode at the nodes nearest above the HaloFit k
    hprec = hm.HMcodePrecision(nk_wiggle=opts.nk_wiggle, z_infinity=opts.z_infinity)

    def f(x, base, k_lin):
        params = base.replace(omega_cdm=x[0], h=x[1], m_ncdm=x[2:3])
        res = boltzax.pipeline._compute(params, fast)
        lp = boltzax.pipeline.linear_power(res, fast, (0.0, 1.0), k_lin)
        p, _ = hf.halofit_power(res, lp, k, z, k_max, False, PREC)
        lm = jnp.log(hf.linear_at(lp, nodes, z, cb=False)).T
        lcb = jnp.log(hf.linear_at(lp, nodes, z, cb=True)).T
        om_z = hf.background_at(res.background, z)[0]
        p_hm, _ = hm.hmcode_pk(nh._hmcode_cosmo(res, opts), nodes, lm, lcb, z, om_z, version=opts.version,
                               prec=hprec)
        return jnp.stack([jnp.log(p), jnp.log(p_hm[i_k])])  # (2, n_k, n_z)

    f_jit = jax.jit(f)
    jac_jit = jax.jit(jax.jacfwd(f))
    for cosmo in ("lcdm_1", "fid", "lcdm_5"):
        base = reference_params(cosmo)
        res0 = boltzax.compute(base, fast)
        _, k_last = jax.jit(hf.class_k_range, static_argnums=2)(res0, k_max, PREC)
        k_lin = max(float(k_last), float(nodes[-1])) * 1.02  # margin: k_last moves with the FD steps
        x0 = jnp.array([base.omega_cdm, base.h, jnp.ravel(base.m_ncdm)[0]])
        jac = np.asarray(jac_jit(x0, base, k_lin))  # (2, n_k, n_z, 3)
        for i, step in enumerate((1e-4, 1e-4, 1e-3)):
            e = jnp.zeros(3).at[i].set(step)
            fd = np.asarray((f_jit(x0 + e, base, k_lin) - f_jit(x0 - e, base, k_lin)) / (2 * step))
            for m, method in enumerate(("halofit", "hmcode")):
                # relative to the size of the logarithmic derivative (some entries cross zero)
                scale = np.max(np.abs(fd[m]))
                np.testing.assert_allclose(jac[m, ..., i], fd[m], rtol=1e-3, atol=1e-3 * scale,
                                           err_msg=f"{cosmo} {method} {('omega_cdm', 'h', 'm_ncdm')[i]}")


def test_halofit_power_from_class_linear(background):
    """`halofit_power` (the pure, jitted front door) on a `LinearPk` built from CLASS's linear P_m, P_cb
    at the reference redshifts (CLASS's natural spline in ln k, tabulated densely): P_nl within 1e-4 of CLASS,
    and vmap over z gives the batched result."""
    from boltzax.fourier import LinearPk, primordial_PR

    name = "lcdm_5"
    ref = load_reference(name)
    res = background(name)
    kc = ref["halofit/class_k"]
    zs = jnp.asarray(ref["halofit/z"])
    # CLASS's natural spline in ln k on a dense grid (the table's own cubic on CLASS's sparse grid would
    # differ from CLASS's spline by ~1e-3 at low k)
    kd = np.geomspace(1e-4, kc[-1], 2000)
    norm = 2.0 * np.pi**2 * kd * np.asarray(primordial_PR(res.params, jnp.asarray(kd)))  # P = 2 pi^2 k P_R e^lnT2
    lnT2 = {}
    for cb in (False, True):
        lin = ref[f"halofit/class_pk{'_cb' if cb else ''}_lin"]
        sp = CubicSpline(np.log(kc), np.log(lin.T), bc_type="natural", axis=0)
        lnT2[cb] = jnp.asarray(sp(np.log(kd)) - np.log(norm)[:, None])
    lp = LinearPk(k=jnp.asarray(kd), z=zs, ln_T2_m=lnT2[False], ln_T2_cb=lnT2[True], params=res.params)
    k = ref["halofit/k"]
    sel = (k >= K_LO) & (k <= K_HI)
    run = jax.jit(lambda r, l, kk, zz, cb: hf.halofit_power(r, l, kk, zz, 20.0, cb, PREC, N_MAX)[0],
                  static_argnums=4)
    for cb in (False, True):
        p = np.asarray(run(res, lp, jnp.asarray(k[sel]), zs, cb))  # (n_k, n_z)
        err = np.abs(p.T / ref[f"halofit/pk{'_cb' if cb else ''}"][:, sel] - 1)
        assert err.max() < 1e-4, (cb, err.max(axis=1))
    pv = jax.vmap(lambda zz: run(res, lp, jnp.asarray(k[sel]), zz, False)[:, 0])(zs)
    np.testing.assert_allclose(np.asarray(pv).T, np.asarray(run(res, lp, jnp.asarray(k[sel]), zs, False)),
                               rtol=1e-12)
