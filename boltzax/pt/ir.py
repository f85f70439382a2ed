"""IR resummation: wiggle/no-wiggle split and BAO damping scales (JAX).

Reproduces CLASS-PT's choices (nonlinear_pt.c, function nonlinear_pt_ir_resummation), following
the method of Baldauf, Mirbabayi, Simonović & Zaldarriaga 2015 (arXiv:1504.04366, BMSZ) and
Blas, Garny, Ivanov & Sibiryakov 2016 (arXiv:1605.02149) for the damping:

1. ln(k P(k)) is sampled on N_ir = 65536 *linearly* spaced k in [7e-5, 7] 1/Mpc (natural cubic
   spline of ln P in ln k through the FFTLog nodes) and sine-transformed (CLASS-PT: one real
   FFT of length 4 N_ir with an odd/even embedding; here the equivalent DCT-II / DCT-III of
   length N_ir, identical to round-off).
2. The BAO bump of the transform (harmonics 120 <= i < 240 of the odd and of the even
   coefficient sequences) is removed and bridged by the natural cubic spline (in the harmonic
   index) through the remaining coefficients; the inverse transform gives P_nw; P_w = P - P_nw.
3. Sigma^2 = int_{k_min}^{k_s} dq/(6 pi^2) P_nw(q) [1 - j0(q r) + 2 j2(q r)] and
   delta Sigma^2 = int dq/(2 pi^2) P_nw(q) j2(q r), r = r_s(z_drag) (BMSZ; Ivanov
   et al. 2019, arXiv:1909.05277, sec. 2), k_s = 0.2 h/Mpc, 501-point log grid from 7e-5 1/Mpc,
   trapezoid in ln q (CLASS-PT's quadrature).  j0, j2 are written out as in the C code.

Units: inputs/outputs in h/Mpc and (Mpc/h)^3 except where stated; the 1/Mpc-fixed DST range
is why h is an input.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax.scipy.fft import dct, idct
from scipy.linalg import solve_banded

from boltzax.pt import fftlog

N_IR = 65536
KMIN_IR = 7e-5  # 1/Mpc, CLASS-PT kmin2
KMAX_IR = 7.0  # 1/Mpc, CLASS-PT kmax2
N_LEFT, N_RIGHT = 120, 240  # removed harmonics (CLASS-PT Nleft, Nright)
N_SIGMA = 500  # intervals of the Sigma^2 quadrature (CLASS-PT Nint2)
K_S_H = 0.2  # h/Mpc, upper limit of the Sigma^2 integrals (CLASS-PT ks = 0.2 h)


@functools.lru_cache(maxsize=None)
def _gap_weights(width: int = 100):
    """Rows of y'' = R y at the two knots that bound the removed harmonics, for the natural
    cubic spline through the kept harmonic indices (fixed grid -> constant weights; the rows
    decay like (2-sqrt 3)^|i-j|, truncated at `width` knots, < 1e-50)."""
    n_half = N_IR // 2
    x = np.concatenate([np.arange(1, N_LEFT + 1), np.arange(N_RIGHT + 1, n_half + 1)]).astype(float)
    n = x.size
    h = np.diff(x)
    # natural-spline system A y'' = B y (Numerical Recipes, sec. 3.3), A tridiagonal:
    # A[i, i-1] = h[i-1]/6, A[i, i] = (h[i-1] + h[i])/3, A[i, i+1] = h[i]/6, rows 0, n-1 = e_0, e_n-1
    diag = np.ones(n)
    diag[1:-1] = (h[:-1] + h[1:]) / 3.0
    ab_T = np.zeros((3, n))  # A^T in banded form, to get row j of A^{-1} from A^T z = e_j
    sub = np.zeros(n)  # A[i, i-1]
    sup = np.zeros(n)  # A[i, i+1]
    sub[1:-1] = h[:-1] / 6.0
    sup[1:-1] = h[1:] / 6.0
    ab_T[0, 1:] = sub[1:]  # (A^T)[i, i+1] = A[i+1, i]
    ab_T[1, :] = diag
    ab_T[2, :-1] = sup[:-1]  # (A^T)[i+1, i] = A[i, i+1]
    rows = []
    for j in (N_LEFT - 1, N_LEFT):
        e = np.zeros(n)
        e[j] = 1.0
        z = solve_banded((1, 1), ab_T, e)  # row j of A^{-1}
        r = np.zeros(n)  # (A^{-1} B)[j, :]
        for i in range(1, n - 1):
            r[i - 1] += z[i] / h[i - 1]
            r[i] += z[i] * (-1.0 / h[i - 1] - 1.0 / h[i])
            r[i + 1] += z[i] / h[i]
        lo, hi = max(0, j - width), min(n, j + width)
        rows.append((lo, r[lo:hi]))
    return rows


def _bridge_gap(cm):
    """Replace harmonics [N_LEFT, N_RIGHT) of cm (length N_IR/2) by the spline bridge."""
    (loL, wL), (loR, wR) = _gap_weights()
    kept = jnp.concatenate([cm[:N_LEFT], cm[N_RIGHT:]])
    mL = kept[loL:loL + wL.size] @ wL
    mR = kept[loR:loR + wR.size] @ wR
    yL, yR = cm[N_LEFT - 1], cm[N_RIGHT]
    xL, xR = float(N_LEFT), float(N_RIGHT + 1)
    hh = xR - xL
    t = np.arange(N_LEFT, N_RIGHT) + 1.0
    a = (xR - t) / hh
    b = (t - xL) / hh
    bridge = a * yL + b * yR + ((a ** 3 - a) * mL + (b ** 3 - b) * mR) * hh ** 2 / 6.0
    return jnp.concatenate([cm[:N_LEFT], bridge, cm[N_RIGHT:]])


def dst_grid():
    """The N_IR linearly spaced k [1/Mpc] on which ln(k P) is sine-transformed."""
    return KMIN_IR + np.arange(N_IR) * ((KMAX_IR - KMIN_IR) / (N_IR - 1.0))


def logkp_from_nodes(pk_h, h):
    """ln(k P) [1/Mpc, Mpc^3] on `dst_grid()` from the natural cubic spline of ln P in ln k
    through the FFTLog nodes (P in (Mpc/h)^3 on fftlog.k_nodes() h/Mpc)."""
    lnk0 = jnp.log(fftlog.K_MIN_H * h)  # ln of first node in 1/Mpc
    lnP = jnp.log(pk_h) - 3.0 * jnp.log(h)  # ln P in Mpc^3
    y2 = fftlog.natural_spline_uniform_y2(lnP, fftlog.DELTA)
    lnkg = np.log(dst_grid())
    return lnkg + fftlog.spline_eval_uniform(lnP, y2, lnk0, fftlog.DELTA, lnkg)


def nowiggle(pk_h, h, rs_drag, logkp=None):
    """Split the linear spectrum on the FFTLog nodes into no-wiggle and wiggle parts.

    pk_h: (256,) linear P in (Mpc/h)^3 on `fftlog.k_nodes()`; h: little h; rs_drag: Mpc.
    logkp: optional ln(k P) [k in 1/Mpc, P in Mpc^3] on `dst_grid()`; by default the natural
    cubic spline of ln P in ln k through the nodes (CLASS-PT splines its own k grid instead,
    see classpt_api).
    Returns (P_nw, P_w) on the nodes in (Mpc/h)^3 and (Sigma2, dSigma2) in (Mpc/h)^2.
    """
    n = N_IR
    kn_h = fftlog.k_nodes()
    kstep = (KMAX_IR - KMIN_IR) / (n - 1.0)
    kgrid = dst_grid()
    logkP = logkp_from_nodes(pk_h, h) if logkp is None else logkp
    v = logkP * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    # CLASS-PT takes Re FFT_{4n} of the even sequence with v_i at positions 2i+1 and 4n-2i-1:
    # Re F[m] = 2 sum_i v_i cos(pi m (2i+1)/(2n)) = DCT-II(v)[m]; out_ir[i] = Re F[n-1-i].
    out_ir = dct(v, type=2)[::-1]
    cmodd = _bridge_gap(out_ir[0::2])
    cmeven = _bridge_gap(out_ir[1::2])
    cmnew = jnp.stack([cmodd, cmeven], axis=-1).reshape(n)
    c = cmnew[::-1] * 0.5
    # inverse: Re FFT_{4n} of (c, 0, -c[1:] reversed, -c, 0, c[1:] reversed) at odd indices
    # 2i+1 = 2 DCT-III(c)[i] = 2 (2n) idct(c) (scipy/JAX conventions)
    out2 = (4.0 * n) * idct(c, type=2) * np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    pnw_grid = jnp.exp(out2 / (2.0 * n)) / kgrid  # Mpc^3 on the linear grid
    pnw_y2 = fftlog.natural_spline_uniform_y2(pnw_grid, kstep)

    def pnw_at(k_mpc):
        return fftlog.spline_eval_uniform(pnw_grid, pnw_y2, KMIN_IR, kstep, k_mpc)

    # damping scales (Mpc^2)
    ks = K_S_H * h
    qint = KMIN_IR * jnp.exp(jnp.arange(N_SIGMA + 1) * jnp.log(ks / KMIN_IR) / N_SIGMA)
    pq = pnw_at(qint)
    qr = qint * rs_drag
    s, co = jnp.sin(qr), jnp.cos(qr)
    ib1 = pq * (1.0 - 3.0 * s / qr + 6.0 * (s / qr ** 3 - co / qr ** 2))
    ib2 = -pq * (3.0 * co * qr + (-3.0 + qr ** 2) * s) / qr ** 3
    dln = jnp.diff(jnp.log(qint))
    sig2 = jnp.sum(dln * (qint[1:] * ib1[1:] + qint[:-1] * ib1[:-1]) / 2.0) / (6.0 * np.pi ** 2)
    dsig2 = jnp.sum(dln * (qint[1:] * ib2[1:] + qint[:-1] * ib2[:-1]) / 2.0) / (2.0 * np.pi ** 2)

    k_mpc = kn_h * h
    inside = (k_mpc >= KMIN_IR) & (k_mpc <= KMAX_IR)
    pnw_nodes = pnw_at(jnp.clip(k_mpc, KMIN_IR, KMAX_IR)) * h ** 3
    p_nw = jnp.where(inside, pnw_nodes, pk_h)
    p_w = jnp.where(inside, pk_h - pnw_nodes, 0.0)
    return p_nw, p_w, sig2 * h ** 2, dsig2 * h ** 2
