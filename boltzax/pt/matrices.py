"""Numerical FFTLog kernel matrices, grouped as CLASS-PT groups its loop integrals.

Built once (numpy, ~2 s, cached) from the exact kernels of `kernels.py`.  Every matrix is
independent of cosmology in h/Mpc units; the growth rate f enters as a polynomial whose
coefficient matrices are stored separately (`f_powers`), so that one jitted function serves all
cosmologies and redshifts.

Groups (names follow nonlinear_pt.c, function nonlinear_pt_loop; "dd/vd/vv" = coefficient of
b1^2 / b1^1 / b1^0 in Z1 Z_n, "muN" = power of the line-of-sight cosine):

* matter P22, bias -0.3: mu0_dd (= real-space F2 F2), mu2_vd, mu2_dd, mu4_vv, mu4_vd, mu4_dd,
  mu6_vv, mu6_vd, mu8;
* matter P13, bias -0.3: mu0_dd (= real-space F3), mu2_dd, mu2_vd, mu4_vv, mu4_vd, mu6, each with
  its UV coefficient C_UV(f) (P13 ⊃ -C_UV k^2 sigma_v^2 P);
* bias P22, bias -1.6000001: real-space Id2d2 = 2 int P P, Id2 = 2 int F2 P P, IG2 = 2 int F2 S P P,
  Id2G2 = 2 int S P P, IG2G2 = 2 int S^2 P P; redshift space b1b2 / b2 = coefficient of b1 b2 / b2
  in 2 int Z2_g^2 P P, i.e. 2 int Z2m P P split by powers of b1, and b1bG2 / bG2 = 4 int Z2m S P P,
  each as mu^0, mu^2, mu^4 pieces;
* bias P13, bias -1.6000001: I_FG2 (see kernels.p13_kernels).
"""

from __future__ import annotations

import functools

import numpy as np

from boltzax.pt import fftlog, kernels

# (mu power, b1 power) -> CLASS-PT group name
P22_GROUPS = {
    "mu0_dd": (0, 2), "mu2_vd": (2, 1), "mu2_dd": (2, 2), "mu4_vv": (4, 0), "mu4_vd": (4, 1),
    "mu4_dd": (4, 2), "mu6_vv": (6, 0), "mu6_vd": (6, 1), "mu8": (8, 0),
}
P13_GROUPS = {
    "mu0_dd": (0, 2), "mu2_dd": (2, 2), "mu2_vd": (2, 1), "mu4_vv": (4, 0), "mu4_vd": (4, 1),
    "mu6": (6, 0),
}
MAX_FPOW = 4


@functools.lru_cache(maxsize=None)
def matter_matrices():
    """{'p22': {group: (f powers, array (n_f, N+1, N+1))}, 'p13': {group: array (MAX_FPOW+1, N+1)},
    'uv': {group: array (MAX_FPOW+1,)}} for the matter loops (FFTLog bias -0.3)."""
    nu = -0.5 * fftlog.etas(fftlog.B_MATTER)
    n = nu.size
    k22 = kernels.p22_kernels()["mm"]
    k13 = kernels.p13_kernels()["mm"]
    p22, p13, uv = {}, {}, {}
    for g, (mu, b1) in P22_GROUPS.items():
        fps = sorted(fp for (m, fp, bp) in k22 if m == mu and bp == b1)
        p22[g] = (tuple(fps), np.stack([kernels.m22_matrix(k22[(mu, fp, b1)], nu) for fp in fps]))
    for g, (mu, b1) in P13_GROUPS.items():
        arr = np.zeros((MAX_FPOW + 1, n), complex)
        u = np.zeros(MAX_FPOW + 1)
        for (m, fp, bp), (logc, cuv) in k13.items():
            if m == mu and bp == b1:
                arr[fp] = kernels.m13_vector(logc, nu)
                u[fp] = float(cuv)
        p13[g] = arr
        uv[g] = u
    return {"p22": p22, "p13": p13, "uv": uv}


@functools.lru_cache(maxsize=None)
def bias_matrices():
    """Bias-operator loops (FFTLog bias -1.6000001).

    Returns {'real': {name: (N+1, N+1)}, 'rsd': {name: ((mu, f) powers, array (n, N+1, N+1))},
    'fg2': (N+1,)} with rsd names b1b2, b2, b1bG2, bG2 and mu powers 0, 2, 4."""
    nu = -0.5 * fftlog.etas(fftlog.B_BIAS)
    n = nu.size
    k22 = kernels.p22_kernels()
    real = {}
    for name, src in (("Id2d2", "d2d2"), ("Id2", "F2d2"), ("IG2", "F2G2"), ("Id2G2", "d2G2"),
                      ("IG2G2", "G2G2")):
        real[name] = kernels.m22_matrix(k22[src][(0, 0, 0)], nu)
    rsd = {}
    for name, src, b1pow, fac in (("b1b2", "b2", 1, 1.0), ("b2", "b2", 0, 1.0),
                                  ("b1bG2", "bG2", 1, 2.0), ("bG2", "bG2", 0, 2.0)):
        keys = sorted((m, fp) for (m, fp, bp) in k22[src] if bp == b1pow)
        rsd[name] = (tuple(keys), np.stack([fac * kernels.m22_matrix(k22[src][(m, fp, b1pow)], nu)
                                            for m, fp in keys]))
    logc, _ = kernels.p13_kernels()["FG2"][(0, 0, 0)]
    fg2 = kernels.m13_vector(logc, nu)
    return {"real": real, "rsd": rsd, "fg2": fg2}
