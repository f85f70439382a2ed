"""CLASS's multipole sampling and its cubic spline onto every integer l (static, numpy).

CLASS computes C_l at a sparse list of multipoles (``transfer.c: transfer_get_l_list``) and splines them
(``tools/arrays.c: array_spline_table_lines`` with ``_SPLINE_EST_DERIV_``, evaluated by
``array_interpolate_spline``); ``harmonic_cl_at_l`` and ``lensing_cl_at_l`` return these splines.  The
spline is linear in the tabulated values, so it is built here once per node list as a dense matrix
``W`` with ``C(l) = W @ C(nodes)`` (shape (n_l, n_nodes)), to be applied to traced arrays in JAX.
"""

from __future__ import annotations

import functools

import numpy as np

L_LOGSTEP = 1.12  # CLASS precisions.h l_logstep: ratio between consecutive l at low l
L_LINSTEP = 40  # CLASS precisions.h l_linstep: largest step in l

# CLASS's angular rescaling r_a(rec) / (tau0 - tau_rec) in FLAT space is 1 analytically, but CLASS's doubles
# (ra_rec = da_rec (1 + z_rec) from interpolated background tables, thermodynamics.c) give 1 - 0..8 x 2^-53:
# over 150 random flat models in the tests/reference box CLASS 3.4.1 returned a quotient below 1 in 135 (linear
# l step int(40 ar) = 39) and exactly 1 in 15 (step 40); fid, lcdm_1, nur: 1 - 2^-51; w0wa_2: 1
# (session 6, CHANGELOG.md).  The step decides the l nodes, and CLASS's l-spline error (EE: 2.1e-3 at l ~ 500
# against l_linstep = 10) differs between the two node sets by up to 1.4e-3 in EE at l ~ 840: boltzax, whose
# own quotient is exactly 1, uses CLASS's majority outcome.
FLAT_ANGULAR_RESCALING = 1.0 - 2.0**-51


def class_angular_rescaling(ra_rec: float, tau0: float, tau_rec: float, K: float) -> float:
    """The angular rescaling CLASS's l list sees (host floats): r_a(rec) / (tau0 - tau_rec) with curvature,
    FLAT_ANGULAR_RESCALING (CLASS's typical rounding of 1) in flat space."""
    if K == 0.0:
        return FLAT_ANGULAR_RESCALING
    return ra_rec / (tau0 - tau_rec)


def class_l_nodes(l_max: int, angular_rescaling: float = 1.0, l_logstep: float = L_LOGSTEP,
                  l_linstep: int = L_LINSTEP) -> np.ndarray:
    """CLASS ``transfer_get_l_list``: l = 2, then steps max(int(l (l_logstep^ar - 1)), 1) while below
    l_linstep * ar, then steps int(l_linstep * ar), the last node exactly l_max.

    ``angular_rescaling`` (ar) = ra_rec / (conformal_age - tau_rec) (``thermodynamics.c``): 1 in flat
    space up to round-off (which can turn the linear step 40 into int(39.999...) = 39), != 1 with
    curvature. Returns int64 nodes.
    """
    log_factor = pow(l_logstep, angular_rescaling) - 1.0
    lin = l_linstep * angular_rescaling
    nodes = [2]
    inc = max(int(nodes[-1] * log_factor), 1)
    while nodes[-1] + inc < l_max and inc < lin:
        nodes.append(nodes[-1] + inc)
        inc = max(int(nodes[-1] * log_factor), 1)
    inc = int(lin)
    while nodes[-1] + inc <= l_max:
        nodes.append(nodes[-1] + inc)
    if nodes[-1] != l_max:
        nodes.append(l_max)
    return np.asarray(nodes, dtype=np.int64)


def lensed_l_nodes(nodes: np.ndarray, l_lensed_max: int) -> np.ndarray:
    """The nodes CLASS's lensing module keeps (``lensing_indices``): the n nodes <= l_lensed_max and, when
    there are more, the next two (CLASS counts n, adds one "to be able to interpolate till
    l_lensed_max", and then keeps index + 1 = n + 2 nodes); capped at the full list."""
    nodes = np.asarray(nodes)
    n = int(np.sum(nodes <= l_lensed_max))
    if n < len(nodes):
        n += 1
    return nodes[:min(n + 1, len(nodes))]


def _est_deriv_second_derivatives(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``array_spline_table_lines`` (``_SPLINE_EST_DERIV_``; natural for 2 points) for the columns of y:
    the end slopes are those of the parabola through the first (last) three points."""
    n = len(x)
    ddy = np.zeros_like(y)
    u = np.zeros_like(y)
    if n == 2:
        ddy[0] = u[0] = 0.0
    else:
        dy_first = (((x[2] - x[0]) ** 2 * (y[1] - y[0]) - (x[1] - x[0]) ** 2 * (y[2] - y[0]))
                    / ((x[2] - x[0]) * (x[1] - x[0]) * (x[2] - x[1])))
        ddy[0] = -0.5
        u[0] = (3.0 / (x[1] - x[0])) * ((y[1] - y[0]) / (x[1] - x[0]) - dy_first)
    for i in range(1, n - 1):
        sig = (x[i] - x[i - 1]) / (x[i + 1] - x[i - 1])
        p = sig * ddy[i - 1] + 2.0
        ddy[i] = (sig - 1.0) / p
        u[i] = (y[i + 1] - y[i]) / (x[i + 1] - x[i]) - (y[i] - y[i - 1]) / (x[i] - x[i - 1])
        u[i] = (6.0 * u[i] / (x[i + 1] - x[i - 1]) - sig * u[i - 1]) / p
    if n == 2:
        qn = un = np.zeros_like(y[0])
    else:
        dy_last = (((x[-3] - x[-1]) ** 2 * (y[-2] - y[-1]) - (x[-2] - x[-1]) ** 2 * (y[-3] - y[-1]))
                   / ((x[-3] - x[-1]) * (x[-2] - x[-1]) * (x[-3] - x[-2])))
        qn = 0.5
        un = (3.0 / (x[-1] - x[-2])) * (dy_last - (y[-1] - y[-2]) / (x[-1] - x[-2]))
    ddy[-1] = (un - qn * u[-2]) / (qn * ddy[-2] + 1.0)
    for i in range(n - 2, -1, -1):
        ddy[i] = ddy[i] * ddy[i + 1] + u[i]
    return ddy


@functools.lru_cache(maxsize=16)
def class_spline_matrix(nodes: tuple, l_out_max: int, l_out_min: int = 0) -> np.ndarray:
    """W (l_out_max + 1 - l_out_min, len(nodes)) with W @ C(nodes) = CLASS's spline at every integer
    l in [l_out_min, l_out_max] (``array_interpolate_spline``: a C + b C' + ((a^3 - a) C'' + (b^3 - b)
    C''_+) h^2 / 6). Rows for l below nodes[0] are zero (CLASS does not define C_0, C_1)."""
    x = np.asarray(nodes, dtype=np.float64)
    n = len(x)
    dd = _est_deriv_second_derivatives(x, np.eye(n))  # (n, n): column j = response to node j
    ls = np.arange(l_out_min, l_out_max + 1, dtype=np.float64)
    if ls[-1] > x[-1]:
        raise ValueError(f"spline evaluated up to l={l_out_max} beyond the last node {int(x[-1])}")
    w = np.zeros((len(ls), n))
    for row, l in enumerate(ls):
        if l < x[0]:
            continue
        # CLASS's bisection: inf = largest node index with x[inf] <= l (sup = inf + 1), capped at n - 2
        inf = min(int(np.searchsorted(x, l, side="right")) - 1, n - 2)
        sup = inf + 1
        h = x[sup] - x[inf]
        b = (l - x[inf]) / h
        a = 1.0 - b
        w[row, inf] += a
        w[row, sup] += b
        w[row] += ((a * a * a - a) * dd[inf] + (b * b * b - b) * dd[sup]) * h * h / 6.0
    return w
