"""CLASS-PT-compatible layer: `get_pk_mult` and the galaxy/matter wrappers with CLASS-PT's units.

This reproduces CLASS-PT (commit e02293a, classy.pyx "v3 API") as released, so that existing
likelihood codes get the same numbers.  The native, unit-consistent API is `spectra` + `bias`.

What `boltzax.Class` must pass in (per redshift z of `z_pk`, option `non linear = PT`):

==============  =====================================================================
pk_cb_pt        linear P_cb(k, z) in Mpc^3 (P_m if `cb = No`) on CLASS's perturbation k grid
                ``pt_k_grid(tau0, rs_rec, h)`` [1/Mpc] (CLASS-PT reads its linear input there)
tau_quirk       (c_z, l_z) per z from `tau_interpolation_quirk(background, z_pk)`: CLASS-PT's
                interpolation of ln P(k, tau) to z uses the k-direction spline table as if it
                were the tau-direction one (nonlinear_pt_init, array_interpolate_spline on
                ln_tau with ddlnpk_l_full), i.e. ln P_CLASS-PT = ln P + l_z - c_z d2lnP/dlnk2
f               scale-independent growth rate f(z) (background `index_bg_f`)
h               little h
rs_drag         r_s(z_drag) [Mpc] (IR resummation BAO scale; thermodynamics `rs_d`)
H_z, DA_z       H(z) [1/Mpc] and D_A(z) [Mpc] (only for AP)
Omega_g         Omega_gamma today (CLASS-PT's fiducial E(z) includes it, README caveat 3)
Omfid           fiducial Omega_m for AP (`Omfid`, default 0.31)
tau0, rs_rec    conformal age [Mpc] and r_s(z_rec) [Mpc]: they fix CLASS's perturbation k grid
                on which CLASS-PT stores its output (see `pt_k_grid`)
switches        `IR resummation` -> ir_resum, `AP` -> ap, `RSD` -> rsd (rsd=False: CLASS-PT's
                real-space code path, untested: no reference run); `Bias tracers` always on
==============  =====================================================================

Wired into `boltzax.Class` (``'non linear': 'PT'``) by `boltzax.classy_pt`, which follows this sketch
with boltzax's own linear P_cb solved at CLASS's k grid::

    from boltzax.pt import classpt_api as cpt
    kpt = cpt.pt_k_grid(tau0, rs_rec, h)
    quirk = cpt.tau_interpolation_quirk(background, z_pk)        # boltzax Background
    self._pt = cpt.ClassPT(pk_cb_pt=[P_cb(kpt, z) for z in z_pk], f=..., h=..., rs_drag=...,
                           z=z_pk, tau0=..., rs_rec=..., tau_quirk=quirk, H_z=..., DA_z=...,
                           Omega_g=..., Omfid=..., ir_resum=..., ap=...)
    get_pk_mult(k, z, nk)      -> self._pt.get_pk_mult(k, z)
    initialize_output(k, z, nk) -> self._pt.initialize_output(k, z)
    pk_mm_real(cs), ...        -> self._pt.pk_mm_real(cs), ... (argument orders of classy.pyx)

CLASS-PT's numerical chain, reproduced here (what the reference README calls its "spline noise",
caveat 5): (1) the time-interpolation quirk above, the dominant part: it moves CLASS-PT's
numbers by up to 2.4e-3 (pointwise) of the tree-level spectrum and ~1e-2 of the amplitude of some
one-loop pieces (without `tau_quirk` the input is the exact linear P); (2) the linear input is
splined in ln k from CLASS's perturbation k grid to the FFTLog nodes, and sigma_v^2 is a
trapezoid on that grid; (3) the output: every FFTLog-node result is splined (natural cubic in k)
onto CLASS's k grid, stored as ln(offset + sign * X), and `get_pk_mult` splines that in ln k
(natural) to the user's k (together ~3e-4 on the tree).  `pt_k_grid` rebuilds CLASS's grid
(perturbations.c, function perturbations_get_k_list, default precision parameters below); the
grid and the quirk coefficients are constants of each cosmology (not differentiated).

Unit quirks reproduced (README caveat 1): `initialize_output` takes k in 1/Mpc and the wrappers
then use that k as if it were h/Mpc in the b4 and a0/a2 terms; `pk_gg_l0` adds
1/4 b2^2 Pd2d2_0 with Pd2d2_0 = simpson((pm14 h^3)^2 k^3, ln k)/pi^2 over the user's k array.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from scipy.integrate import simpson

from boltzax.errors import CosmoSevereError, NotImplementedOutputError
from boltzax.pt import fftlog, ir, spectra

# CLASS v3.3 precision defaults (CLASS-PT include/precisions.h) used by the perturbation k list
K_MIN_TAU0 = 0.1
K_PER_DECADE_FOR_PK = 10.0
K_PER_DECADE_FOR_BAO = 70.0
K_BAO_CENTER = 3.0
K_BAO_WIDTH = 4.0
PT_K_MAX_H = 100.0  # CLASS-PT 'PT_k_max_h/Mpc' default: k_max_for_pk = 100 h
KMS_MPC = 3.33564095198145e-6  # CLASS-PT nonlinear_pt_init: 1/c in s/km
N_Z_AP = 2000  # trapezoid points of the fiducial D_A integral (nonlinear_pt_init)

# classy.pyx get_pk_mult: stored value is ln(OFFSET + SIGN * pm); pm = SIGN * (exp(.) - OFFSET)
_OFF = np.array([5e4, 1e6, 100, 100, 1e6, 1e6, 100, 1e6, 1e6, 1e6, 0, 0, 0, 0, 0]
                + [1e6] * 33)
_SIGN = np.ones(48)
_SIGN[[1, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 32, 33, 36, 37, 39]] = -1.0
_REAL_SPACE = (0, 2, 3, 6, 10, 14)  # interpolated over [k_min, k_max] (others: shrunk range)


def ap_ratios(z, H_z, DA_z, h, Omfid=0.31, Omega_g=0.0):
    """CLASS-PT's (hratio, Dratio) (nonlinear_pt.c, nonlinear_pt_init): hratio = E(z)/E_fid(z),
    Dratio = D_M(z) H0 / int_0^z dz'/E_fid with E_fid^2 = Omfid (1+z')^3 + 1 - Omfid
    + Omega_g (1+z)^4 (the true Omega_g, and (1+z)^4 at the *output* z, as in the C code) and a
    2000-point trapezoid.  H_z in 1/Mpc, DA_z in Mpc."""
    hnew = H_z / KMS_MPC / 100.0 / h
    efid = lambda zz: jnp.sqrt(Omfid * (1.0 + zz) ** 3 + (1.0 - Omfid) + Omega_g * (1.0 + z) ** 4)
    hr = hnew / efid(z)
    zz = jnp.linspace(0.0, 1.0, N_Z_AP) * z
    inv = 1.0 / efid(zz)
    dz = z / (N_Z_AP - 1.0)
    dfid = jnp.sum(dz * (inv[1:] + inv[:-1]) / 2.0)
    da = DA_z * KMS_MPC * 100.0 * h * (1.0 + z)
    at0 = z == 0.0  # CLASS-PT sets both ratios to 1 at z = 0
    return jnp.where(at0, 1.0, hr), jnp.where(at0, 1.0, da / jnp.where(at0, 1.0, dfid))


def pt_k_grid(tau0, rs_rec, h, k_max_h=PT_K_MAX_H):
    """CLASS's perturbation k list [1/Mpc] for an mPk-only flat run (perturbations.c,
    perturbations_get_k_list): k_min = k_min_tau0/tau0, then multiplicative steps
    10^{1/(kpd_pk + (kpd_bao - kpd_pk)(1 - tanh(((ln k - ln(k_bao_center k_rec))/ln k_bao_width)^4))))}
    with k_rec = 2 pi/r_s(z_rec), until k >= k_max = 100 h."""
    k_rec = 2.0 * np.pi / rs_rec
    k = K_MIN_TAU0 / tau0
    ks = [k]
    kmax = k_max_h * h
    while k < kmax:
        x = ((np.log(k) - np.log(K_BAO_CENTER * k_rec)) / np.log(K_BAO_WIDTH)) ** 4
        k *= 10.0 ** (1.0 / (K_PER_DECADE_FOR_PK + (K_PER_DECADE_FOR_BAO - K_PER_DECADE_FOR_PK)
                             * (1.0 - np.tanh(x))))
        ks.append(k)
    return np.array(ks)


def tau_interpolation_quirk(background, z_pk, stepsize=0.1, boost_fraction=0.9, z_max=None):
    """(c_z, l_z) of CLASS-PT's time interpolation of ln P (see module docstring).

    CLASS's source time sampling for an mPk-only run (perturbations.c,
    perturbations_timesampling_for_sources): tau_0 = tau(z_max_pk + 1), tau_{n+1} = tau_n +
    0.1/(aH) (halved above 0.9 tau_0), last point = tau_0.  At tau(z) in [tau_i, tau_i+1]
    (Delta = ln tau_i+1 - ln tau_i, a = (ln tau_i+1 - ln tau)/Delta, b = 1 - a) the cubic-spline
    formula with the k-direction table gives ln P = a lnP_i + b lnP_i+1 - (a b/2) Delta^2 y''(k)
    (since a^3 - a + b^3 - b = -3ab).  c_z = a b Delta^2/2; l_z = 2 (a ln D_i + b ln D_i+1 - ln D)
    is the error of the linear interpolation itself (scale-independent growth D).
    `background`: a boltzax Background (tau_of_z, z_of_tau, H_of_z, growth_D, conformal_age);
    `z_max`: CLASS's z_max_pk when larger than max(z_pk) (default max(z_pk))."""
    bg = background
    tau0 = float(bg.conformal_age)
    z_max = max(z_pk) if z_max is None else max(float(z_max), max(z_pk))
    tau = float(bg.tau_of_z(z_max + 1.0))
    taus = [tau]
    while tau < tau0:
        z = float(bg.z_of_tau(tau))
        ts = (1.0 + z) / float(bg.H_of_z(z))  # 1/(aH)
        if tau > tau0 * boost_fraction:
            ts /= 2.0
        tau += stepsize * ts
        taus.append(tau)
    taus[-1] = tau0
    lnt = np.log(np.array(taus))
    c, l = [], []
    for z in z_pk:
        t = np.log(float(bg.tau_of_z(z)))
        i = int(np.clip(np.searchsorted(lnt, t) - 1, 0, lnt.size - 2))
        d = lnt[i + 1] - lnt[i]
        a = (lnt[i + 1] - t) / d
        b = 1.0 - a
        lnD = [np.log(float(bg.growth_D(float(bg.z_of_tau(np.exp(x)))))) for x in lnt[i:i + 2]]
        c.append(a * b * d ** 2 / 2.0)
        l.append(2.0 * (a * lnD[0] + b * lnD[1] - np.log(float(bg.growth_D(z)))))
    return np.array(c), np.array(l)


@functools.lru_cache(maxsize=64)
def _input_matrices(kpt_key, h):
    """Spline maps from CLASS's k grid: second derivatives in ln k (R), values at the FFTLog
    nodes (Wn), and the sparse spline at the 65536 DST points (interval index + 4 weights)."""
    lnk = np.log(np.asarray(kpt_key))
    R = fftlog.natural_spline_matrix(tuple(lnk))
    Wn = fftlog.spline_eval_matrix(lnk, np.log(fftlog.k_nodes() * h))
    x = np.log(ir.dst_grid())
    i = np.clip(np.searchsorted(lnk, x) - 1, 0, lnk.size - 2)
    hh = lnk[i + 1] - lnk[i]
    a = (lnk[i + 1] - x) / hh
    b = (x - lnk[i]) / hh
    return R, Wn, (i, a, b, (a ** 3 - a) * hh ** 2 / 6.0, (b ** 3 - b) * hh ** 2 / 6.0)


def classpt_linear_input(lnpk_pt, kpt, h, c_z=0.0, l_z=0.0):
    """CLASS-PT's linear input from ln P_cb [Mpc^3] on CLASS's k grid `kpt` [1/Mpc] (JAX):
    returns (P on the FFTLog nodes in (Mpc/h)^3, sigma_v^2 in (Mpc/h)^2 by the trapezoid over
    kpt as nonlinear_pt_loop, ln(kP) on the DST grid) after the time-interpolation quirk."""
    R, Wn, (i, a, b, c, d) = _input_matrices(tuple(np.asarray(kpt, float)), float(h))
    lnp = lnpk_pt + l_z - c_z * (lnpk_pt @ R.T)
    y2 = lnp @ R.T
    pk_nodes = jnp.exp(lnp @ Wn.T) * h ** 3
    p = jnp.exp(lnp)
    lnk = np.log(kpt)
    sigv = jnp.sum(np.diff(lnk) * (kpt[1:] * p[1:] + kpt[:-1] * p[:-1]) / 2.0) / (6.0 * np.pi ** 2)
    logkp = (np.log(ir.dst_grid()) + a * lnp[i] + b * lnp[i + 1] + c * y2[i] + d * y2[i + 1])
    return pk_nodes, sigv * h ** 2, logkp


@functools.lru_cache(maxsize=64)
def _interp_matrices(tau0, rs_rec, h, k_user_key, ap):
    """Stage-1 (nodes -> PT grid, natural spline in k) and stage-2 (PT grid -> user k, natural
    spline in ln k) matrices; values outside CLASS-PT's validity ranges are clamped to the range
    ends (they sit ~20 grid points away from 0.005-0.3 h/Mpc, influence < 1e-10)."""
    kpt = pt_k_grid(tau0, rs_rec, h)
    kn = fftlog.k_nodes() * h
    nside = 10 if ap else 1
    W1 = {}
    for name, (lo, hi) in (("real", (kn[0], kn[-1])), ("rsd", (kn[nside], kn[-1 - nside]))):
        W1[name] = fftlog.spline_eval_matrix(kn, np.clip(kpt, lo, hi))
    ku = np.asarray(k_user_key)
    W2 = fftlog.spline_eval_matrix(np.log(kpt), np.log(ku))
    return kpt, W1, W2


def pk_mult_from_nodes(comp_h, h, k_mpc, tau0, rs_rec, ap=True):
    """get_pk_mult (96, nk) in CLASS-PT units (Mpc^3; 10-13: Mpc) from `spectra.components`
    (48, 256) in h-units, at k_mpc [1/Mpc].  Indices 48-95 (PNG, not computed) are zero."""
    kpt, W1, W2 = _interp_matrices(float(tau0), float(rs_rec), float(h),
                                   tuple(np.asarray(k_mpc, float)), bool(ap))
    conv = np.full(48, h ** 3)
    conv[10:14] = h
    comp = comp_h / conv[:, None]  # CLASS-PT units on the nodes
    real = np.isin(np.arange(48), _REAL_SPACE)
    s1 = jnp.where(real[:, None], comp @ W1["real"].T, comp @ W1["rsd"].T)
    damp = np.ones((48, kpt.size))
    damp[29] = np.exp(-((kpt / 3.0) ** 4))  # CLASS-PT: 4_dd x exp(-(k/3)^4), k in 1/Mpc
    s1 = s1 * damp
    # pieces not computed (identically zero: the RSD pieces with rsd=False) stay zero; without this the
    # offset-free counterterms 11-13 would give ln(0)
    live = jnp.any(s1 != 0.0, axis=1)[:, None]
    raw = jnp.log(jnp.where(live, _OFF[:, None] + _SIGN[:, None] * s1, 1.0))
    out = jnp.where(live, _SIGN[:, None] * (jnp.exp(raw @ W2.T) - _OFF[:, None]), 0.0)
    return jnp.concatenate([out, jnp.zeros((48, out.shape[1]))])


# ---------------------------------------------------------------------------------------------
# wrappers (classy.pyx), on pm = get_pk_mult(kh, z) and kh = the k given to initialize_output
# ---------------------------------------------------------------------------------------------
def pk_mm_real(pm, h, cs):
    return (pm[0] + pm[14] + 2 * cs * pm[10] / h ** 2) * h ** 3


def pk_gm_real(pm, h, b1, b2, bG2, bGamma3, cs, cs0):
    return (b1 * pm[14] + b1 * pm[0] + (2 * cs * b1 + cs0) * pm[10] / h ** 2 + b2 / 2 * pm[2]
            + bG2 * pm[3] + (bG2 + 0.4 * bGamma3) * pm[6]) * h ** 3


def pk_gg_real(pm, h, b1, b2, bG2, bGamma3, cs, cs0, Pshot):
    return (b1 ** 2 * pm[14] + b1 ** 2 * pm[0] + 2 * (cs * b1 ** 2 + cs0 * b1) * pm[10] / h ** 2
            + b1 * b2 * pm[2] + 0.25 * b2 ** 2 * pm[1] + 2 * b1 * bG2 * pm[3]
            + b1 * (2 * bG2 + 0.8 * bGamma3) * pm[6] + bG2 ** 2 * pm[5] + b2 * bG2 * pm[4]) * h ** 3 + Pshot


def pk_mm_l0(pm, h, cs0):
    return (pm[15] + pm[21] + pm[16] + pm[22] + pm[17] + pm[23] + 2 * cs0 * pm[11] / h ** 2) * h ** 3


def pk_mm_l2(pm, h, cs2):
    return (pm[18] + pm[24] + pm[19] + pm[25] + pm[26] + 2 * cs2 * pm[12] / h ** 2) * h ** 3


def pk_mm_l4(pm, h, cs4):
    return (pm[20] + pm[27] + pm[28] + pm[29] + 2 * cs4 * pm[13] / h ** 2) * h ** 3


def pd2d2_0(pm, h, kh):
    """CLASS-PT initialize_output: simpson((pm14 h^3)^2 kh^3, ln kh)/pi^2 over the user's k
    (kh in 1/Mpc as given; grid dependent, README caveat 1)."""
    return simpson((np.asarray(pm[14]) * h ** 3) ** 2 * kh ** 3, x=np.log(kh)) / np.pi ** 2


def pk_gg_l0(pm, h, f, kh, Pd2d2, b1, b2, bG2, bGamma3, cs0, Pshot, a0, a2, b4):
    return ((pm[15] + pm[21] + b1 * (pm[16] + pm[22]) + b1 ** 2 * (pm[17] + pm[23])
             + 0.25 * b2 ** 2 * pm[1] + b1 * b2 * pm[30] + b2 * pm[31] + b1 * bG2 * pm[32]
             + bG2 * pm[33] + b2 * bG2 * pm[4] + bG2 ** 2 * pm[5] + 2 * cs0 * pm[11] / h ** 2
             + (2 * bG2 + 0.8 * bGamma3) * (b1 * pm[7] + pm[8])) * h ** 3
            + Pshot + a0 * (kh / 0.45) ** 2 + a2 * (1 / 3.) * (kh / 0.45) ** 2 + 0.25 * b2 ** 2 * Pd2d2
            + f ** 2 * b4 * kh ** 2 * (f ** 2 / 9. + 2. * f * b1 / 7. + b1 ** 2 / 5) * (35. / 8.) * pm[13] * h)


def pk_gg_l2(pm, h, f, kh, b1, b2, bG2, bGamma3, cs2, a2, b4):
    return ((pm[18] + pm[24] + b1 * (pm[19] + pm[25]) + b1 ** 2 * pm[26] + b1 * b2 * pm[34]
             + b2 * pm[35] + b1 * bG2 * pm[36] + bG2 * pm[37] + 2 * cs2 * pm[12] / h ** 2
             + (2 * bG2 + 0.8 * bGamma3) * pm[9]) * h ** 3
            + a2 * (2. / 3.) * (kh / 0.45) ** 2
            + f ** 2 * b4 * kh ** 2 * ((70. * f ** 2 + 165. * f * b1 + 99. * b1 ** 2) * (4. / 693.))
            * (35. / 8.) * pm[13] * h)


def pk_gg_l4(pm, h, f, kh, b1, b2, bG2, bGamma3, cs4, b4):
    return ((pm[20] + pm[27] + b1 * pm[28] + b1 ** 2 * pm[29] + b2 * pm[38] + bG2 * pm[39]
             + 2 * cs4 * pm[13] / h ** 2) * h ** 3
            + f ** 2 * b4 * kh ** 2 * ((210. * f ** 2 + 390. * f * b1 + 143. * b1 ** 2) * (8. / 5005.))
            * (35. / 8.) * pm[13] * h)


def _check_bias(method: str, **values) -> None:
    """Bias / counterterm / stochastic parameters of the CLASS-PT wrappers must be finite real numbers
    (scalars or arrays): a NaN or a string would otherwise come back as a NaN spectrum.  Traced values
    (jax.grad / jit through the wrappers) are not inspected."""
    for name, v in values.items():
        if isinstance(v, jax.core.Tracer):
            continue
        try:
            a = np.asarray(v, dtype=float)
        except (TypeError, ValueError):
            raise CosmoSevereError(f"{method}: bias parameter '{name}' = {v!r} is not a real number") from None
        if not np.all(np.isfinite(a)):
            raise CosmoSevereError(f"{method}: bias parameter '{name}' = {v!r} is not finite "
                                   "(allowed: any finite real number)")


class ClassPT:
    """CLASS-PT's classy methods for one cosmology (several redshifts), see module docstring."""

    def __init__(self, pk_cb_pt, f, h, rs_drag, z, tau0, rs_rec, tau_quirk=None, H_z=None,
                 DA_z=None, Omega_g=0.0, Omfid=0.31, ir_resum=True, ap=True, pk_cb_nodes=None,
                 rsd=True):
        """pk_cb_pt: linear P_cb [Mpc^3] per z on `pt_k_grid(tau0, rs_rec, h)` (CLASS-PT's own
        input; exact parity).  Alternatively pass pk_cb_pt=None and pk_cb_nodes: P_cb [Mpc^3]
        per z at the FFTLog nodes fftlog.k_nodes()*h [1/Mpc] (then the input noise of CLASS-PT,
        item 1 of the module docstring, is not reproduced: ~5e-3 of the loop pieces)."""
        self.z = [float(x) for x in np.atleast_1d(z)]
        self.h, self.tau0, self.rs_rec, self.ap = float(h), float(tau0), float(rs_rec), bool(ap)
        self.f = np.atleast_1d(np.asarray(f, float))
        if pk_cb_pt is not None:
            kpt = pt_k_grid(self.tau0, self.rs_rec, self.h)
            lnp = jnp.log(jnp.atleast_2d(jnp.asarray(pk_cb_pt)))
            nz = len(self.z)
            cz, lz = (np.zeros(nz), np.zeros(nz)) if tau_quirk is None else tau_quirk
            pk, sigv, logkp = jax.vmap(lambda y, c, l: classpt_linear_input(y, kpt, h, c, l))(
                lnp, jnp.asarray(cz), jnp.asarray(lz))
        else:
            pk = jnp.atleast_2d(jnp.asarray(pk_cb_nodes)) * h ** 3
            sigv = jax.vmap(spectra.sigma_v2_nodes)(pk)
            logkp = jax.vmap(lambda p: ir.logkp_from_nodes(p, h))(pk)
        if ap:
            hr, Dr = jax.vmap(lambda zz, H, D: ap_ratios(zz, H, D, h, Omfid, Omega_g))(
                jnp.asarray(self.z), jnp.atleast_1d(H_z), jnp.atleast_1d(DA_z))
        else:
            hr = Dr = jnp.ones(len(self.z))
        mats = spectra.loop_matrices()
        nz = len(self.z)
        self.nodes = _components_batched(pk, jnp.asarray(self.f), jnp.full(nz, h),
                                         jnp.full(nz, rs_drag), hr, Dr, sigv, logkp,
                                         bool(ir_resum), self.ap, bool(rsd), mats)
        self.hratio, self.Dratio = hr, Dr
        self._kh = None

    def _iz(self, z):
        if float(z) not in self.z:
            raise CosmoSevereError(f"get_pk_mult: z={z} not in z_pk list {self.z}")
        return self.z.index(float(z))

    def get_pk_mult(self, k, z, k_size=None, no_wiggle=False, alpha_rs=1.0):
        """(96, len(k)) in CLASS-PT units at k [1/Mpc] (CLASS-PT's k-range check included)."""
        if no_wiggle or alpha_rs != 1.0:
            raise NotImplementedOutputError("get_pk_mult: no_wiggle / alpha_rs != 1 not implemented")
        iz = self._iz(z)
        k = np.asarray(k, float)
        kpt = pt_k_grid(self.tau0, self.rs_rec, self.h)
        if k.min() < kpt[0] or k.max() > kpt[-1]:
            raise CosmoSevereError(f"get_pk_mult: k out of bounds [{kpt[0]:e}:{kpt[-1]:e}] 1/Mpc")
        return np.asarray(pk_mult_from_nodes(self.nodes[iz], self.h, k, self.tau0, self.rs_rec,
                                             self.ap))

    def initialize_output(self, k, z, k_size=None):
        self._kh = np.asarray(k, float)
        self._pm = self.get_pk_mult(self._kh, z)
        self._fz = float(self.f[self._iz(z)])
        self._pd2d2 = pd2d2_0(self._pm, self.h, self._kh)

    def pk_mm_real(self, cs):
        _check_bias('pk_mm_real', cs=cs)
        return pk_mm_real(self._pm, self.h, cs)

    def pk_gm_real(self, b1, b2, bG2, bGamma3, cs, cs0):
        _check_bias('pk_gm_real', b1=b1, b2=b2, bG2=bG2, bGamma3=bGamma3, cs=cs, cs0=cs0)
        return pk_gm_real(self._pm, self.h, b1, b2, bG2, bGamma3, cs, cs0)

    def pk_gg_real(self, b1, b2, bG2, bGamma3, cs, cs0, Pshot):
        _check_bias('pk_gg_real', b1=b1, b2=b2, bG2=bG2, bGamma3=bGamma3, cs=cs, cs0=cs0, Pshot=Pshot)
        return pk_gg_real(self._pm, self.h, b1, b2, bG2, bGamma3, cs, cs0, Pshot)

    def pk_mm_l0(self, cs0):
        _check_bias('pk_mm_l0', cs0=cs0)
        return pk_mm_l0(self._pm, self.h, cs0)

    def pk_mm_l2(self, cs2):
        _check_bias('pk_mm_l2', cs2=cs2)
        return pk_mm_l2(self._pm, self.h, cs2)

    def pk_mm_l4(self, cs4):
        _check_bias('pk_mm_l4', cs4=cs4)
        return pk_mm_l4(self._pm, self.h, cs4)

    def pk_gg_l0(self, b1, b2, bG2, bGamma3, cs0, Pshot_nbar, a0_nbar, a2_nbar, b4):
        _check_bias('pk_gg_l0', b1=b1, b2=b2, bG2=bG2, bGamma3=bGamma3, cs0=cs0, Pshot_nbar=Pshot_nbar,
                    a0_nbar=a0_nbar, a2_nbar=a2_nbar, b4=b4)
        return pk_gg_l0(self._pm, self.h, self._fz, self._kh, self._pd2d2, b1, b2, bG2, bGamma3,
                        cs0, Pshot_nbar, a0_nbar, a2_nbar, b4)

    def pk_gg_l2(self, b1, b2, bG2, bGamma3, cs2, a2_nbar, b4):
        _check_bias('pk_gg_l2', b1=b1, b2=b2, bG2=bG2, bGamma3=bGamma3, cs2=cs2, a2_nbar=a2_nbar, b4=b4)
        return pk_gg_l2(self._pm, self.h, self._fz, self._kh, b1, b2, bG2, bGamma3, cs2, a2_nbar, b4)

    def pk_gg_l4(self, b1, b2, bG2, bGamma3, cs4, b4):
        _check_bias('pk_gg_l4', b1=b1, b2=b2, bG2=bG2, bGamma3=bGamma3, cs4=cs4, b4=b4)
        return pk_gg_l4(self._pm, self.h, self._fz, self._kh, b1, b2, bG2, bGamma3, cs4, b4)


@jax.jit
def _components_batched(pk, f, h, rs, hr, Dr, sigv, logkp, ir_resum, ap, rsd, mats):
    """`spectra.components` vmapped over a batch (redshifts, cosmologies); the IR/AP switches are
    traced, so one compilation serves every CLASS-PT option combination."""
    def one(pk, f, h, rs, hr, Dr, sigv, logkp):
        return spectra.components(pk, f, h, rs, hr, Dr, mats, ir_resum=ir_resum, ap=ap,
                                  sigv=sigv, ir_logkp=logkp, rsd=rsd)
    return jax.vmap(one)(pk, f, h, rs, hr, Dr, sigv, logkp)
