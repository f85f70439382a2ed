"""Write CLASS's own source functions and unlensed C_l to ``tests/reference/cmb_los/<name>.npz``.

These test the line-of-sight + harmonic stages (boltzax/transfer.py, harmonic.py) in isolation: feed CLASS's
sources S(k, tau) in, compare with CLASS's ``raw_cl``. Usage: ``python tools/make_cmb_los_reference.py
[NAME ...]`` (default: fid lcdm_1 nur; cosmologies of tools/make_reference.py; needs classy 3.4.1).

CLASS run: the reference cosmology with output = tCl, pCl, lCl, lensing = no, l_max_scalars = 2500.
Stored (compressed npz, ~0.4 MB per cosmology):
* ``k`` [1/Mpc], ``tau`` [Mpc] (float64): CLASS's source grid (perturbations k list incl. the Limber extension,
  tau_sampling);
* ``q_<name>`` (int16, (n_k, n_tau)) and ``scale_<name>`` (float32, (n_k, n_chunk)): the sources t0, t1, t2,
  phi_plus_psi of ``get_sources()`` as S = q / 32767 * scale, one scale per k and per chunk of 32 tau points
  (the chunk's max |S|) for k <= 0.05/Mpc, one per k row above (``dequantise``). Local scales matter at low k:
  with one scale per row the rounding moved low-l TT by 1.5e-3 (large early-time values of the synchronous-gauge
  T sources that cancel in the integral); with these scales the rounding moves C_l by < 2e-5 (fid: TT max error
  3.1e-5 against 2.8e-5 with the exact sources, EE 1.2e-5 both, pp 8.7e-6 against 3.7e-6). phi_plus_psi is
  stored as 0 before the grid point preceding tau_rec (CLASS's lensing source never reads it there). CLASS's p
  source is sqrt(6) t2 exactly (perturbations.c), so it is not stored;
* ``tau0``, ``tau_rec``, ``ra_rec`` (CLASS derived conformal_age, tau_rec, ra_rec: the same doubles CLASS's
  transfer module uses), ``tau_cut`` (CLASS thermodynamics tau_cut, rebuilt from get_thermodynamics: from
  just after the visibility peak towards lower z until g <= 1e-3 g_max), ``A_s``, ``n_s``, ``K`` [1/Mpc^2]
  (CLASS background K = -Omega0_k H0^2, H0 in 1/Mpc);
* ``cl_tt, cl_ee, cl_te, cl_pp, cl_tp`` (float32): ``raw_cl(2500)``; ``input`` (JSON of the CLASS input).
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "reference", "cmb_los")
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))

L_MAX = 2500
STORED = ("t0", "t1", "t2", "phi_plus_psi")


def tau_cut_of(th) -> float:
    """CLASS thermodynamics_calculate_recombination_quantities: tau_cut (see module docstring)."""
    order = np.argsort(th["z"])  # CLASS's table index grows with z
    g, tau = th["g [Mpc^-1]"][order], th["conf. time [Mpc]"][order]
    i = int(np.argmax(g)) - 1  # CLASS stops one row below the peak (its g_max)
    g_max = g[i]
    while g[i] > g_max * 1e-3 and i > 0:
        i -= 1
    return float(tau[i])


CHUNK = 32  # tau points per scale
K_LOCAL = 0.05  # [1/Mpc] rows below get one scale per chunk


def quantise(a: np.ndarray, k: np.ndarray):
    n_k, n_t = a.shape
    nb = -(-n_t // CHUNK)
    ap = np.pad(a, ((0, 0), (0, nb * CHUNK - n_t))).reshape(n_k, nb, CHUNK)
    sc = np.abs(ap).max(axis=2)
    sc = np.where((k > K_LOCAL)[:, None], sc.max(axis=1, keepdims=True), sc)
    sc = np.where(sc > 0, sc, 1.0).astype(np.float32)
    q = np.round(ap / sc[..., None].astype(np.float64) * 32767.0).astype(np.int16)
    return q.reshape(n_k, -1)[:, :n_t], sc


def dequantise(q: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Sources from the stored int16 values and per-(k, chunk) scales."""
    n_k, n_t = q.shape
    sc = np.repeat(scale.astype(np.float64), CHUNK, axis=1)[:, :n_t]
    return q.astype(np.float64) / 32767.0 * sc


def make(name: str) -> str:
    from classy import Class
    from make_reference import cosmologies

    inp = {k: v for k, v in cosmologies()[name].items() if k not in ("r", "modes", "n_t")}
    inp.update({"output": "tCl,pCl,lCl", "lensing": "no", "l_max_scalars": L_MAX})
    c = Class()
    c.set(inp)
    c.compute()
    s, k, tau = c.get_sources()
    cl = c.raw_cl(L_MAX)
    d = c.get_current_derived_parameters(["conformal_age", "tau_rec", "ra_rec", "A_s", "n_s"])
    out = dict(k=k, tau=tau, tau0=d["conformal_age"], tau_rec=d["tau_rec"], ra_rec=d["ra_rec"],
               tau_cut=tau_cut_of(c.get_thermodynamics()), A_s=d["A_s"], n_s=d["n_s"],
               K=-c.Omega0_k() * c.Hubble(0) ** 2,
               input=np.array(json.dumps(inp)))
    assert np.array_equal(s["p"], np.sqrt(6.0) * s["t2"]) or np.allclose(s["p"], np.sqrt(6.0) * s["t2"], rtol=1e-14)
    i_rec = int(np.searchsorted(tau, d["tau_rec"], side="right"))
    for n in STORED:
        a = np.array(s[n])
        if n == "phi_plus_psi":
            a[:, : max(i_rec - 1, 0)] = 0.0
        out[f"q_{n}"], out[f"scale_{n}"] = quantise(a, k)
    for n in ("tt", "ee", "te", "pp", "tp"):
        out[f"cl_{n}"] = cl[n].astype(np.float32)  # rounding 6e-8, << the 2e-4 test tolerance
    c.struct_cleanup()
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, f"{name}.npz")
    np.savez_compressed(path, **out)
    return path


if __name__ == "__main__":
    for nm in sys.argv[1:] or ["fid", "lcdm_1", "nur"]:
        p = make(nm)
        print(p, os.path.getsize(p) / 1e6, "MB")
