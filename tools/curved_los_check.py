"""C_l^TT, EE, TE of the curved-space prototype (boltzax/transfer_curved.py) from CLASS's own sources, against
CLASS's raw_cl: ``python tools/curved_los_check.py [ok_pos|ok_neg] [l_max]`` (reference npz from
tools/make_cmb_los_reference.py, which stores K). Slow (host loop over q, minutes): a measurement, not a test."""

from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, ".."))


def main(name="ok_pos", l_max=2500, ref_dir=os.path.join(HERE, "..", "tests", "reference", "cmb_los")):
    import jax.numpy as jnp

    from boltzax import transfer as tr
    from boltzax import transfer_curved as tc
    from boltzax.bessel import bessel_table
    from boltzax.harmonic import l_interpolation_matrix
    from boltzax.precision import TransferPrecision
    from make_cmb_los_reference import dequantise

    f = np.load(os.path.join(ref_dir, f"{name}.npz"))
    k, tau = f["k"], f["tau"]
    tau0, tau_rec, ra_rec, tau_cut, K = (float(f[n]) for n in ("tau0", "tau_rec", "ra_rec", "tau_cut", "K"))
    src = {n: dequantise(f[f"q_{n}"], f[f"scale_{n}"]) for n in ("t0", "t1", "t2")}
    src["p"] = math.sqrt(6.0) * src["t2"]
    prec = TransferPrecision()
    ls = tr.l_list(l_max, prec.l_logstep, prec.l_linstep, ra_rec / (tau0 - tau_rec))
    # CLASS perturbations.c k_max_cmb = k_max_tau0_over_l_max l_max / tau0 / angular_rescaling (k_size_cl)
    ar = ra_rec / (tau0 - tau_rec)
    i_kmax = min(int(np.searchsorted(k, prec.k_max_tau0_over_l_max * l_max / tau0 / ar)), k.size - 1)
    q, i_flat = tc.q_list_curved(k[0], k[i_kmax], K, tau0, tau_rec, ra_rec, prec)
    kq = np.sqrt(q * q - K)
    print(f"{name}: K={K:.3e}, n_q={q.size}, flat approximation from index {i_flat}, n_l={len(ls)}", flush=True)
    s_all = np.stack([src[n] for n in ("t0", "t1", "t2", "p")], axis=-1)
    s_q = np.asarray(tr.sources_at(jnp.asarray(k), jnp.asarray(s_all), jnp.asarray(kq)))
    sq = math.sqrt(abs(K))
    x_max_flat = 1.1 * q[-1] * tau0 * max(1.0, 1.0)
    flat = bessel_table(ls, float(x_max_flat), prec.hyper_sampling_flat, prec.hyper_x_min)
    t = time.time()
    d_t, d_e = tc.transfers_curved(s_q, q, K, tau, tau0, tau_rec, ra_rec, tau_cut, ls, i_flat, flat, prec)
    print(f"transfers {time.time() - t:.0f} s", flush=True)
    def cl(d1, d2):
        return tc.cl_curved(d1, d2, q, K, i_flat, float(f["A_s"]), float(f["n_s"]))

    mat = l_interpolation_matrix(ls, l_max)
    out = {}
    for nm, (a, b) in dict(tt=(d_t, d_t), ee=(d_e, d_e), te=(d_t, d_e)).items():
        out[nm] = mat @ cl(a, b)
    ell = np.arange(2, l_max + 1)
    ref = {n: f[f"cl_{n}"].astype(float) for n in ("tt", "ee", "te")}
    for nm in ("tt", "ee"):
        rel = np.abs(out[nm][2:] / ref[nm][2:] - 1.0)
        print(nm, "max rel", rel.max(), "at l", ell[rel.argmax()], " l<=30:", rel[:29].max(), " 30<l<=500:",
              rel[29:499].max(), " l>500:", rel[499:].max(), flush=True)
    te_rel = np.abs(out["te"][2:] - ref["te"][2:]) / np.sqrt(ref["tt"][2:] * ref["ee"][2:])
    print("te max |dTE|/sqrt(TT EE)", te_rel.max(), "at l", ell[te_rel.argmax()])
    for lo, hi in ((2, 30), (31, 400), (401, 1000), (1001, 2000), (2001, 2500), (2501, 3000)):
        sl = slice(lo - 2, min(hi, l_max) - 1)
        if lo > l_max:
            break
        print(f"  l {lo}-{hi}: TT {np.abs(out['tt'][2:] / ref['tt'][2:] - 1)[sl].max():.2e}  "
              f"EE {np.abs(out['ee'][2:] / ref['ee'][2:] - 1)[sl].max():.2e}  TE {te_rel[sl].max():.2e}")
    np.savez(os.path.join("/tmp", f"curved_los_{name}.npz"), **{f"boltzax_{n}": v for n, v in out.items()},
             **{f"class_{n}": v for n, v in ref.items()}, d_t=d_t, d_e=d_e, q=q, ls=np.asarray(ls))
    return out, ref


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "ok_pos", int(sys.argv[2]) if len(sys.argv) > 2 else 2500,
         *(sys.argv[3:4]))
