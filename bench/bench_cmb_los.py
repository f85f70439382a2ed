"""Time the line-of-sight + harmonic stages (transfer.py, harmonic.py) on CLASS's own sources (fid, l_max 2500),
against CLASS's transfer + harmonic (+ primordial, fourier) stages in the same run.

Usage: ``python bench/bench_cmb_los.py`` (CLASS part skipped without classy). Prints: first call (trace +
compile + run; with an empty or a filled persistent compilation cache, see boltzax/_config.py), warm (best of 3),
a per-piece profile of the warm call, and CLASS's time for the same stages (compute up to 'harmonic' minus
compute up to 'perturbations', best of 3).
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))


def best(f, n=3):
    import jax

    ts = []
    for _ in range(n):
        t = time.perf_counter()
        jax.block_until_ready(f())
        ts.append(time.perf_counter() - t)
    return min(ts)


def main():
    t_import = time.perf_counter()
    import jax
    import jax.numpy as jnp

    from boltzax import harmonic
    from boltzax import transfer as tr
    from boltzax.bessel import bessel_table
    from boltzax.precision import TransferPrecision
    from boltzax.splines import spline_d2, spline_eval
    from test_cmb_los import load

    d, src = load("fid")
    args = (d["k"], d["tau"], float(d["tau0"]), float(d["tau_rec"]), float(d["ra_rec"]), float(d["tau_cut"]),
            float(d["A_s"]), float(d["n_s"]), 0.0, 0.05)
    t0 = time.perf_counter()
    jax.block_until_ready(harmonic.unlensed_cls(src, *args, l_max=2500))
    first = time.perf_counter() - t0
    warm = best(lambda: harmonic.unlensed_cls(src, *args, l_max=2500))
    print(f"boltzax LOS+harmonic, l_max 2500: import {t0 - t_import:.1f} s, first call {first:.1f} s, "
          f"warm {warm:.3f} s")

    prec = TransferPrecision()
    sizes = tr.grid_sizes(2500, prec, *[float(d[n]) for n in ("tau0", "tau_rec", "ra_rec")], d["k"], d["tau"],
                          float(d["tau_cut"]))
    table = bessel_table(sizes.ls, sizes.x_max, prec.hyper_sampling_flat, prec.hyper_x_min).arrays()
    k, tau, tau0, tau_rec = jnp.asarray(d["k"]), jnp.asarray(d["tau"]), float(d["tau0"]), float(d["tau_rec"])
    s_all = jnp.stack([jnp.asarray(src[n]) for n in tr.SOURCE_NAMES], -1)
    q, _ = tr.q_grid(k, tau0, tau_rec, 2500, sizes.n_q, prec)
    f_k = jax.jit(lambda s: spline_eval(k, s, spline_d2(k, s), q))
    s_q = f_k(s_all)
    r = tau0 - tau
    w = tr.trapezoid_weights(r)
    f_los = jax.jit(lambda sq: tr.cmb_transfers(table, sizes, prec, q, sq[..., :4], r, w, float(d["ra_rec"]),
                                                tau0 - float(d["tau_cut"])))

    def lens(sq):
        tau_l, r_l, n_eff = tr.lensing_time_grid(tau, tau0, tau_rec, sizes.n_geo, prec, 2500, sizes.n_lens)
        s_lens = tr.lensing_source(sq[..., 4], tau, tau_l, r_l, tau0, tau_rec, n_eff)
        il = np.nonzero(np.asarray(sizes.ls) <= prec.l_switch_limber)[0]
        return tr.lensing_bessel_transfers(table, sizes, prec, q, s_lens, r_l, tr.trapezoid_weights(r_l), il)

    f_lens = jax.jit(lens)
    for name, f in (("sources splined in k", lambda: f_k(s_all)), ("T, E line of sight", lambda: f_los(s_q)),
                    ("phi line of sight (l <= 30)", lambda: f_lens(s_q))):
        jax.block_until_ready(f())
        print(f"  {name}: {best(f):.3f} s")
    print(f"  grids: n_l {len(sizes.ls)}, n_q {sizes.n_q}, window {sizes.n_win}, n_tau {d['tau'].size}, "
          f"early {sizes.n_early}, lensing times {sizes.n_lens}, Limber q {sizes.n_limber}")

    try:
        from classy import Class
    except ImportError:
        return
    inp = eval(str(d["input"]).replace("true", "True"))  # noqa: S307 (our own JSON of CLASS inputs)
    res = {}
    for lev in ("perturbations", "harmonic"):
        ts = []
        for _ in range(3):
            c = Class()
            c.set(inp)
            t = time.perf_counter()
            c.compute(level=[lev])
            ts.append(time.perf_counter() - t)
            c.struct_cleanup()
        res[lev] = min(ts)
    print(f"CLASS (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}): up to perturbations "
          f"{res['perturbations']:.2f} s, up to harmonic {res['harmonic']:.2f} s: "
          f"primordial+fourier+transfer+harmonic {res['harmonic'] - res['perturbations']:.2f} s")


if __name__ == "__main__":
    main()
