"""One-loop EFT-of-LSS perturbation theory (CLASS-PT parity), differentiable in JAX.

Native units: k in h/Mpc, P in (Mpc/h)^3.  Layers:

* `kernels`, `matrices`: exact one-loop kernels (SPT/redshift-space/bias) and their FFTLog
  matrices, derived in closed form at first use (no precomputed files);
* `fftlog`, `ir`: FFTLog decomposition, natural splines, wiggle/no-wiggle split, Sigma^2;
* `spectra.components`: every loop piece on the FFTLog nodes (expensive, once per cosmology
  and redshift; jit/vmap/grad);
* `bias`: bias/counterterm pytree and the cheap assembly of P_mm, P_gm, P_gg, multipoles;
* `classpt_api`: CLASS-PT-compatible `get_pk_mult` and wrappers (CLASS-PT units and quirks).

Quick start (native units)::

    from boltzax.pt import spectra, bias
    mats = spectra.loop_matrices()                       # constant kernel matrices (cached)
    nodes = spectra.components(pk_nodes, f, h, rs_drag, hratio, Dratio, mats)   # jit/vmap/grad
    c = bias.pieces_at_k(nodes, k_h)                     # (48, nk), CLASS-PT's piece layout
    P0, P2, P4 = bias.p_gg_ell(c, k_h, f, bias.BiasParams(b1=2.0, b2=-1.0, Pshot=3000.0))
"""
from boltzax.pt.bias import BiasParams, all_spectra, pieces_at_k  # noqa: E402
from boltzax.pt.classpt_api import ClassPT  # noqa: E402
from boltzax.pt.spectra import components, loop_matrices  # noqa: E402

__all__ = ["BiasParams", "ClassPT", "all_spectra", "components", "loop_matrices", "pieces_at_k"]
