"""Benchmark: one-loop PT (boltzax.pt) for one cosmology at three redshifts vs CLASS-PT.

boltzax timings (warm, best of N, this machine):
  * native: all loop pieces on the FFTLog nodes for z = 0.38, 0.61, 1.0 (one jitted, vmapped
    call: IR split, matter and bias loops, RSD, AP) + interpolation to 60 k + assembly of
    P_gg, P_mm multipoles (l = 0, 2, 4) and real-space spectra;
  * assembly only (new bias parameters, loops reused);
  * CLASS-PT layer: ClassPT(...) (same loops + CLASS-PT's input/output chain) + get_pk_mult and
    the wrappers for 3 z.
CLASS-PT is not installed here: its numbers come from the reference data
(/work/shared/reference/classpt/classpt_timing.json, same 2-core machine class): Class.compute()
with the PT switches minus the same cosmology without them ("PT part").

Run: python bench/bench_pt.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _harness import best_of  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REF = ROOT / "tests" / "reference" / "classpt" / "classpt_ref.npz"
TIMING = Path("/work/shared/reference/classpt/classpt_timing.json")


def classpt_timings():
    """Median CLASS-PT compute / linear-only / extraction times per OMP_NUM_THREADS [s]."""
    if not TIMING.exists():
        return None
    runs = json.loads(TIMING.read_text())["runs"]
    out = {}
    for r in runs.values():
        t = r["OMP_NUM_THREADS"]
        for row in r["rows"]:
            d = out.setdefault(t, {"compute": [], "linear": [], "extract": []})
            d["compute"].append(row["seconds_compute"])
            d["linear"].append(row["seconds_compute_linear_only"])
            d["extract"].append(row["seconds_extract"])
    return {t: {k: float(np.median(v)) for k, v in d.items()} for t, d in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    import jax
    import jax.numpy as jnp

    import boltzax  # noqa: F401
    from boltzax.pt import bias, classpt_api as cpt, spectra

    R = dict(np.load(REF))
    c = 0
    h, rs = float(R["h"][c]), float(R["rs_drag"][c])
    kh = R["k_h"]
    pk = jnp.asarray(R["pk_lin_cb_fftlog"][c] * h ** 3)
    f, hr, Dr = (jnp.asarray(R[n][c]) for n in ("f_z", "AP_hratio", "AP_Dratio"))

    t0 = time.perf_counter()
    mats = spectra.loop_matrices()
    t_mats = time.perf_counter() - t0

    @jax.jit
    def loops(pk, f, hr, Dr):
        nodes = jax.vmap(lambda p, ff, a_, b_: spectra.components(p, ff, h, rs, a_, b_, mats))(pk, f, hr, Dr)
        return jax.vmap(lambda n: bias.pieces_at_k(n, kh))(nodes)

    p = bias.BiasParams(b1=2.0, b2=-1.0, bG2=0.1, bGamma3=-0.1, cs0=0.0, cs2=30.0, cs4=0.0,
                        Pshot=3000.0, b4=500.0)

    @jax.jit
    def assemble(pieces, f, p):
        return jax.vmap(lambda c_, ff: bias.all_spectra(c_, kh, ff, p))(pieces, f)

    def full():
        return jax.block_until_ready(assemble(loops(pk, f, hr, Dr), f, p))

    t0 = time.perf_counter()
    full()
    t_first = time.perf_counter() - t0
    t_full = best_of(full, a.repeat)
    pieces = jax.block_until_ready(loops(pk, f, hr, Dr))
    t_asm = best_of(lambda: jax.block_until_ready(assemble(pieces, f, p)), a.repeat)

    n = int(R["n_pt"][c])

    def classpt_layer():
        pt = cpt.ClassPT(np.exp(R["lnpk_pt"][c][:, :n]), R["f_z"][c], h, rs, R["z"], R["tau0"][c],
                         R["rs_rec"][c], tau_quirk=(R["tau_c"][c], R["tau_l"][c]), H_z=R["H_z"][c],
                         DA_z=R["DA_z"][c], Omega_g=R["Omega_g"][c])
        for z in R["z"]:
            pt.initialize_output(kh * h, z, kh.size)
            pt.pk_gg_l0(2.0, -1.0, 0.1, -0.1, 0.0, 3000.0, 0.0, 0.0, 500.0)
            pt.pk_gg_l2(2.0, -1.0, 0.1, -0.1, 30.0, 0.0, 500.0)
            pt.pk_gg_l4(2.0, -1.0, 0.1, -0.1, 0.0, 500.0)

    classpt_layer()
    t_layer = best_of(classpt_layer, max(2, a.repeat // 2))

    print(f"boltzax.pt, fiducial cosmology, z = 0.38, 0.61, 1.0, {kh.size} k, "
          f"{jax.devices()[0].platform.upper()} ({os.cpu_count()} cores visible)")
    print(f"  kernel matrices (first use, numpy, cached): {t_mats:8.3f} s")
    print(f"  first call (jit compile + run):             {t_first:8.3f} s")
    print(f"  warm: loops + all multipoles, 3 z:          {1e3 * t_full:8.1f} ms")
    print(f"  warm: assembly only (new bias params), 3 z: {1e3 * t_asm:8.3f} ms")
    print(f"  warm: CLASS-PT layer (ClassPT + get_pk_mult + wrappers), 3 z: {1e3 * t_layer:8.1f} ms")
    ct = classpt_timings()
    if ct is None:
        print("  CLASS-PT timing file not found; README: ~6.4 s (2 threads) per cosmology, "
              "of which ~0.9 s linear")
        return
    for thr in sorted(ct):
        d = ct[thr]
        pt_part = d["compute"] - d["linear"]
        print(f"CLASS-PT (OMP_NUM_THREADS={thr}, median): compute {d['compute']:.2f} s, linear only "
              f"{d['linear']:.2f} s -> PT part {pt_part:.2f} s; extraction {1e3 * d['extract']:.1f} ms; "
              f"ratio PT part / boltzax warm = {pt_part / t_full:.0f}x")


if __name__ == "__main__":
    main()
