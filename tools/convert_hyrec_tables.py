"""Convert HyRec-2020's atomic-physics tables (.dat) into boltzax/data/hyrec_tables.npz.

Usage:  python tools/convert_hyrec_tables.py /path/to/HyRec2020 [output.npz]

Source: HyRec-2020 (Y. Ali-Haimoud & C. Hirata 2011, PRD 83, 043513, arXiv:1011.3758; N. Lee &
Y. Ali-Haimoud 2020, PRD 102, 083517, arXiv:2007.14114), as distributed with CLASS v3.4.1 in
external/HyRec2020/. Files read (layouts as read by HyRec's hydrogen.c, allocate_and_read_atomic and
allocate_and_read_fit):

* ``Alpha_inf.dat``: effective recombination coefficients [cm^3/s] of the effective multi-level atom
  (EMLA, n_max = infinity), 100 T_r values (log-spaced 0.004..0.4 eV) x 40 T_m/T_r values
  (linear 0.1..1.0) x 4 columns (alpha_2s(T_m<=T_r), alpha_2p(T_m<=T_r), and the same two for
  T_r/T_m, i.e. T_m > T_r). Stored here as ``alpha`` with shape (4, 40, 100) = [column, T-ratio, T_r].
* ``R_inf.dat``: effective 2p->2s transfer rate R_{2p,2s}(T_r) [1/s], 100 values (same T_r grid): ``R2p2s``.
* ``fit_swift.dat``: SWIFT correction function of Lee & Ali-Haimoud 2020 (their eq. 31): 265 rows of
  (T_r [K], DK/K at the fiducial cosmology, d(DK/K)/d(omega_cb), d(DK/K)/d(omega_b (1-Y)),
  d(DK/K)/d(N_eff)); T_r on a uniform 10 K grid. Stored as ``swift`` with shape (5, 265).

Nothing is fitted or altered: values are copied as read.
"""

from __future__ import annotations

import os
import sys

import numpy as np

NTR, NTM, DKK_SIZE = 100, 40, 265  # HyRec2020 hydrogen.h


def convert(src: str, out: str) -> None:
    a = np.loadtxt(os.path.join(src, "Alpha_inf.dat")).reshape(-1)
    if a.size != NTR * NTM * 4:
        raise ValueError(f"Alpha_inf.dat: expected {NTR * NTM * 4} numbers, got {a.size}")
    # file order: for i in T_r, for j in T_m/T_r, for l in 4 columns
    alpha = np.transpose(a.reshape(NTR, NTM, 4), (2, 1, 0)).copy()
    r = np.loadtxt(os.path.join(src, "R_inf.dat")).reshape(-1)
    if r.size != NTR:
        raise ValueError(f"R_inf.dat: expected {NTR} numbers, got {r.size}")
    f = np.loadtxt(os.path.join(src, "fit_swift.dat"))
    if f.shape != (DKK_SIZE, 5):
        raise ValueError(f"fit_swift.dat: expected shape ({DKK_SIZE}, 5), got {f.shape}")
    if not np.allclose(np.diff(f[:, 0]), 10.0):
        raise ValueError("fit_swift.dat: temperature column is not on a uniform 10 K grid")
    np.savez_compressed(
        out,
        alpha=alpha,
        R2p2s=r,
        swift=f.T.copy(),
        TR_min_eV=np.float64(0.004),
        TR_max_eV=np.float64(0.4),
        T_ratio_min=np.float64(0.1),
        T_ratio_max=np.float64(1.0),
        citation=np.array(
            "HyRec-2020: Ali-Haimoud & Hirata 2011 (arXiv:1011.3758); Lee & Ali-Haimoud 2020 "
            "(arXiv:2007.14114); tables Alpha_inf.dat, R_inf.dat, fit_swift.dat from CLASS v3.4.1 "
            "external/HyRec2020"
        ),
    )


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "boltzax", "data", "hyrec_tables.npz")
    convert(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else default_out)
