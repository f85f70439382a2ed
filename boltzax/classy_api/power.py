"""classy's linear matter power spectrum, sigma(R) and growth accessors (``output = mPk``)."""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError, NotImplementedOutputError
from ._base import CallableFloat


class PowerMixin:
    def _lp(self):
        self._r()
        if self._pk is None:
            raise CosmoSevereError("No power spectrum computed: add 'mPk' to 'output'")
        return self._pk

    def _pk_at(self, which, k, z):
        lp = self._lp()
        k, z = float(k), float(z)
        self._check_kz(k, z)
        f = lp.pk_m if which == "m" else lp.pk_cb
        return float(f(k, z)[0, 0])

    def pk_lin(self, k, z):
        """Linear total-matter P(k, z) [Mpc^3], k in 1/Mpc."""
        return self._pk_at("m", k, z)

    def pk_cb_lin(self, k, z):
        """Linear CDM+baryon P(k, z) [Mpc^3], k in 1/Mpc."""
        return self._pk_at("cb", k, z)

    def pk(self, k, z):
        """P(k, z) [Mpc^3]: the linear spectrum (non_linear = none)."""
        self._r()
        if self._pt is not None:
            raise NotImplementedOutputError("pk(k, z) with non linear = PT (CLASS-PT returns its 96 pieces "
                                            "there) is not implemented: use get_pk_mult / initialize_output")
        return self.pk_lin(k, z)

    def pk_cb(self, k, z):
        return self.pk_cb_lin(k, z)

    def get_pk_and_k_and_z(self, nonlinear=False, only_clustering_species=False, h_units=False):
        """(P [Mpc^3] shape (n_k, n_z), k [1/Mpc], z) on the solved grid, as classy (z decreasing)."""
        lp = self._lp()
        k = np.asarray(lp.k)
        z = np.asarray(lp.z)[::-1]
        f = lp.pk_cb if only_clustering_species else lp.pk_m
        P = np.asarray(f(lp.k, lp.z))[:, ::-1]
        if h_units:
            h = float(self._r().params.h)
            return P * h**3, k / h, z
        return P, k, z

    def sigma(self, R, z, h_units=False):
        """sigma(R, z) of total matter, R in Mpc (Mpc/h if h_units)."""
        R = R / float(self._r().params.h) if h_units else R
        return float(self._lp().sigma(R, z))

    def sigma_cb(self, R, z, h_units=False):
        R = R / float(self._r().params.h) if h_units else R
        return float(self._lp().sigma(R, z, cb=True))

    sigma8 = property(lambda self: CallableFloat(self._lp().sigma(8.0 / float(self._r().params.h))))
    sigma8_cb = property(lambda self: CallableFloat(self._lp().sigma(8.0 / float(self._r().params.h), cb=True)))
    S8 = property(lambda self: CallableFloat(float(self.sigma8) * np.sqrt(float(self.Omega_m) / 0.3)))
    # pk_mm_real, pk_gm_real, pk_gg_real, get_pk_mult, ...: classy_pt.PTMixin (non linear = PT)

    def get_pk_all(self, k, z, nonlinear=True, cdmbar=False, z_axis_in_k_arr=0, interpolation_kind="cubic"):
        """P(k, z) [Mpc^3] for arrays of k [1/Mpc] and z with classy's shape rules (scalar z: the shape of k;
        1-d z with 1-d k: (len(z), len(k)); n-d k: one axis, ``z_axis_in_k_arr``, runs over z).  Linear
        (non_linear = none); cdmbar selects CDM + baryons."""
        lp = self._lp()
        f = lp.pk_cb if cdmbar else lp.pk_m

        def at_z(karr, zz):
            karr = np.asarray(karr, dtype=float)
            for kk in (karr.min(initial=np.inf), karr.max(initial=0.0)):
                if karr.size:
                    self._check_kz(kk, zz)
            return np.asarray(f(karr.reshape(-1), float(zz)))[:, 0].reshape(karr.shape)

        if np.ndim(z) == 0:
            return float(at_z([k], z)[0]) if np.ndim(k) == 0 else at_z(k, z)
        zarr = np.asarray(z, dtype=float)
        if zarr.ndim != 1:
            raise CosmoSevereError("get_pk_all: can only parse one-dimensional z arrays")
        karr = np.asarray(k, dtype=float)
        if karr.ndim > 1:
            kk = np.moveaxis(karr, z_axis_in_k_arr, 0)
            if len(kk) != len(zarr):
                raise CosmoSevereError("get_pk_all: mismatching lengths of the z array and the k array's z axis")
            return np.moveaxis(np.stack([at_z(kk[i], zarr[i]) for i in range(len(zarr))]), 0, z_axis_in_k_arr)
        return np.stack([at_z(karr, zz) for zz in zarr])

    def _check_kz(self, k, z):
        lp = self._lp()
        if k > self._request.P_k_max * (1 + 1e-9) or k < float(lp.k[0]):
            raise CosmoSevereError(f"k = {k} 1/Mpc outside the computed range [{float(lp.k[0])}, "
                                   f"{self._request.P_k_max}] (set 'P_k_max_1/Mpc')")
        if z < 0 or z > float(lp.z[-1]) + 1e-12:
            raise CosmoSevereError(f"z = {z} outside the computed range [0, {float(lp.z[-1])}] (set 'z_max_pk')")

    # ----------------------------------------------------------------- growth (output = mPk)
    def scale_dependent_growth_factor_f(self, k, z, h_units=False, nonlinear=False):
        """f(k, z) = d ln delta_m / d ln a of total matter, k in 1/Mpc (h/Mpc if h_units).  Computed from
        the perturbation equations at the solved modes (exact derivative); CLASS estimates it from a spline
        of P(k, z) in z, which differs by ~1e-3 at z = 0 (one-sided spline derivative at the table edge)."""
        return self._growth(k, z, h_units, nonlinear, cb=False)

    def scale_dependent_growth_factor_f_cb(self, k, z, h_units=False, nonlinear=False):
        """f(k, z) of CDM + baryons (see scale_dependent_growth_factor_f)."""
        return self._growth(k, z, h_units, nonlinear, cb=True)

    def _growth(self, k, z, h_units, nonlinear, cb):
        if nonlinear:
            raise NotImplementedOutputError("scale-dependent growth of the non-linear spectrum: non_linear not "
                                            "implemented yet")
        k = float(k) * (float(self._r().params.h) if h_units else 1.0)
        self._check_kz(k, float(z))
        return float(self._lp().growth_rate(k, float(z), cb=cb)[0, 0])

    def scale_independent_f_sigma8(self, z):
        """f(z) sigma8(z) with the background growth rate f(z) (classy)."""
        zz = np.atleast_1d(np.asarray(z, dtype=float))
        out = np.array([self.scale_independent_growth_factor_f(x) * self.sigma(8.0, x, h_units=True) for x in zz])
        return float(out[0]) if np.ndim(z) == 0 else out.reshape(np.shape(z))

    def effective_f_sigma8(self, z, z_step=0.1):
        """sigma8(z) f(z) = -(1+z) d sigma8 / dz by classy's finite-difference rule (two-sided with step
        z_step, reduced near z = 0; one-sided below z_step/10)."""
        if np.ndim(z):
            return np.array([self.effective_f_sigma8(x, z_step) for x in np.asarray(z, dtype=float)])
        s8 = lambda x: self.sigma(8.0, x, h_units=True)  # noqa: E731
        if z >= z_step:
            return (s8(z - z_step) - s8(z + z_step)) / (2.0 * z_step) * (1 + z)
        if z > z_step / 10.0:
            return (s8(0.0) - s8(2.0 * z)) / (2.0 * z) * (1 + z)
        z_step /= 10.0
        return (s8(z) - s8(z + z_step)) / z_step * (1 + z)
