"""End-to-end unlensed C_l (boltzax sources -> line of sight -> harmonic) vs the CLASS reference cl/unlensed_*."""
import sys, time
import numpy as np, jax
import boltzax
from boltzax.testing import reference_params, load_reference
from boltzax.pipeline import compute
from boltzax.perturbations.sources import scalar_sources
from boltzax import harmonic

def tau_cut_of(th, bg):
    z = np.asarray(th.z); g = np.asarray(th.g)
    tau = np.asarray(bg.tau_of_z(z))
    order = np.argsort(z); z, g, tau = z[order], g[order], tau[order]
    i = int(np.argmax(g)) - 1; gm = g[i]
    while g[i] > gm * 1e-3 and i > 0: i -= 1
    return float(tau[i])

prec = boltzax.get_precision("default")
for name in sys.argv[1:]:
    params = reference_params(name)
    ref = load_reference(name)
    t = time.perf_counter()
    res = compute(params, prec)
    src, k, tau = scalar_sources(res, prec)
    jax.block_until_ready(src)
    t1 = time.perf_counter() - t
    th, bg = res.thermo, res.background
    cls = harmonic.unlensed_cls({n: np.asarray(v) for n, v in src.items()}, np.asarray(k), np.asarray(tau),
                                float(bg.conformal_age), float(th.tau_rec), float(th.ra_rec), tau_cut_of(th, bg),
                                float(res.params.A_s), float(res.params.n_s), 0.0, 0.05, l_max=2500)
    t2 = time.perf_counter() - t
    ell = np.arange(2501); m = (ell >= 2)
    import os
    alt = f"/tmp/class_{name}_2500.npz"
    R = {x: (np.load(alt)[x] if os.path.exists(alt) else ref[f"cl/unlensed_{x}"][:2501]) for x in ("tt", "ee", "te", "pp")}
    np.savez(f"/tmp/bx_{name}_2500.npz", **{x: np.asarray(cls[x]) for x in ("tt","ee","te","pp")})
    c = {x: np.asarray(cls[x]) for x in R}
    e = lambda x, den: np.abs(c[x] - R[x]) / den
    ett = e("tt", np.abs(R["tt"])); eee = e("ee", np.abs(R["ee"])); ete = e("te", np.sqrt(R["tt"] * R["ee"]))
    epp = e("pp", np.abs(R["pp"]))
    for lab, er, hi in (("TT", ett, 2500), ("EE", eee, 2500), ("TE", ete, 2500), ("pp", epp, 2000)):
        mm = m & (ell <= hi)
        j = np.argmax(np.where(mm, er, 0))
        print(f"{name} {lab}: max {er[mm].max():.2e} at l={j}  median {np.median(er[mm]):.1e}  l<30 max {er[2:30].max():.1e}")
    print(f"{name}: sources {len(k)}x{len(tau)} {t1:.1f}s, total {t2:.1f}s")
