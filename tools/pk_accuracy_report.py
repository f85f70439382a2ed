"""Linear P(k, z) of boltzax against the stored CLASS reference (`pk` family) at every reference cosmology.

Usage: ``python tools/pk_accuracy_report.py [--precision default] [--only NAME ...] [--stride 5]``.
Modes are solved exactly at the reference wavenumbers (every ``stride``-th one; no k interpolation), and the
maximum relative error of P_m and P_cb over z = 0, 0.5, 1, 2 is printed in k bins (the numbers that go into
CHANGELOG.md's accuracy table).  Needs no classy.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import boltzax  # noqa: E402
from boltzax.fourier import primordial_PR, transfer_grid  # noqa: E402
from boltzax.perturbations import tables_from_boltzax  # noqa: E402
from boltzax.testing import list_references, load_reference, reference_params  # noqa: E402

K_BINS = (5e-4, 1e-2, 0.1, 1.0, 2.0, 5.0 + 1e-9)


def pk_errors(name, prec, stride=5):
    """(k, err_m (n_z, n_k), err_cb) at the reference wavenumbers k >= 5e-4 /Mpc (every stride-th)."""
    pp = prec.perturbations
    ref = load_reference(name)
    res = boltzax.compute(reference_params(name), prec)
    tab = tables_from_boltzax(res.background, res.thermo, pp, pp.n_q_ncdm, res.params.cs2_fld)
    kr = ref["pk/k"]
    idx = np.nonzero(kr >= 5e-4)[0][::stride]
    k = jnp.asarray(kr[idx])
    dm, dcb = jax.jit(lambda t, kk, zz: transfer_grid(kk, zz, t, pp))(tab, k, jnp.asarray(ref["pk/z"]))
    norm = (2 * np.pi**2 / k**3 * primordial_PR(res.params, k))[:, None]
    em = np.asarray(norm * dm**2).T / ref["pk/lin"][:, idx] - 1
    ecb = np.asarray(norm * dcb**2).T / ref["pk/cb_lin"][:, idx] - 1
    return np.asarray(k), em, ecb


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--precision", default="default")
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--stride", type=int, default=5)
    args = ap.parse_args()
    prec = boltzax.get_precision(args.precision)
    names = args.only or list_references()
    bins = list(zip(K_BINS[:-1], K_BINS[1:]))
    print("max |P/P_CLASS - 1| over z = 0, 0.5, 1, 2 (signed value of the largest), P_m / P_cb")
    print(f"{'cosmology':12s}" + "".join(f"  k {lo:.0e}-{hi:.0e}".ljust(22) for lo, hi in bins) + "  time")
    for name in names:
        t0 = time.time()
        k, em, ecb = pk_errors(name, prec, args.stride)
        row = f"{name:12s}"
        for lo, hi in bins:
            m = (k >= lo) & (k < hi)
            cells = []
            for e in (em, ecb):
                sub = e[:, m]
                cells.append(f"{sub.flat[np.argmax(np.abs(sub))]:+.1e}" if sub.size else "-")
            row += f"  {cells[0]} / {cells[1]}".ljust(22)
        print(row + f"  {time.time() - t0:.0f}s", flush=True)


if __name__ == "__main__":
    main()
