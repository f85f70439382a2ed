"""FFTLog grid, power-law decomposition and natural cubic splines (JAX).

Native units of `boltzax.pt`: k in h/Mpc, P in (Mpc/h)^3.

The grid is CLASS-PT's (nonlinear_pt.c, function nonlinear_pt_loop): N = 256 log-spaced nodes
from k_min = 5e-5 h/Mpc to k_max = 100 h/Mpc (CLASS-PT writes 5e-5*h and 100*h in 1/Mpc, the
same nodes), Delta = ln(k_max/k_min)/(N-1).  The linear spectrum on the nodes is decomposed as
(Simonović et al. 2018, arXiv:1708.08130, sec. 2; CLASS-PT macro FFT_TO_CMSYM)

    P(k_l) = sum_{j=-N/2}^{N/2} c_j k_l^{eta_j},   eta_j = b + 2 pi i j/(N Delta),
    c_j = k_min^{-eta_j}/N sum_l P_l e^{-b l Delta} e^{-2 pi i j l/N}   (end coefficients halved),

with the bias b = -0.3 for the matter loops and b = -1.6000001 for the bias-operator loops
(CLASS-PT's choices; the 1e-7 keeps nu1+nu2 away from the poles of the master integral).
In h/Mpc units the nodes are cosmology independent, so every kernel matrix is a constant.

Splines: CLASS-PT interpolates every FFTLog-grid result with natural cubic splines in k
(array_spline_table_columns with _SPLINE_NATURAL_); `spline_second_derivs` / `spline_eval`
reproduce that (Press et al., Numerical Recipes, sec. 3.3).
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
from jax.lax.linalg import tridiagonal_solve

N_FFT = 256
K_MIN_H = 5e-5  # h/Mpc
K_MAX_H = 100.0  # h/Mpc
DELTA = float(np.log(K_MAX_H / K_MIN_H) / (N_FFT - 1))
B_MATTER = -0.3
B_BIAS = -1.6000001


@functools.lru_cache(maxsize=None)
def k_nodes() -> np.ndarray:
    """The 256 FFTLog nodes in h/Mpc."""
    return K_MIN_H * np.exp(np.arange(N_FFT) * DELTA)


@functools.lru_cache(maxsize=None)
def etas(b: float) -> np.ndarray:
    """Complex exponents eta_j, j = -N/2 .. N/2 (N+1 values)."""
    js = np.arange(N_FFT + 1) - N_FFT / 2
    return b + 2j * np.pi * js / (N_FFT * DELTA)


@functools.lru_cache(maxsize=None)
def _power_table(b: float):
    """E[j, l] = k_l^{eta_j} on the nodes (h/Mpc units), and the FFT phase factors."""
    k = k_nodes()
    eta = etas(b)
    E = np.exp(eta[:, None] * np.log(k)[None, :])
    return E


def fftlog_coeffs(pk, b: float):
    """c_j (N+1, complex) of P on the nodes; ``pk`` (..., 256) in (Mpc/h)^3."""
    n = N_FFT
    w = np.exp(-np.arange(n) * b * DELTA)
    out = jnp.fft.fft(pk * w, axis=-1)
    eta = etas(b)
    js = np.arange(n + 1) - n // 2
    idx = np.abs(js)
    vals = out[..., idx]
    vals = jnp.where(js < 0, jnp.conj(vals), vals)
    pref = np.exp(-eta * np.log(K_MIN_H)) / n
    pref = pref.copy()
    pref[0] *= 0.5
    pref[-1] *= 0.5
    return vals * pref


def x_matrix(pk, b: float):
    """X[..., j, l] = c_j k_l^{eta_j}; P22(k_l) = k_l^3 Re(X[:, l]^T M X[:, l]) (complex reference
    form; `spectra` uses the equivalent real form `y_matrix` / `to_real_quadratic`)."""
    c = fftlog_coeffs(pk, b)
    return c[..., :, None] * _power_table(b)


@functools.lru_cache(maxsize=None)
def real_basis() -> np.ndarray:
    """T (N+1, N+1) with x = T y for real y = (Re x_0, Re x_1..x_{N/2}, Im x_1..x_{N/2}).

    For a real spectrum x_{-j} = conj(x_j) (c_{-j} = conj(c_j) and k^{eta_{-j}} = conj(k^{eta_j})),
    so every quadratic form Re(x^T M x) equals y^T Re(T^T M T) y with a real matrix: a real
    (N+1)^2 product instead of a complex one (4x fewer flops)."""
    n2 = N_FFT // 2
    T = np.zeros((N_FFT + 1, N_FFT + 1), complex)
    T[n2, 0] = 1.0
    for j in range(1, n2 + 1):
        T[n2 + j, j] = 1.0
        T[n2 + j, n2 + j] = 1j
        T[n2 - j, j] = 1.0
        T[n2 - j, n2 + j] = -1j
    return T


def to_real_quadratic(M):
    """Real symmetric Q with Re(x^T M x) = y^T Q y (numpy, for constant kernel matrices)."""
    T = real_basis()
    Q = np.real(T.T @ M @ T)  # broadcasts over stacked matrices
    return 0.5 * (Q + np.swapaxes(Q, -1, -2))


def to_real_linear(m):
    """Real r with Re(sum_j m_j x_j) = r . y."""
    return np.real(m @ real_basis())


def y_matrix(pk, b: float):
    """Real coordinates Y[..., a, l] of X[..., :, l] in `real_basis` (from the j >= 0 half)."""
    c = fftlog_coeffs(pk, b)
    n2 = N_FFT // 2
    xp = c[..., n2:, None] * _power_table(b)[n2:]
    return jnp.concatenate([jnp.real(xp), jnp.imag(xp[..., 1:, :])], axis=-2)


def quad_form(M, X, Y=None):
    """Re(sum_ij X_il M_ij Y_jl) for every node l (Y defaults to X)."""
    Y = X if Y is None else Y
    return jnp.real(jnp.sum(X * (M @ Y), axis=-2))


def dot13(m13, X):
    """Re(sum_j X_jl m13_j) for every node l."""
    return jnp.real(jnp.einsum("...jl,j->...l", X, m13))


# ---------------------------------------------------------------------------------------------
# Natural cubic splines
# ---------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def natural_spline_matrix(x_key: tuple) -> np.ndarray:
    """R such that y'' = R @ y for the natural cubic spline through (x, y) (numpy, dense)."""
    x = np.asarray(x_key)
    n = x.size
    h = np.diff(x)
    A = np.zeros((n, n))
    B = np.zeros((n, n))
    A[0, 0] = A[-1, -1] = 1.0
    for i in range(1, n - 1):
        A[i, i - 1] = h[i - 1] / 6.0
        A[i, i] = (h[i - 1] + h[i]) / 3.0
        A[i, i + 1] = h[i] / 6.0
        B[i, i - 1] = 1.0 / h[i - 1]
        B[i, i] = -1.0 / h[i - 1] - 1.0 / h[i]
        B[i, i + 1] = 1.0 / h[i]
    return np.linalg.solve(A, B)


def spline_eval_matrix(x: np.ndarray, xe: np.ndarray) -> np.ndarray:
    """Dense (len(xe), len(x)) matrix of the natural cubic spline through x evaluated at xe."""
    R = natural_spline_matrix(tuple(np.asarray(x, float)))
    n = x.size
    i = np.clip(np.searchsorted(x, xe) - 1, 0, n - 2)
    h = x[i + 1] - x[i]
    a = (x[i + 1] - xe) / h
    bb = (xe - x[i]) / h
    W = np.zeros((xe.size, n))
    rows = np.arange(xe.size)
    W[rows, i] += a
    W[rows, i + 1] += bb
    W += ((a ** 3 - a) * h ** 2 / 6.0)[:, None] * R[i]
    W += ((bb ** 3 - bb) * h ** 2 / 6.0)[:, None] * R[i + 1]
    return W


def natural_spline_uniform_y2(y, h: float):
    """Second derivatives of the natural cubic spline through y on a uniform grid of step h,
    by a tridiagonal solve (JAX, O(n), differentiable)."""
    n = y.shape[-1]
    rhs = (y[..., 2:] - 2 * y[..., 1:-1] + y[..., :-2]) * (6.0 / h ** 2)
    m = n - 2
    dl = jnp.concatenate([jnp.zeros(1), jnp.ones(m - 1)])
    du = jnp.concatenate([jnp.ones(m - 1), jnp.zeros(1)])
    d = jnp.full(m, 4.0)
    flat = rhs.reshape(-1, m).T
    sol = tridiagonal_solve(dl, d, du, flat).T.reshape(rhs.shape)
    z = jnp.zeros(y.shape[:-1] + (1,))
    return jnp.concatenate([z, sol, z], axis=-1)


def spline_eval_uniform(y, y2, x0: float, h: float, xe):
    """Evaluate the natural cubic spline (y, y2) on the uniform grid x0 + i h at traced xe."""
    n = y.shape[-1]
    t = (xe - x0) / h
    i = jnp.clip(jnp.floor(t).astype(int), 0, n - 2)
    b = t - i
    a = 1.0 - b
    yi, yj = jnp.take(y, i, axis=-1), jnp.take(y, i + 1, axis=-1)
    y2i, y2j = jnp.take(y2, i, axis=-1), jnp.take(y2, i + 1, axis=-1)
    return a * yi + b * yj + ((a ** 3 - a) * y2i + (b ** 3 - b) * y2j) * h ** 2 / 6.0


def spline_eval_nodes(y, y2, xe):
    """Natural cubic spline in k on the (non-uniform) FFTLog nodes, at traced k values xe."""
    x = jnp.asarray(k_nodes())
    i = jnp.clip(jnp.searchsorted(x, xe) - 1, 0, N_FFT - 2)
    xi, xj = x[i], x[i + 1]
    h = xj - xi
    a = (xj - xe) / h
    b = (xe - xi) / h
    yi, yj = jnp.take(y, i, axis=-1), jnp.take(y, i + 1, axis=-1)
    y2i, y2j = jnp.take(y2, i, axis=-1), jnp.take(y2, i + 1, axis=-1)
    return a * yi + b * yj + ((a ** 3 - a) * y2i + (b ** 3 - b) * y2j) * h ** 2 / 6.0


def spline_y2_nodes(y):
    """y'' of the natural cubic spline in k through the FFTLog nodes (dense matrix, constant)."""
    R = natural_spline_matrix(tuple(k_nodes()))
    return y @ R.T
