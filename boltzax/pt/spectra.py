"""All one-loop spectrum components on the FFTLog nodes (the expensive, cosmology-dependent part).

`components(pk, f, h, rs_drag, hratio, Dratio, mats)` is a pure JAX function (jit / grad / vmap,
float64) returning the 48 pieces that CLASS-PT's `get_pk_mult` exposes (indices 0-47, same
meaning and sign, README of tests/reference/classpt), evaluated on the 256 FFTLog nodes, in
native units: k in h/Mpc, P in (Mpc/h)^3, the counterterm shapes 10-13 (k^2 P) in Mpc/h.
Bias parameters do not enter: galaxy spectra are assembled from these pieces in `bias.py`.

Algorithm (mirrors CLASS-PT, nonlinear_pt.c, function nonlinear_pt_loop, with our own kernels):

* IR resummation (`ir.py`): P = P_nw + P_w; isotropic LO spectrum P_bin = P_nw + e^{-Sigma^2 k^2}
  P_w; tree P_tree = P_nw + (1 + Sigma^2 k^2) e^{-Sigma^2 k^2} P_w (Blas et al. 2016,
  arXiv:1605.02149; Ivanov & Sibiryakov 2018, arXiv:1804.05080).
* real space: P_1loop[P_bin] = P13 + P22 with the UV term -61/105 k^2 sigma_v^2 P_bin, times
  CLASS-PT's cutoff e^{-(k/3 h/Mpc)^6}; counterterm shape -k^2 P_bin.
* redshift space: P22 and P13 are split into mu^{2n} pieces (matrices.py); the no-wiggle loops use
  P_nw, the wiggly ones are linear in P_w (P22^w = 2 P22[P_nw, P_w], P13^w = k^3 f13[P_w] P_nw)
  and are damped by e^{-Sigma_tot^2(mu) k^2} with Sigma_tot^2 = (1 + f mu^2 (2+f)) Sigma^2
  + f^2 mu^2 (mu^2 - 1) delta Sigma^2 (Ivanov et al. 2019, arXiv:1909.05277, sec. 2); the P13
  no-wiggle pieces are rescaled by P_IR/P_nw (CLASS-PT's "P13ratio").
* Alcock-Paczynski: k_true = k sqrt(1/D^2 + (h_r^2 - 1/D^2) mu^2), mu_true = mu h_r/sqrt(...),
  volume factor h_r/D^2 (Ivanov et al. 2019, sec. 2), with h_r = H/H_fid and
  D = D_A/D_A,fid; 40-point Gauss-Legendre in mu; P(k_true) by the natural cubic spline in k
  through the nodes (as CLASS-PT).  With `ir=False` CLASS-PT does not AP-project the matter
  multipoles (README caveat 2); this is reproduced.
* bias loops (FFTLog bias -1.6000001) use P_bin; redshift-space bias pieces and the
  Id2d2/Id2G2/IG2G2 terms are AP-projected; I_FG2 is rescaled by P_IR(k, mu)/P_bin.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from boltzax.pt import fftlog, ir, matrices

N_GAUSS = 40  # CLASS-PT pt_matrices/gauss_tab.dat: 40-point Gauss-Legendre in mu
CUTOFF_H = 3.0  # h/Mpc, CLASS-PT cutoff = 3 h (1/Mpc) in e^{-(k/cutoff)^6}

P22_ORDER = tuple(matrices.P22_GROUPS)
P13_ORDER = tuple(matrices.P13_GROUPS)
BIAS_RSD = ("b1b2", "b2", "b1bG2", "bG2")


@functools.lru_cache(maxsize=None)
def loop_matrices():
    """The constant kernel matrices as a pytree of real numpy arrays (pass to `components`), in
    the real coordinates of `fftlog.real_basis`."""
    mm = matrices.matter_matrices()
    bm = matrices.bias_matrices()
    q, r = fftlog.to_real_quadratic, fftlog.to_real_linear
    out = {
        "p22": {g: q(mm["p22"][g][1]) for g in P22_ORDER},
        "p13": {g: r(mm["p13"][g]) for g in P13_ORDER},
        "uv": {g: mm["uv"][g] for g in P13_ORDER},
        "breal": {n: q(M) for n, M in bm["real"].items()},
        "brsd": {n: q(bm["rsd"][n][1]) for n in BIAS_RSD},
        "fg2": r(bm["fg2"]),
    }
    return out


def _quad(Q, Y):
    return jnp.sum(Y * (Q @ Y), axis=-2)


def _dot(r, Y):
    return r @ Y


@functools.lru_cache(maxsize=None)
def _static_keys():
    mm = matrices.matter_matrices()
    bm = matrices.bias_matrices()
    return ({g: mm["p22"][g][0] for g in P22_ORDER}, {n: bm["rsd"][n][0] for n in BIAS_RSD})


def _fpoly(stack, fpows, f):
    out = 0.0
    for i, p in enumerate(fpows):
        out = out + stack[i] * f ** p
    return out


def _fpoly_dense(arr, f):
    out = 0.0
    for p in range(arr.shape[0]):
        out = out + arr[p] * f ** p
    return out


@functools.lru_cache(maxsize=None)
def _gauss():
    x, w = np.polynomial.legendre.leggauss(N_GAUSS)
    return x, w


def _legendre(mu):
    return 1.0, (3.0 * mu ** 2 - 1.0) / 2.0, (35.0 * mu ** 4 - 30.0 * mu ** 2 + 3.0) / 8.0


def sigma_v2_nodes(pk):
    """sigma_v^2 = int dk P/(6 pi^2) [(Mpc/h)^2], trapezoid in ln k over the FFTLog nodes."""
    k = fftlog.k_nodes()
    return jnp.sum(np.diff(np.log(k)) * (k[1:] * pk[1:] + k[:-1] * pk[:-1]) / 2.0) / (6.0 * np.pi ** 2)


def components(pk, f, h, rs_drag, hratio, Dratio, mats, *, ir_resum=True, ap=True, sigv=None,
               ir_logkp=None, rsd=True):
    """All get_pk_mult pieces 0-47 on the FFTLog nodes.

    pk: (256,) linear P_cb in (Mpc/h)^3 on `fftlog.k_nodes()` (h/Mpc); f: growth rate;
    h: little h (CLASS-PT's IR grid is fixed in 1/Mpc); rs_drag: Mpc; hratio = H/H_fid,
    Dratio = D_A/D_A,fid (1, 1 without AP); mats: `loop_matrices()`.
    sigv: optional sigma_v^2 = int dk P/(6 pi^2) [(Mpc/h)^2] (default: trapezoid in ln k over
    the nodes); ir_logkp: optional input of the wiggle/no-wiggle transform (see `ir.nowiggle`).
    rsd=False follows CLASS-PT's `RSD = No` code path (its RSD branch is skipped): pieces 1, 4, 5
    are the real-space I_d2d2, I_d2G2, I_G2G2 and the redshift-space pieces are 0 (no CLASS-PT
    reference run exists for this switch).
    Returns an array (48, 256): piece i is CLASS-PT's get_pk_mult index i (h-units; 29 without
    CLASS-PT's extra e^{-(k/3 Mpc^-1)^4}, applied by classpt_api).
    """
    p22keys, brsdkeys = _static_keys()
    k = jnp.asarray(fftlog.k_nodes())
    k2, k3 = k ** 2, k ** 3
    cut = jnp.exp(-((k / CUTOFF_H) ** 6))
    if sigv is None:
        sigv = sigma_v2_nodes(pk)

    # the switches may be Python bools or traced booleans (one compilation for all variants)
    pnw, pw, s2, ds2 = ir.nowiggle(pk, h, rs_drag, ir_logkp)
    pnw = jnp.where(ir_resum, pnw, pk)
    pw = jnp.where(ir_resum, pw, 0.0)
    s2 = jnp.where(ir_resum, s2, 0.0)
    ds2 = jnp.where(ir_resum, ds2, 0.0)
    e0 = jnp.exp(-s2 * k2)
    pbin = pnw + pw * e0
    ptree = pnw + pw * e0 * (1.0 + s2 * k2)
    comp = {}

    # ---- real-space matter ----------------------------------------------------------------
    X = fftlog.y_matrix(pbin, fftlog.B_MATTER)
    m13_0 = _fpoly_dense(mats["p13"]["mu0_dd"], f)
    uv0 = _fpoly_dense(mats["uv"]["mu0_dd"], f)
    p13 = (k3 * _dot(m13_0, X) * pbin - uv0 * k2 * sigv * pbin) * cut
    p22 = k3 * _quad(mats["p22"]["mu0_dd"][0], X) * cut
    comp[0] = p13 + p22
    comp[10] = -k2 * pbin
    comp[14] = ptree

    # ---- redshift-space matter: mu^{2n} pieces, no-wiggle and wiggle ----------------------
    Xnw = fftlog.y_matrix(pnw, fftlog.B_MATTER)
    Xw = fftlog.y_matrix(pw, fftlog.B_MATTER)
    Xboth = jnp.concatenate([Xnw, Xw], axis=-1)
    pieces = {}
    for g in P13_ORDER:
        m13 = _fpoly_dense(mats["p13"][g], f)
        uv = _fpoly_dense(mats["uv"][g], f)
        pieces["P13_" + g] = (k3 * _dot(m13, Xnw) * pnw - uv * k2 * sigv * pnw) * cut
        pieces["P13w_" + g] = k3 * _dot(m13, Xw) * pnw * cut
    for g in P22_ORDER:
        M = _fpoly(mats["p22"][g], p22keys[g], f)
        Y = M @ Xboth
        pieces["P22_" + g] = k3 * jnp.sum(Xnw * Y[:, :256], axis=0) * cut
        pieces["P22w_" + g] = 2.0 * k3 * jnp.sum(Xnw * Y[:, 256:], axis=0) * cut

    # ---- bias loops (FFTLog bias -1.6000001, input P_bin) ---------------------------------
    Xb = fftlog.y_matrix(pbin, fftlog.B_BIAS)
    br = {n: k3 * _quad(M, Xb) for n, M in mats["breal"].items()}
    comp[2], comp[3], comp[6] = br["Id2"], br["IG2"], k3 * _dot(mats["fg2"], Xb) * pbin
    bias_pieces = {"Id2d2": br["Id2d2"] - br["Id2d2"][0], "Id2G2": br["Id2G2"],
                   "IG2G2": br["IG2G2"], "IFG2": comp[6]}
    for n in BIAS_RSD:
        stack, keys = mats["brsd"][n], brsdkeys[n]
        for mpow in (0, 2, 4):
            sel = [i for i, (m, _) in enumerate(keys) if m == mpow]
            if not sel:
                continue
            M = 0.0
            for i in sel:
                M = M + stack[i] * f ** keys[i][1]
            bias_pieces[f"{n}_mu{mpow}"] = k3 * _quad(M, Xb)

    # ---- mu integration with AP and anisotropic IR damping --------------------------------
    mu, wg = (jnp.asarray(a) for a in _gauss())
    _, L2, L4 = _legendre(mu)
    # CLASS-PT projects nodes Nside <= j < N - Nside only (Nside = 10 with AP, 1 without)
    nside = jnp.where(ap, 10, 1)
    jj = jnp.arange(256)
    jmask = ((jj >= nside) & (jj < 256 - nside)).astype(float)

    def ap_map(hr, Dr):
        fac = jnp.sqrt(1.0 / Dr ** 2 + (hr ** 2 - 1.0 / Dr ** 2) * mu ** 2)
        return mu * hr / fac, k[None, :] * fac[:, None], hr / Dr ** 2

    def interp(arrs, kt):
        A = jnp.stack(arrs)
        y2 = fftlog.spline_y2_nodes(A)
        return fftlog.spline_eval_nodes(A, y2, kt)

    def proj(val, ell):
        """(2 ell + 1)/2 int dmu L_ell(mu) val(mu), Gauss-Legendre in the observed mu."""
        Lw = {0: 0.5 * wg, 2: 2.5 * L2 * wg, 4: 4.5 * L4 * wg}[ell]
        return jnp.sum(val * Lw[:, None], axis=0) * jmask

    # matter (CLASS-PT applies AP to the matter multipoles only in its IR branch)
    ap_m = jnp.logical_and(ap, ir_resum)
    hr_m, Dr_m = jnp.where(ap_m, hratio, 1.0), jnp.where(ap_m, Dratio, 1.0)
    mut, kt, vol = ap_map(hr_m, Dr_m)
    names = ["pnw", "pw"] + [p + g for g in P13_ORDER for p in ("P13_", "P13w_")] \
        + [p + g for g in P22_ORDER for p in ("P22_", "P22w_")]
    src = dict(pieces, pnw=pnw, pw=pw)
    V = dict(zip(names, interp([src[n] for n in names], kt)))
    m2 = mut[:, None] ** 2
    sig = s2 * (1.0 + f * m2 * (2.0 + f)) + f ** 2 * m2 * (m2 - 1.0) * ds2
    E = jnp.exp(-sig * kt ** 2)
    p_tree = V["pnw"] + (1.0 + sig * kt ** 2) * V["pw"] * E
    p_ir = V["pnw"] + V["pw"] * E
    r13 = 1.0 + V["pw"] / V["pnw"] * E

    def loop(g, has13=True, g13=None):
        out = V["P22_" + g] + V["P22w_" + g] * E
        if has13:
            g13 = g13 or g
            out = out + V["P13_" + g13] * r13 + V["P13w_" + g13] * E
        return out

    vv = loop("mu4_vv") * m2 ** 2 + loop("mu6_vv", g13="mu6") * m2 ** 3 + loop("mu8", False) * m2 ** 4
    dd = loop("mu0_dd") + loop("mu2_dd") * m2 + loop("mu4_dd", False) * m2 ** 2
    vd = loop("mu2_vd") * m2 + loop("mu4_vd") * m2 ** 2 + loop("mu6_vd", False) * m2 ** 3
    vv, dd, vd = vv * vol, dd * vol, vd * vol
    dd_t = dd + p_tree * vol
    vd_t = vd + p_tree * 2.0 * f * m2 * vol
    t_vv, t_vd, t_dd = p_tree * f ** 2 * m2 ** 2 * vol, p_tree * 2 * f * m2 * vol, p_tree * vol
    comp[15], comp[18], comp[20] = proj(t_vv, 0), proj(t_vv, 2), proj(t_vv, 4)
    comp[16], comp[17], comp[19] = proj(t_vd, 0), proj(t_dd, 0), proj(t_vd, 2)
    comp[21], comp[24], comp[27] = proj(vv, 0), proj(vv, 2), proj(vv, 4)
    comp[22], comp[25], comp[28] = proj(vd, 0), proj(vd, 2), proj(vd_t, 4)
    comp[23], comp[26], comp[29] = proj(dd, 0), proj(dd_t, 2), proj(dd_t, 4)
    ctr = kt ** 2 * p_ir * vol
    comp[11] = -proj(ctr, 0)
    comp[12] = -proj(ctr * f * m2, 2)
    comp[13] = -proj(ctr * f ** 2 * m2 ** 2, 4)

    # bias (always AP-projected when ap=True)
    hr_b, Dr_b = jnp.where(ap, hratio, 1.0), jnp.where(ap, Dratio, 1.0)
    mut, kt, vol = ap_map(hr_b, Dr_b)
    bnames = ["pnw", "pw", "pbin"] + list(bias_pieces)
    bsrc = dict(bias_pieces, pnw=pnw, pw=pw, pbin=pbin)
    B = dict(zip(bnames, interp([bsrc[n] for n in bnames], kt)))
    m2 = mut[:, None] ** 2
    sig = s2 * (1.0 + f * m2 * (2.0 + f)) + f ** 2 * m2 * (m2 - 1.0) * ds2
    E = jnp.exp(-sig * kt ** 2)
    p_lo = (B["pnw"] + B["pw"] * E) / B["pbin"]
    ifg2 = p_lo * B["IFG2"] * vol
    comp[7], comp[8], comp[9] = proj(ifg2, 0), proj(ifg2 * f * m2, 0), proj(ifg2 * f * m2, 2)
    for name, (i0, i2, i4) in (("Id2d2", (1, 42, 45)), ("Id2G2", (4, 43, 46)),
                               ("IG2G2", (5, 44, 47))):
        v = B[name] * vol
        comp[i0], comp[i2], comp[i4] = proj(v, 0), proj(v, 2), proj(v, 4)
    for name, (i0, i2, i4) in (("b1b2", (30, 34, 40)), ("b2", (31, 35, 38)),
                               ("b1bG2", (32, 36, 41)), ("bG2", (33, 37, 39))):
        v = 0.0
        for mpow in (0, 2, 4):
            key = f"{name}_mu{mpow}"
            if key in B:
                v = v + B[key] * m2 ** (mpow // 2)
        v = v * vol
        comp[i0], comp[i2], comp[i4] = proj(v, 0), proj(v, 2), proj(v, 4)
    # 40-47 are stored by CLASS-PT without the sign fix-ups classy applies to 1, 4, 32: it
    # projects |I_d2d2|, |I_d2G2| (negative integrals) and its b1 bG2 piece is -ours.
    for i in (41, 42, 43, 45, 46):
        comp[i] = -comp[i]
    out = jnp.stack([comp[i] for i in range(48)])
    if rsd is True:
        return out
    real = {1: bias_pieces["Id2d2"], 4: bias_pieces["Id2G2"], 5: bias_pieces["IG2G2"]}
    keep = np.isin(np.arange(48), (0, 2, 3, 6, 10, 14))
    alt = jnp.stack([real[i] if i in real else (out[i] if keep[i] else jnp.zeros(256))
                     for i in range(48)])
    return jnp.where(rsd, out, alt)
