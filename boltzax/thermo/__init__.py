"""Thermodynamics of the photon-baryon plasma: recombination (RECFAST or HyRec-2020), reionisation,
optical depth, visibility function and the derived CMB/BAO scales, following CLASS v3.4.1
(``source/thermodynamics.c``).

Modules
-------
* ``recfast``: `recombination_history` in RECFAST-1.5 mode (CLASS ``recombination = recfast``).
* ``hyrec``: the same signature in HyRec-2020 mode (written separately).
* ``reionization``: CLASS's ``reio_camb`` tanh model and the tau_reio <-> z_reio relation.
* ``bbn``: primordial helium fraction from CLASS's BBN table.
* ``thermodynamics``: `thermodynamics_solve(params, bg, prec) -> Thermo` and `thermodynamics_table`.

`rec_z_grid` below is the static redshift grid shared by the recombination solvers and the
thermodynamics tables (so that no re-interpolation is needed when they agree).
"""

from __future__ import annotations

import numpy as np

# Redshifts at which CLASS switches its recombination approximation scheme
# (include/precisions.h: recfast_z_He_1 + recfast_delta_z_He_1, recfast_z_He_2 + recfast_delta_z_He_2,
# recfast_z_He_3 + recfast_delta_z_He_3, recfast_z_early_H_recombination, recfast_z_full_H_recombination,
# recfast_z_switch_late, reionization_z_start_max; thermodynamics.c, thermodynamics_workspace_init).
Z_BREC_END = 8050.0  # end of "before recombination" (H, He fully ionised; Saha HeIII)
Z_HE1_END = 4600.0  # end of HeIII -> HeII Saha phase
Z_HE1F_END = 3550.0  # end of the phase between the two helium recombinations
Z_HE2_END = 2870.0  # start of early H recombination (x_He evolved from here)
Z_H_END = 1600.0  # start of the full H + He equations (x_H evolved from here)
Z_SWITCH_LATE = 800.0  # recfast_z_switch_late: Peebles C always used, He K simplified
Z_REIO_START_MAX = 50.0  # reionization_z_start_max

# fraction of the n_z grid points given to each segment between the edges below (z decreasing)
_EDGES_FIXED = (Z_BREC_END, Z_HE1_END, Z_HE1F_END, Z_HE2_END, Z_H_END, Z_SWITCH_LATE, Z_REIO_START_MAX, 0.0)
_FRACTIONS = (0.01, 0.05, 0.03, 0.03, 0.13, 0.35, 0.25, 0.15)


def rec_z_grid(z_ini: float, n_z: int) -> tuple[np.ndarray, tuple[int, ...]]:
    """Static decreasing redshift grid from ``z_ini`` to 0 with ``n_z`` points (numpy, host side).

    Uniform in z inside each segment between the CLASS approximation switches, so that every switch
    redshift is a grid node. Returns ``(z, node_index)`` where ``node_index[k]`` is the index of the
    k-th edge (z_ini, 8050, 4600, 3550, 2870, 1600, 800, 50, 0) in ``z``.
    """
    if z_ini <= Z_BREC_END:
        raise ValueError(f"z_ini = {z_ini} must exceed {Z_BREC_END} (start of helium recombination)")
    edges = (float(z_ini),) + _EDGES_FIXED
    counts = [max(4, int(round(f * (n_z - 1)))) for f in _FRACTIONS]
    counts[-3] += (n_z - 1) - sum(counts)  # absorb rounding in the 800 -> 50 segment
    pieces, nodes, k = [], [0], 0
    for a, b, n in zip(edges[:-1], edges[1:], counts):
        pieces.append(np.linspace(a, b, n + 1)[:-1])
        k += n
        nodes.append(k)
    z = np.concatenate(pieces + [np.array([0.0])])
    return z, tuple(nodes)


__all__ = ["rec_z_grid"]
