"""classy's nonlinear-spectrum methods on `boltzax.Class` (``non_linear = halofit`` or ``hmcode``).

``pk(k, z)``, ``pk_cb(k, z)``, ``get_pk(_cb)``, ``get_pk_all(..., nonlinear=True)``,
``get_pk_and_k_and_z(nonlinear=True)``, ``get_pk(_cb)_array(..., nonlinear=True)`` return HaloFit's P_nl
(`boltzax.nonlinear.halofit`); ``pk_lin`` stays linear; ``nonlinear_scale(z, z_size)`` / ``nonlinear_scale_cb``
return k_nl [1/Mpc] of P_m / P_cb; ``nonlinear_method`` is CLASS's enum (0 none, 1 halofit, 2 HMcode;
include/fourier.h).  With ``non_linear = hmcode`` the same methods return HMcode's P_nl
(`boltzax.nonlinear.hmcode`, glue in `classy_api.nonlinear_hmcode`: P_nl at CLASS's perturbation
wavenumbers and the requested z, then CLASS's spline of ln P_nl in ln k), ``nonlinear_scale`` its
k_nl = 1 / R_nl (sigma_cb(R_nl) = delta_c).

As CLASS (perturbations.c), the linear spectrum behind HaloFit is solved up to the last wavenumber of
CLASS's grid beyond max(P_k_max, nonlinear_min_k_max = 5 /Mpc) (`nonlinear.class_k_grid`).  HaloFit is
evaluated at the requested redshift itself (CLASS: at its time nodes, then a spline in ln tau; the two
differ by < 1e-5 at z <= 3).  Where sigma(R_min) < 1 (no nonlinear scale inside the k range, z >~ 5 for
P_k_max = 20 /Mpc) the linear spectrum is returned, as CLASS does; ``nonlinear_scale`` is NaN there.
CLASS linearly interpolates k_nl between its time nodes in ``nonlinear_scale`` (0.1-1 % off the exact
k_nl(z) between nodes); boltzax returns the exact value.
"""

from __future__ import annotations

import functools

import numpy as np

from ..errors import CosmoComputationError, CosmoSevereError, NotImplementedOutputError
from ._base import CallableFloat

# CLASS enum non_linear_method (include/fourier.h): nl_none, nl_halofit, nl_HMcode
NONLINEAR_METHODS = {"none": 0, "halofit": 1, "hmcode": 2}


def check_nonlinear_request(request) -> None:
    """HaloFit and HMcode need the linear spectrum (mPk) or a lensing potential to correct (lCl; CLASS input.c
    sets has_nl_corrections_based_on_delta_m for either)."""
    if request.non_linear in ("halofit", "hmcode") and "mPk" not in request.output and "lCl" not in request.output:
        raise CosmoSevereError(f"Parameter 'non_linear' = {request.non_linear} needs the linear power spectrum or the "
                               "lensing potential: add 'mPk' or 'lCl' to 'output'")


@functools.lru_cache(maxsize=None)
def _jitted(prec, n_max: int, cb: bool):
    """(states, power): jitted HaloFit states at a batch of z and P_nl on a k x z table, per static shape."""
    import jax

    from ..nonlinear import halofit as hf

    states = jax.jit(lambda res, lp, z, k_max: hf.halofit_states(res, lp, z, k_max, cb, prec, n_max))
    power = jax.jit(lambda st, k, p_lin: hf.halofit_pk(st, k[:, None], p_lin, prec))
    return states, power


def _check_bracket(st, z, prec) -> None:
    """CosmoComputationError when HaloFit's root sigma(R) = 1 is not found (halofit.c): outside the bisection
    bracket [R_min, R_max = 1 / halofit_min_k_nonlinear] (sigma(R_max) > 1), or not within the iteration bound."""
    sig = np.asarray(st.sigma_r_max)
    for i, zz in enumerate(z):
        if sig[i] > 1.0:
            raise CosmoComputationError(
                f"HaloFit at z = {zz:g}: the root of sigma(R) = 1 lies outside its bracket: sigma(R_max) = {sig[i]:.4g} > 1 "
                f"at R_max = 1/halofit_min_k_nonlinear = {1.0 / prec.min_k_nonlinear:g} Mpc (CLASS halofit.c; "
                f"'halofit_min_k_nonlinear' = {prec.min_k_nonlinear:g} 1/Mpc is too large: decrease it so that "
                "sigma(R_max) < 1)")
    it = np.asarray(st.iterations)
    if np.any(it > prec.max_iterations):
        zz = z[int(np.argmax(it > prec.max_iterations))]
        raise CosmoComputationError(f"HaloFit at z = {zz:g}: the bisection for sigma(R) = 1 did not converge to "
                                    f"'halofit_tol_sigma' = {prec.tol_sigma:g} within {prec.max_iterations} iterations")


class NonlinearMixin:
    """HaloFit methods of `boltzax.Class`.  The host provides ``_r()``, ``_lp()``, ``_request``,
    ``_clamp_k`` and ``_check_kz``; ``compute()`` calls ``_nl_linear_k_max`` (the k range of the linear solve)
    and ``_nl_reset`` (forget cached HaloFit states)."""

    _nl_cache: dict | None = None

    # ---------------------------------------------------------------- set-up
    def _nl_on(self) -> bool:
        req = getattr(self, "_request", None)
        return req is not None and req.non_linear in ("halofit", "hmcode")

    def _hm_on(self) -> bool:
        req = getattr(self, "_request", None)
        return req is not None and req.non_linear == "hmcode"

    def _nl_linear_k_max(self, res, request) -> float:
        """k_max [1/Mpc] of the linear solve: P_k_max, or CLASS's k_last (>= nonlinear_min_k_max = 5 /Mpc,
        hmcode_min_k_max with HMcode) with HaloFit or HMcode."""
        if request.non_linear not in ("halofit", "hmcode"):
            return request.P_k_max
        import jax

        from ..nonlinear.halofit import HalofitPrecision, class_k_range

        k_max = request.P_k_max
        if request.non_linear == "hmcode":
            k_max = max(k_max, request.hmcode.min_k_max)
        _, k_last = jax.jit(class_k_range, static_argnums=2)(res, k_max, HalofitPrecision())
        return float(k_last) * (1.0 + 1e-12)

    def _nl_reset(self) -> None:
        self._nl_cache = {}

    def _nl_sizes(self):
        """(HalofitPrecision, n_max): the precision and the static length of CLASS's quadrature grid."""
        from ..nonlinear.class_k_grid import n_points_max
        from ..nonlinear.halofit import HalofitPrecision

        prec = HalofitPrecision(**{f: v for stage, f, v in self._request.class_precision if stage == "halofit"})
        k_max = max(float(self._request.P_k_max), prec.min_k_max)
        return prec, n_points_max(k_max, prec.k_per_decade, g=prec.k_grid)

    def _nl_states(self, z, cb: bool):
        """HalofitState (numpy-valued fields) at the redshifts z (1-d), cached per (z, cb)."""
        import jax

        if self._nl_cache is None:
            self._nl_cache = {}
        prec, n_max = self._nl_sizes()
        z = np.atleast_1d(np.asarray(z, dtype=float))
        todo = sorted({float(x) for x in z if (float(x), cb) not in self._nl_cache})
        if todo:
            states, _ = _jitted(prec, n_max, cb)
            st = states(self._r(), self._lp(), np.asarray(todo), float(self._request.P_k_max))
            _check_bracket(st, todo, prec)
            for i, zz in enumerate(todo):
                self._nl_cache[(zz, cb)] = _take(st, i)
        rows = [self._nl_cache[(float(x), cb)] for x in z]
        return jax.tree_util.tree_map(lambda *v: np.stack(v), *rows)

    def _hm_nodes(self, z, cb: bool):
        """HMcode (k_nodes, P_nl (n_nodes, len(z)), k_nl (len(z),), computable) at z (1-d), cached per (z, cb)."""
        from .nonlinear_hmcode import hmcode_nodes

        if self._nl_cache is None:
            self._nl_cache = {}
        z = np.atleast_1d(np.asarray(z, dtype=float))
        req = self._request
        nodes = self._nl_cache.get("hm_nodes")
        for zz in sorted({float(x) for x in z if ("hm", float(x), cb) not in self._nl_cache}):
            nodes, p, st = hmcode_nodes(self._r(), self._lp(), req.hmcode, [zz], req.P_k_max, cb, nodes)
            if np.any(np.asarray(st.iterations) > 10000):
                raise CosmoSevereError("HMcode: sigma(R) = delta_c not found within the maximum number of iterations")
            self._nl_cache["hm_nodes"] = nodes
            self._nl_cache[("hm", zz, cb)] = (p[:, 0], float(np.asarray(st.k_nl)[0]),
                                              bool(np.asarray(st.computable)[0]))
        rows = [self._nl_cache[("hm", float(x), cb)] for x in z]
        return (self._nl_cache["hm_nodes"], np.stack([r[0] for r in rows], axis=1), np.array([r[1] for r in rows]),
                np.array([r[2] for r in rows]))

    def _nl_power(self, k, z, cb: bool) -> np.ndarray:
        """HaloFit or HMcode P (len(k), len(z)) [Mpc^3] at k [1/Mpc] (1-d) and z (1-d)."""
        if self._hm_on():
            from .nonlinear_hmcode import spline_lnk

            nodes, p, _, _ = self._hm_nodes(z, cb)
            return spline_lnk(nodes, p, np.atleast_1d(np.asarray(k, dtype=float)))
        prec, n_max = self._nl_sizes()
        k = np.atleast_1d(np.asarray(k, dtype=float))
        z = np.atleast_1d(np.asarray(z, dtype=float))
        lp = self._lp()
        p_lin = (lp.pk_cb if cb else lp.pk_m)(k, z)
        _, power = _jitted(prec, n_max, cb)
        return np.asarray(power(self._nl_states(z, cb), k, p_lin))

    def _pk_table(self, k, z, nonlinear: bool, cb: bool) -> np.ndarray:
        """P (len(k), len(z)) [Mpc^3] at k [1/Mpc] and z already checked and clamped (1-d): HaloFit's when
        ``nonlinear`` and non_linear = halofit, else linear.  A writable copy."""
        if nonlinear and self._nl_on():
            return np.array(self._nl_power(k, z, cb), dtype=float)
        lp = self._lp()
        return np.array((lp.pk_cb if cb else lp.pk_m)(np.atleast_1d(k), np.atleast_1d(z)), dtype=float)

    def _nonlinear_flag(self, nonlinear, what: str) -> bool:
        """classy's nonlinear switch of the array accessors: True when HaloFit's P is wanted.  nonlinear=True
        needs a non-linear method (CLASS fourier_pk_at_z refuses it otherwise)."""
        if not nonlinear:
            return False
        self._r()
        if self._request.non_linear == "none":
            raise CosmoSevereError(f"{what}: Cannot get nonlinear power spectrum when no nonlinear method is "
                                   "employed (set 'non_linear', or nonlinear=False)")
        if not self._nl_on():
            raise NotImplementedOutputError(f"{what}(nonlinear=True) with non_linear = {self._request.non_linear} "
                                            "is not implemented in boltzax yet")
        return True

    # ---------------------------------------------------------------- classy methods
    @property
    def nonlinear_method(self):
        """The non-linear method as CLASS's enum integer (0 none, 1 halofit, 2 HMcode; -1 for CLASS-PT)."""
        self._r()
        return CallableFloat(NONLINEAR_METHODS.get(self._request.non_linear, -1))

    def _k_nl(self, z, cb: bool) -> np.ndarray:
        self._r()
        if not self._nl_on():
            raise CosmoSevereError("nonlinear_scale: no nonlinear method requested (set 'non_linear': 'halofit')")
        z = np.array([self._clamp_z(zz) for zz in np.atleast_1d(np.asarray(z, dtype=float))])
        if self._hm_on():
            _, _, k_nl, ok = self._hm_nodes(z, cb)
            return np.where(ok, k_nl, np.nan)
        st = self._nl_states(z, cb)
        return np.where(np.asarray(st.computable), np.asarray(st.k_nl, dtype=float), np.nan)

    def nonlinear_scale(self, z, z_size=None):
        """k_nl(z) [1/Mpc] of the total-matter spectrum (HaloFit: 1 / R_nl, sigma(R_nl) = 1), array of z."""
        return self._k_nl(np.asarray(z, dtype=float)[: z_size if z_size is not None else None], cb=False)

    def nonlinear_scale_cb(self, z, z_size=None):
        """k_nl(z) [1/Mpc] of the CDM + baryon spectrum (classy: only with massive neutrinos)."""
        self._r()
        if self._res.params.n_ncdm == 0:
            raise CosmoSevereError("No massive neutrinos. You must use pk, rather than pk_cb.")
        return self._k_nl(np.asarray(z, dtype=float)[: z_size if z_size is not None else None], cb=True)


def _take(tree, i):
    import jax

    return jax.tree_util.tree_map(lambda v: np.asarray(v)[i] if np.ndim(v) else np.asarray(v), tree)
