"""CLASS-PT's classy methods on `boltzax.Class` (``'non linear': 'PT'``): the glue between the classy
wrapper and `boltzax.pt.classpt_api.ClassPT` (one-loop EFT pieces with CLASS-PT's units and quirks).

Options (CLASS-PT's names and defaults, parsed by `params_pt._pt_options`): ``'IR resummation'`` (Yes),
``'Bias tracers'`` (Yes; the bias pieces are always computed), ``'RSD'`` (No), ``'AP'`` (read only when RSD
is on; then Yes unless 'No'), ``'Omfid'`` (0.31), ``'cb'`` (Yes: loops from the CDM+baryon spectrum, No:
total matter), ``'z_pk'`` (the redshifts at which the pieces are computed; `get_pk_mult` accepts only
these), ``'PNG'`` (No), ``'FFTLog mode'`` (the default 256 nodes). Values boltzax does not implement (PNG,
FFTLog 128/512, Input Pk, no-wiggle, alpha_rs != 1, PT_k_max_h/Mpc != 100) raise
`NotImplementedOutputError`; anything that is not Yes/No for a switch raises `CosmoSevereError`.

Methods, with classy.pyx's (CLASS-PT e02293a, "v3 API") argument orders and units::

    get_pk_mult(k_1/Mpc, z, k_size)        -> (96, k_size), Mpc^3 (10-13: Mpc); 48-95 (PNG) zero
    initialize_output(k_1/Mpc, z, k_size)
    pk_mm_real(cs), pk_gm_real(b1, b2, bG2, bGamma3, cs, cs0), pk_gg_real(..., cs, cs0, Pshot)
    pk_mm_l0(cs0), pk_mm_l2(cs2), pk_mm_l4(cs4)
    pk_gg_l0(b1, b2, bG2, bGamma3, cs0, Pshot_nbar, a0_nbar, a2_nbar, b4)
    pk_gg_l2(b1, b2, bG2, bGamma3, cs2, a2_nbar, b4), pk_gg_l4(b1, b2, bG2, bGamma3, cs4, b4)

The wrappers return (Mpc/h)^3 with CLASS-PT's k-unit quirks (b4, a0, a2 use the k given to
`initialize_output`, i.e. 1/Mpc; `pk_gg_l0` adds 1/4 b2^2 Pd2d2_0): see `classpt_api`.

Linear input.  CLASS-PT reads the linear P_cb(k, z) at the wavenumbers where CLASS solved its
perturbations, CLASS's perturbation k grid (`classpt_api.pt_k_grid`, 1e-5 to 100 h/Mpc, ~130 points),
and splines it itself.  boltzax does the same: it solves its perturbations exactly at those grid points
between the precision's ``pk_k_min`` (1e-4/Mpc) and PT_K_SOLVE = 5/Mpc (the range where boltzax's P(k) is
validated against CLASS), independently of the P(k) table behind ``pk_lin``: interpolating that table
(200 modes, cubic in ln k) leaves a BAO-scale ripple of up to 4.4e-4 in P, which the one-loop multipole
pieces 26-29 amplify to 4.2e-3 of their amplitude (dev cosmology 5, z = 1); solved exactly, every piece
agrees with CLASS-PT to 3.8e-4 there (tests/test_pt_class.py).
Outside that range the spectrum is continued, as CLASS's fourier module does (tools/extrapolate_source.c):
above the last solved k_1 with ``extrap_max_scaled``, delta(k) = delta(k_1) ln(a k)/ln(a k_1), a fixed by
the last two solved points -- modes that entered the horizon well before equality grow logarithmically
in the radiation era (Meszaros), T(k) ~ ln(k)/k^2, and massive neutrinos only rescale delta_cb there
(k >> k_free-streaming); below k_min (super-horizon today) with a constant transfer function, delta ~ k^2.
Measured with CLASS-PT's own linear spectrum replaced by these continuations: pieces 0-39 at
0.005-0.3 h/Mpc change by 3e-5 of their amplitude (above 5/Mpc; 1.2e-4 from 2/Mpc, 6e-4 from 1/Mpc) and
< 1e-7 (below 1e-4/Mpc).  Everything else (time-interpolation quirk, k grids, AP ratios) follows
`classpt_api` with boltzax's own background and thermodynamics.
"""

from __future__ import annotations

import functools

import numpy as np

from .errors import CosmoComputationError, CosmoSevereError

PT_K_SOLVE = 5.0  # [1/Mpc] largest wavenumber solved for the PT input (see the module docstring)
_CHUNK = 16  # modes per call of the jitted solve (fixed shape: one compilation for every cosmology)


def check_request(request) -> None:
    """With non linear = PT, CLASS-PT needs the linear spectrum: output must contain mPk."""
    if request.non_linear == "pt" and "mPk" not in request.output:
        raise CosmoSevereError("Parameter 'non linear' = PT needs the linear power spectrum: add 'mPk' to "
                               "'output' (as CLASS-PT)")


@functools.lru_cache(maxsize=None)
def _solvers(precision):
    import jax

    from .fourier import transfer_grid
    from .perturbations import tables_from_boltzax

    pp = precision.perturbations
    # the same tables as pipeline.linear_power
    tables = jax.jit(lambda bg, th, cs2_fld: tables_from_boltzax(bg, th, pp, pp.n_q_ncdm, cs2_fld))
    solve = jax.jit(lambda tab, k, z: transfer_grid(k, z, tab, pp))
    return tables, solve


def solve_pk(res, precision, k, z, cb=True):
    """Linear P_cb (cb=True) or P_m [Mpc^3], shape (len(k), len(z)), from perturbations solved exactly at
    the wavenumbers k [1/Mpc] (no interpolation in k), P = 2 pi^2/k^3 P_R(k) delta^2."""
    from .fourier import primordial_PR

    tables, solve = _solvers(precision)
    tab = tables(res.background, res.thermo, res.params.cs2_fld)
    k = np.asarray(k, dtype=float)
    z = np.asarray(z, dtype=float)
    n = k.size
    kp = np.concatenate([k, np.full(-n % _CHUNK, k[-1])])
    d = [np.asarray(solve(tab, kp[i:i + _CHUNK], z)[0 if not cb else 1]) for i in range(0, kp.size, _CHUNK)]
    delta = np.concatenate(d)[:n]
    return (2.0 * np.pi ** 2 / k ** 3 * np.asarray(primordial_PR(res.params, k)))[:, None] * delta ** 2


def extend_pk(k_solved, pk_solved, k, params):
    """P [Mpc^3] (len(k), nz) at CLASS's grid points k (a superset of k_solved, increasing): the solved
    values inside, CLASS's extrap_max_scaled continuation delta ~ ln(a k) above, delta ~ k^2 below (module
    docstring); pk_solved (len(k_solved), nz)."""
    from .fourier import primordial_PR

    pr = lambda x: np.asarray(primordial_PR(params, np.asarray(x, dtype=float)))  # noqa: E731
    k = np.asarray(k, dtype=float)
    ks = np.asarray(k_solved, dtype=float)
    P = np.asarray(pk_solved, dtype=float)
    lo, hi = k < ks[0], k > ks[-1]
    out = np.empty((k.size, P.shape[1]))
    idx = np.searchsorted(ks, k[~(lo | hi)])
    if not np.allclose(ks[idx], k[~(lo | hi)], rtol=1e-12, atol=0):
        raise ValueError("extend_pk: k_solved must be the points of k inside [k_solved[0], k_solved[-1]]")
    out[~(lo | hi)] = P[idx]
    if lo.any():  # T(k) -> const: delta ~ k^2, P ~ k P_R(k)
        out[lo] = P[:1] * (k[lo] / ks[0] * pr(k[lo]) / pr(ks[:1]))[:, None]
    if hi.any():  # delta ~ ln(a k), a from the last two solved points (CLASS extrap_max_scaled)
        k0, k1 = ks[-2], ks[-1]
        s = np.sqrt(P[-2:] * ks[-2:, None] ** 3 / pr(ks[-2:])[:, None])  # delta up to a constant, (2, nz)
        lna = (s[0] * np.log(k1) - s[1] * np.log(k0)) / (s[1] - s[0])
        d = s[1] * (lna + np.log(k[hi])[:, None]) / (lna + np.log(k1))
        out[hi] = d ** 2 * (pr(k[hi]) / k[hi] ** 3)[:, None]
    return out


class PTMixin:
    """CLASS-PT's methods of `boltzax.Class`. The host class provides ``_r()`` (computed Results),
    ``_request``, ``_precision`` and the classy accessors (Hubble, angular_distance, ...)."""

    _pt = None

    def _pt_compute(self) -> None:
        """Build the CLASS-PT pieces at every z of z_pk (called by compute() when non linear = PT)."""
        request = self._request
        if request is None or request.non_linear != "pt":
            self._pt = None
            return
        from .precision import get_precision
        from .pt import classpt_api as cpt

        opt = request.pt
        res = self._r()
        z_pk = [float(z) for z in request.z_pk]
        h = float(res.params.h)
        d = self.get_current_derived_parameters(["conformal_age", "rs_rec", "rs_d"])
        tau0, rs_rec, rs_d = d["conformal_age"], d["rs_rec"], d["rs_d"]
        kpt = cpt.pt_k_grid(tau0, rs_rec, h)
        prec = get_precision(self._precision)
        sel = (kpt >= prec.pk_k_min) & (kpt <= PT_K_SOLVE)
        pk_solved = solve_pk(res, prec, kpt[sel], z_pk, cb=opt.cb)
        if not np.all(np.isfinite(pk_solved)):
            raise CosmoComputationError("non-finite linear power spectrum (PT input)")
        pk = extend_pk(kpt[sel], pk_solved, kpt, res.params).T  # (nz, nk) Mpc^3
        self._pt_input = (kpt, pk)  # CLASS-PT's linear input (k [1/Mpc], P [Mpc^3] per z), for inspection
        zz = np.asarray(z_pk)
        quirk = cpt.tau_interpolation_quirk(res.background, z_pk, z_max=request.z_max_pk)
        self._pt = cpt.ClassPT(pk, np.atleast_1d(self.scale_independent_growth_factor_f(zz)), h, rs_d, z_pk,
                               tau0, rs_rec, tau_quirk=quirk, H_z=np.atleast_1d(self.Hubble(zz)),
                               DA_z=np.atleast_1d(self.angular_distance(zz)), Omega_g=float(self.Omega_g),
                               Omfid=opt.Omfid, ir_resum=opt.ir_resum, ap=opt.ap, rsd=opt.rsd)
        self._pt_output = False

    def _pt_obj(self):
        self._r()
        if self._pt is None:
            raise CosmoSevereError("No one-loop PT computed: set 'non linear': 'PT' (with 'output': 'mPk' and "
                                   "'z_pk'), as for CLASS-PT")
        return self._pt

    def _pt_ready(self):
        pt = self._pt_obj()
        if not getattr(self, "_pt_output", False):
            raise CosmoSevereError("Call initialize_output(k, z, k_size) before the PT spectra (as CLASS-PT)")
        return pt

    @staticmethod
    def _k_array(k, k_size):
        k = np.atleast_1d(np.asarray(k, dtype=float))
        if k.ndim != 1:
            raise CosmoSevereError("k must be a one-dimensional array of wavenumbers [1/Mpc]")
        if k_size is not None and int(k_size) != k.size:
            raise CosmoSevereError(f"k_size = {k_size} differs from len(k) = {k.size}")
        return k

    def get_pk_mult(self, k, z, k_size=None, no_wiggle=False, alpha_rs=1.0):
        """CLASS-PT's 96 one-loop pieces (96, len(k)) at k [1/Mpc] and z (one of z_pk), CLASS-PT units:
        Mpc^3 (indices 10-13: Mpc). Indices 48-95 (primordial non-Gaussianity) are zero."""
        pt = self._pt_obj()
        return pt.get_pk_mult(self._k_array(k, k_size), z, no_wiggle=no_wiggle, alpha_rs=alpha_rs)

    def initialize_output(self, k, z, k_size=None):
        """Store the pieces at k [1/Mpc] and z for the pk_mm_* / pk_gm_* / pk_gg_* wrappers."""
        pt = self._pt_obj()
        self._pt_output = False
        pt.initialize_output(self._k_array(k, k_size), z)
        self._pt_output = True

    def pk_mm_real(self, cs):
        """Real-space matter P [(Mpc/h)^3] at the initialize_output k."""
        return self._pt_ready().pk_mm_real(cs)

    def pk_gm_real(self, b1, b2, bG2, bGamma3, cs, cs0):
        return self._pt_ready().pk_gm_real(b1, b2, bG2, bGamma3, cs, cs0)

    def pk_gg_real(self, b1, b2, bG2, bGamma3, cs, cs0, Pshot):
        return self._pt_ready().pk_gg_real(b1, b2, bG2, bGamma3, cs, cs0, Pshot)

    def pk_mm_l0(self, cs0):
        return self._pt_ready().pk_mm_l0(cs0)

    def pk_mm_l2(self, cs2):
        return self._pt_ready().pk_mm_l2(cs2)

    def pk_mm_l4(self, cs4):
        return self._pt_ready().pk_mm_l4(cs4)

    def pk_gg_l0(self, b1, b2, bG2, bGamma3, cs0, Pshot_nbar, a0_nbar, a2_nbar, b4):
        return self._pt_ready().pk_gg_l0(b1, b2, bG2, bGamma3, cs0, Pshot_nbar, a0_nbar, a2_nbar, b4)

    def pk_gg_l2(self, b1, b2, bG2, bGamma3, cs2, a2_nbar, b4):
        return self._pt_ready().pk_gg_l2(b1, b2, bG2, bGamma3, cs2, a2_nbar, b4)

    def pk_gg_l4(self, b1, b2, bG2, bGamma3, cs4, b4):
        return self._pt_ready().pk_gg_l4(b1, b2, bG2, bGamma3, cs4, b4)
