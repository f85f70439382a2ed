"""Spherical Bessel functions j_l(x) for the line-of-sight integrals (flat space), as CLASS samples them.

CLASS (``tools/hyperspherical.c``, ``hyperspherical_HIS_create`` with K = 0, beta = 1) tabulates
Phi_l(x) = j_l(x) and dPhi_l(x) = j_l'(x) on a uniform grid x_j = x_min + j dx, dx = (x_max - x_min)/(n_x - 1),
n_x = int((x_max - x_min) sampling / 2 pi) (``hyper_sampling_flat`` = 8 points per period), for the l of the
transfer l-list only, and interpolates them with cubic Hermite polynomials
(``hermite4_interpolation_csource.h``, used for K = 0): j_l from (j_l, j_l') at both nodes, j_l' from
(j_l', j_l'') and j_l'' from (j_l'', j_l'''), the higher derivatives taken from the Bessel equation

    j'' = -2/x j' + (l(l+1)/x^2 - 1) j
    j''' = -2/x j'' - 2 l(l+1)/x^3 j + (-1 + (2 + l(l+1))/x^2) j'.

Outside [x_min, x_max] the functions are zero. Here the table values are exact (scipy's
``spherical_jn``, checked against mpmath to 1e-13 for l <= 5000), built once on the host per static
(l list, x_max, sampling); the interpolation is the same cubic Hermite rule as CLASS, traceable in JAX.

``x_min_phi(l)``: CLASS ``hyperspherical_get_xmin_from_approx`` (K = 0, nu = 1): the x below which
|j_l(x)| < phi_min (``hyper_phi_min_abs`` = 1e-10), from the Debye form of j_l at x < l + 1/2.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np


def x_min_phi(l, phi_min_abs: float = 1e-10):
    """CLASS's ``chi_at_phimin`` for flat space: smallest x where |j_l| reaches phi_min_abs (numpy, l >= 1)."""
    lph = np.asarray(l, dtype=float) + 0.5
    lhs = np.log(2.0 * phi_min_abs * lph) / lph
    alpha = -2.0 * lhs / 5.0 * (1.0 + 2.0 * np.cosh(np.arccosh(1.0 + 375.0 / (16.0 * lhs * lhs)) / 3.0))
    return lph / np.cosh(alpha)


class BesselTable:
    """Host-built table of j_l, j_l' on CLASS's uniform x grid, for a static tuple of l.

    Fields: ``ls`` (n_l,) ints; ``x_min``, ``dx``, ``n_x`` floats/ints; ``phi``, ``dphi`` (n_l, n_x) float64
    numpy arrays; ``x_cut`` (n_l,) = x_min_phi(l). Use ``arrays()`` for the JAX pytree passed to jitted code.
    """

    def __init__(self, ls: tuple[int, ...], x_max: float, sampling: float = 8.0, x_min: float = 1e-5,
                 phi_min_abs: float = 1e-10):
        from scipy.special import spherical_jn

        self.ls = tuple(int(v) for v in ls)
        n_x = max(int((x_max - x_min) * sampling / (2.0 * math.pi)), 2)
        self.n_x = n_x
        self.x_min = float(x_min)
        self.dx = (x_max - x_min) / (n_x - 1.0)
        self.x_max = float(x_max)
        x = x_min + self.dx * np.arange(n_x)
        larr = np.asarray(self.ls)[:, None]
        self.phi = spherical_jn(larr, x[None, :])
        self.dphi = spherical_jn(larr, x[None, :], derivative=True)
        self.x_cut = x_min_phi(np.asarray(self.ls), phi_min_abs)

    def arrays(self) -> dict:
        """The table as a dict of jnp arrays (a pytree argument for jitted functions), built once: ``phi``,
        ``dphi``, ``intervals`` (`interval_table`), ``ls``, ``x_cut``."""
        if getattr(self, "_arrays", None) is not None:
            return self._arrays
        with jax.ensure_compile_time_eval():  # concrete even if first built inside a trace (the cache outlives it)
            iv = interval_table(self)
            self._arrays = dict(phi=jnp.asarray(self.phi), dphi=jnp.asarray(self.dphi), intervals=iv,
                                intervals32=iv.astype(jnp.float32),
                                ls=jnp.asarray(np.asarray(self.ls, dtype=float)), x_cut=jnp.asarray(self.x_cut))
        return self._arrays


@functools.lru_cache(maxsize=8)
def bessel_table(ls: tuple[int, ...], x_max: float, sampling: float = 8.0, x_min: float = 1e-5) -> BesselTable:
    """Cached `BesselTable` for a static (l list, x_max, sampling): in memory, and on disk under
    ``~/.cache/boltzax/bessel`` (scipy needs ~10 s per l_max = 2500 table; reading it back ~0.1 s)."""
    import hashlib
    import os

    key = hashlib.sha1(repr((ls, float(x_max), float(sampling), float(x_min))).encode()).hexdigest()[:16]
    path = os.path.join(os.path.expanduser("~"), ".cache", "boltzax", "bessel", f"{key}.npz")
    if os.path.exists(path):
        try:
            with np.load(path) as f:
                tab = BesselTable.__new__(BesselTable)
                tab.ls, tab.x_min, tab.x_max = tuple(int(v) for v in f["ls"]), float(x_min), float(x_max)
                tab.n_x, tab.dx = int(f["n_x"]), float(f["dx"])
                tab.phi, tab.dphi, tab.x_cut = f["phi"], f["dphi"], f["x_cut"]
                return tab
        except (OSError, KeyError, ValueError):
            pass
    tab = BesselTable(ls, x_max, sampling, x_min)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp.npz"
        np.savez(tmp, ls=np.asarray(tab.ls), n_x=tab.n_x, dx=tab.dx, phi=tab.phi, dphi=tab.dphi, x_cut=tab.x_cut)
        os.replace(tmp, path)
    except OSError:
        pass
    return tab


def hermite_j(phi_l, dphi_l, l, x, x_min: float, dx: float, derivatives: int = 2):
    """j_l, j_l', j_l'' at x (any shape) from one l's table rows (CLASS's cubic Hermite interpolation).

    phi_l, dphi_l: (n_x,) table rows; l: scalar (float); x_min, dx: static grid. Returns a tuple of
    ``derivatives + 1`` arrays shaped like x, zero outside the table (CLASS sets them to 0 there)."""
    n_x = phi_l.shape[0]
    t = (x - x_min) / dx
    inside = (x >= x_min) & (t <= n_x - 1)
    i = jnp.clip(jnp.floor(t).astype(jnp.int32), 0, n_x - 2)
    z = t - i
    xm = x_min + dx * i
    xp = xm + dx
    ym, yp = phi_l[i], phi_l[i + 1]
    dym, dyp = dphi_l[i], dphi_l[i + 1]
    ll1 = l * (l + 1.0)
    # second and third derivatives at the nodes from the Bessel equation (flat: sinK = x, cotK = 1/x)
    d2ym = -2.0 * dym / xm + ym * (ll1 / (xm * xm) - 1.0)
    d2yp = -2.0 * dyp / xp + yp * (ll1 / (xp * xp) - 1.0)
    z2 = z * z
    z3 = z2 * z

    def cubic(f0, f1, g0, g1):
        a0 = g0 * dx
        a1 = -2.0 * g0 * dx - g1 * dx - 3.0 * f0 + 3.0 * f1
        a2 = g0 * dx + g1 * dx + 2.0 * f0 - 2.0 * f1
        return f0 + a0 * z + a1 * z2 + a2 * z3

    out = [cubic(ym, yp, dym, dyp)]
    if derivatives >= 1:
        out.append(cubic(dym, dyp, d2ym, d2yp))
    if derivatives >= 2:
        d3ym = -2.0 * d2ym / xm - 2.0 * ym * ll1 / xm ** 3 + dym * (-1.0 + (2.0 + ll1) / (xm * xm))
        d3yp = -2.0 * d2yp / xp - 2.0 * yp * ll1 / xp ** 3 + dyp * (-1.0 + (2.0 + ll1) / (xp * xp))
        out.append(cubic(d2ym, d2yp, d3ym, d3yp))
    return tuple(jnp.where(inside, o, 0.0) for o in out)


def node_derivatives(table: BesselTable):
    """j_l'' and j_l''' at the table nodes from the Bessel equation (as CLASS computes them when interpolating)."""
    x = table.x_min + table.dx * np.arange(table.n_x)
    lf = np.asarray(table.ls, dtype=float)[:, None]
    ll1 = lf * (lf + 1.0)
    d2 = -2.0 * table.dphi / x + table.phi * (ll1 / (x * x) - 1.0)
    d3 = -2.0 * d2 / x - 2.0 * table.phi * ll1 / x ** 3 + table.dphi * (-1.0 + (2.0 + ll1) / (x * x))
    return d2, d3


def interval_table(table: BesselTable):
    """(n_l, n_x - 1, 8): per interval [j, j', j'', j'''] at its left then its right node, so that one gather of
    8 contiguous numbers serves the three Hermite cubics of `hermite_j_intervals`."""
    d2, d3 = node_derivatives(table)
    nodes = np.stack([table.phi, table.dphi, d2, d3], axis=-1)
    return jnp.asarray(np.concatenate([nodes[:, :-1], nodes[:, 1:]], axis=-1))


def hermite_j_intervals(intervals_l, x, x_min: float, dx: float, derivatives: int = 2):
    """j_l, j_l', j_l'' at x from one l's interval table (n_x - 1, 8): the cubic Hermite rule of `hermite_j`
    (CLASS hermite4) with the node derivatives precomputed; zero outside the table."""
    n_int = intervals_l.shape[0]
    t = (x - x_min) / dx
    inside = (x >= x_min) & (t <= n_int)
    i = jnp.clip(jnp.floor(t).astype(jnp.int32), 0, n_int - 1)
    z = (t - i).astype(intervals_l.dtype)  # float32 tables: the polynomial in float32, z from float64 x
    c = intervals_l[i] if derivatives == 2 else intervals_l[:, jnp.array([0, 1, 4, 5])][i]
    z2 = z * z
    z3 = z2 * z
    h00 = 1.0 - 3.0 * z2 + 2.0 * z3
    h01 = 3.0 * z2 - 2.0 * z3
    h10 = (z - 2.0 * z2 + z3) * jnp.asarray(dx, z.dtype)
    h11 = (z3 - z2) * jnp.asarray(dx, z.dtype)
    if derivatives == 0:  # only [j, j'] at both nodes were gathered
        out = [h00 * c[..., 0] + h01 * c[..., 2] + h10 * c[..., 1] + h11 * c[..., 3]]
    else:
        out = [h00 * c[..., m] + h01 * c[..., 4 + m] + h10 * c[..., m + 1] + h11 * c[..., 5 + m] for m in range(3)]
    return tuple(jnp.where(inside, o, 0.0) for o in out)
