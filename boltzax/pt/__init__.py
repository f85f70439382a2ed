"""One-loop EFT-of-LSS perturbation theory (CLASS-PT parity), differentiable in JAX.

Native units: k in h/Mpc, P in (Mpc/h)^3.  Layers:

* `kernels`, `matrices`: exact one-loop kernels (SPT/redshift-space/bias) and their FFTLog
  matrices, derived in closed form at first use (no precomputed files);
* `fftlog`, `ir`: FFTLog decomposition, natural splines, wiggle/no-wiggle split, Sigma^2;
* `spectra.components`: every loop piece on the FFTLog nodes (expensive, once per cosmology
  and redshift; jit/vmap/grad);
* `bias`: bias/counterterm pytree and the cheap assembly of P_mm, P_gm, P_gg, multipoles;
* `classpt_api`: CLASS-PT-compatible `get_pk_mult` and wrappers (CLASS-PT units and quirks).
"""
