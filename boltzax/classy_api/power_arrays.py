"""classy's array and derivative accessors of the linear matter power spectrum (``output = mPk``):
``get_pk``/``get_pk_lin``/``get_pk_cb``/``get_pk_cb_lin`` (3-d k grids), ``get_pk_array``/``get_pk_cb_array``
(flat), ``pk_tilt``, ``scale_dependent_growth_factor_D(_cb)``, ``effective_f_sigma8_spline``,
``get_primordial``, ``get_transfer_and_k_and_z``.  All return writable numpy arrays, as classy."""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError, NotImplementedOutputError
from ._base import _not_yet

K_PER_DECADE_PRIMORDIAL = 10.0  # CLASS precisions.h k_per_decade_primordial


class PowerArraysMixin:
    # _nonlinear_flag (classy's nonlinear switch) and _pk_table (linear or HaloFit P): classy_api.nonlinear

    def _pk_grid(self, k, z, which: str, nonlinear: bool = False) -> np.ndarray:
        """P(k[i, j, m], z[j]) [Mpc^3] for a 3-d k array and 1-d z (classy get_pk's layout); HaloFit's P when
        ``nonlinear`` and non_linear = halofit."""
        self._lp()
        k = np.asarray(k, dtype=float)
        z = np.atleast_1d(np.asarray(z, dtype=float))
        if k.ndim != 3 or k.shape[1] != len(z):
            raise CosmoSevereError(f"get_pk: k must be indexed k[index_k, index_z, index_mu] with "
                                   f"len(z) = {len(z)} redshifts, got shape {k.shape}")
        out = np.empty(k.shape)
        for j, zz in enumerate(z):
            kc = np.atleast_1d(self._clamp_k(k[:, j, :]))
            out[:, j, :] = self._pk_table(kc.reshape(-1), [self._clamp_z(zz)], nonlinear, which == "cb")[
                :, 0].reshape(kc.shape)
        return out

    def _sized(self, k, z, k_size, z_size, mu_size=None):
        k = np.asarray(k, dtype=float)
        if k.shape[:2] != (k_size, z_size) or (mu_size is not None and k.shape[2] != mu_size):
            raise CosmoSevereError(f"k has shape {k.shape}, expected ({k_size}, {z_size}"
                                   + (f", {mu_size})" if mu_size is not None else ")"))
        if len(np.atleast_1d(z)) != z_size:
            raise CosmoSevereError(f"z has {len(np.atleast_1d(z))} entries, z_size = {z_size}")
        return k

    def get_pk(self, k, z, k_size, z_size, mu_size):
        """Total-matter P [Mpc^3] at k[index_k, index_z, index_mu] [1/Mpc] and z[index_z]: the spectrum of
        pk() (linear with non_linear = none, HaloFit's with non_linear = halofit)."""
        return self._pk_grid(self._sized(k, z, k_size, z_size, mu_size), z, "m", self._nl_on())

    def get_pk_cb(self, k, z, k_size, z_size, mu_size):
        """CDM + baryon P [Mpc^3] on get_pk's grid: the spectrum of pk_cb()."""
        return self._pk_grid(self._sized(k, z, k_size, z_size, mu_size), z, "cb", self._nl_on())

    def get_pk_lin(self, k, z, k_size, z_size, mu_size):
        """Linear total-matter P [Mpc^3] on get_pk's grid."""
        return self._pk_grid(self._sized(k, z, k_size, z_size, mu_size), z, "m")

    def get_pk_cb_lin(self, k, z, k_size, z_size, mu_size):
        """Linear CDM + baryon P [Mpc^3] on get_pk's grid."""
        return self._pk_grid(self._sized(k, z, k_size, z_size, mu_size), z, "cb")

    def _pk_flat(self, k, z, k_size, z_size, nonlinear, which, what):
        nonlinear = self._nonlinear_flag(nonlinear, what)
        k = np.asarray(k, dtype=float)
        z = np.asarray(z, dtype=float)
        if k.ndim != 1 or len(k) != k_size or z.ndim != 1 or len(z) != z_size:
            raise CosmoSevereError(f"{what}: expected 1-d k of k_size = {k_size} and z of z_size = {z_size}, got "
                                   f"shapes {k.shape} and {z.shape}")
        self._lp()
        if not z_size:
            return np.zeros(0)
        kc = np.atleast_1d(self._clamp_k(k))
        zc = [self._clamp_z(zz) for zz in z]
        return self._pk_table(kc, zc, nonlinear, which == "cb").T.reshape(-1).copy()

    def get_pk_array(self, k, z, k_size, z_size, nonlinear):
        """Total-matter P [Mpc^3] flattened as pk[index_z * k_size + index_k] (classy); nonlinear: HaloFit's
        (needs non_linear = halofit)."""
        return self._pk_flat(k, z, k_size, z_size, nonlinear, "m", "get_pk_array")

    def get_pk_cb_array(self, k, z, k_size, z_size, nonlinear):
        """CDM + baryon P [Mpc^3] flattened as pk[index_z * k_size + index_k] (classy)."""
        return self._pk_flat(k, z, k_size, z_size, nonlinear, "cb", "get_pk_cb_array")

    def pk_tilt(self, k, z):
        """d ln P_lin / d ln k of total matter at k [1/Mpc] and z: the exact derivative of the interpolant
        of the solved table (CLASS fourier_pk_tilt_at_k_and_z differentiates its spline of ln P)."""
        import jax
        import jax.numpy as jnp

        lp = self._lp()
        k, z = self._check_kz(k, z)
        dlnp = jax.grad(lambda lk: jnp.log(lp.pk_m(jnp.exp(lk)[None], z)[0, 0]))
        return float(dlnp(jnp.log(k)))

    def _growth_D(self, k, z, h_units, nonlinear, which):
        if nonlinear:
            self._r()
            if self._request.non_linear == "none":
                raise CosmoSevereError("You asked for the scale-dependent growth factor of non-linear matter "
                                       "fluctuations, but you did not ask for non-linear calculations at all")
        k = float(k) * (float(self._r().params.h) if h_units else 1.0)
        if nonlinear:  # classy: from pk() / pk_cb(), HaloFit's P with non_linear = halofit
            f = self.pk if which == "m" else self.pk_cb
        else:
            f = self.pk_lin if which == "m" else self.pk_cb_lin
        return float(np.sqrt(f(k, z) / f(k, 0.0)))

    def scale_dependent_growth_factor_D(self, k, z, h_units=False, nonlinear=False):
        """D(k, z) = sqrt(P(k, z) / P(k, 0)) of total matter (classy), k in 1/Mpc (h/Mpc if h_units)."""
        return self._growth_D(k, z, h_units, nonlinear, "m")

    def scale_dependent_growth_factor_D_cb(self, k, z, h_units=False, nonlinear=False):
        """D(k, z) = sqrt(P_cb(k, z) / P_cb(k, 0)) (classy)."""
        return self._growth_D(k, z, h_units, nonlinear, "cb")

    def effective_f_sigma8_spline(self, z, Nz=20):
        """f sigma8(z) = -(1+z) d sigma8 / dz from a cubic spline of sigma8 on Nz redshifts (classy's rule:
        [0, 0.2] below z = 0.1, [z-0.1, z+0.1] in the middle, [z_max-0.2, z_max] at the top)."""
        from scipy.interpolate import CubicSpline

        if np.ndim(z):
            return np.array([self.effective_f_sigma8_spline(x, Nz) for x in np.asarray(z, dtype=float)])
        z_max = float(self._lp().z[-1])
        if z < 0 or z > z_max:
            raise CosmoSevereError(f"You asked for effective_f_sigma8 at a redshift {z:e} outside of the computed "
                                   f"range [0,{z_max:e}]")
        if z < 0.1:
            zs = np.linspace(0, 0.2, num=Nz)
        elif z < z_max - 0.1:
            zs = np.linspace(z - 0.1, z + 0.1, num=Nz)
        else:
            zs = np.linspace(z_max - 0.2, z_max, num=Nz)
        s8 = np.atleast_1d(self.sigma(8, zs, h_units=True))
        return float(-CubicSpline(zs, s8).derivative()(z) * (1 + z))

    def get_primordial(self) -> dict:
        """Primordial spectra with CLASS's column titles: 'k [1/Mpc]', 'P_scalar(k)' and, with tensor modes,
        'P_tensor(k)' (analytic_Pk: A_s (k/k_pivot)^(n_s-1+alpha_s/2 ln), r A_s (k/k_pivot)^(n_t+alpha_t/2 ln),
        alpha_t = r/8 (r/8 + n_s - 1) as CLASS's 'scc').  k sampled as CLASS (k_per_decade_primordial = 10
        points per decade from the smallest solved k) up to P_k_max (1/Mpc without mPk)."""
        from ..fourier import primordial_PR
        from ..precision import get_precision

        r = self._r()
        p = r.params
        k_min = get_precision(self._precision).pk_k_min
        k_max = self._request.P_k_max
        n = int(np.log(k_max / k_min) / np.log(10.0) * K_PER_DECADE_PRIMORDIAL) + 2
        k = np.exp(np.log(k_min) + np.arange(n) * np.log(10.0) / K_PER_DECADE_PRIMORDIAL)
        out = {"k [1/Mpc]": k, "P_scalar(k)": np.array(primordial_PR(p, k), dtype=float)}
        if "t" in self._request.modes:
            lk = np.log(k / float(p.k_pivot))
            rr, ns = float(p.r), float(p.n_s)
            alpha_t = rr / 8.0 * (rr / 8.0 + ns - 1.0)
            out["P_tensor(k)"] = rr * float(p.A_s) * np.exp(float(p.n_t) * lk + 0.5 * alpha_t * lk**2)
        return out

    def get_transfer_and_k_and_z(self, output_format="class", h_units=False):
        """(dict of transfer functions, shape (n_k, n_z), k, z decreasing) on the solved k grid and the
        P(k) redshift nodes, from `get_transfer` (synchronous gauge, CLASS's normalisation)."""
        lp = self._lp() if self._pk is not None else None
        zs = np.array(lp.z)[::-1].copy() if lp is not None else np.array(
            sorted({0.0, *self._r_request().z_pk}, reverse=True))
        tables = [self.get_transfer(z, output_format) for z in zs]
        k = np.array(tables[0]["k (h/Mpc)"]) * (1.0 if h_units else float(self._r().params.h))
        names = [n for n in tables[0] if n != "k (h/Mpc)"]
        return {n: np.stack([t[n] for t in tables], axis=1) for n in names}, k, zs

    def _r_request(self):
        self._r()
        return self._request

    get_Weyl_pk_and_k_and_z = _not_yet("get_Weyl_pk_and_k_and_z", "the Weyl-potential spectrum is not planned yet")
    def pk_numerical_nw(self, k, z):
        """The no-wiggle linear P_m(k, z) [Mpc^3] (CLASS hmcode_wnw_split: Gaussian smoothing in ln k of
        P / P_EisensteinHu, 5e-3 < k < 5 /Mpc; the linear P elsewhere), k in 1/Mpc.  Needs
        numerical_nowiggle = yes (classy)."""
        from .nonlinear_hmcode import k_nodes, numerical_nowiggle, spline_lnk

        self._r()
        if not self._request.numerical_nowiggle:
            raise CosmoSevereError("No power spectrum computed. You must set `numerical_nowiggle` to `yes` in input")
        k, z = self._check_kz(k, z)
        key = ("nw", float(z))
        cache = self._nl_cache if self._nl_cache is not None else {}
        if key not in cache:
            nodes = k_nodes(self._r(), self._request.P_k_max)
            cache[key] = numerical_nowiggle(self._r(), self._lp(), float(z), nodes)
            self._nl_cache = cache
        k_ext, ln_nw = cache[key]
        return float(spline_lnk(k_ext, np.exp(ln_nw)[:, None], np.array([k]))[0, 0])

    def pk_analytic_nw(self, k):
        """CLASS's analytic (Eisenstein & Hu) no-wiggle P_m(k) [Mpc^3] at z = 0, k in 1/Mpc.  Needs
        analytic_nowiggle = yes, numerical_nowiggle = yes or non_linear = hmcode (classy)."""
        from .nonlinear_hmcode import analytic_nowiggle

        self._r()
        if not self._request.analytic_nowiggle:
            raise CosmoSevereError("No analytic nowiggle spectrum computed. You must set `analytic_nowiggle` to "
                                   "`yes` in input")
        return float(analytic_nowiggle(self._r(), np.array([float(k)]))[0])
