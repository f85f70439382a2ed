"""classy's linear matter power spectrum, sigma(R) and growth accessors (``output = mPk``)."""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError, NotImplementedOutputError
from ._base import CallableFloat

EDGE_RTOL = 1e-12  # relative tolerance on the ends of the k and z ranges (one-ulp edges of logspace grids)


class PowerMixin:
    def _lp(self):
        self._r()
        if self._pk is None:
            raise CosmoSevereError("No power spectrum computed: add 'mPk' to 'output'")
        return self._pk

    def _pk_at(self, which, k, z):
        lp = self._lp()
        k, z = self._check_kz(k, z)
        f = lp.pk_m if which == "m" else lp.pk_cb
        return float(f(k, z)[0, 0])

    def pk_lin(self, k, z):
        """Linear total-matter P(k, z) [Mpc^3], k in 1/Mpc."""
        return self._pk_at("m", k, z)

    def pk_cb_lin(self, k, z):
        """Linear CDM+baryon P(k, z) [Mpc^3], k in 1/Mpc."""
        return self._pk_at("cb", k, z)

    def pk(self, k, z):
        """P(k, z) [Mpc^3]: the linear spectrum (non_linear = none), HaloFit's or HMcode's with
        non_linear = halofit / hmcode."""
        self._r()
        if self._pt is not None:
            raise NotImplementedOutputError("pk(k, z) with non linear = PT (CLASS-PT returns its 96 pieces "
                                            "there) is not implemented: use get_pk_mult / initialize_output")
        if self._nl_on():
            k, z = self._check_kz(k, z)
            return float(self._pk_table([k], [z], True, False)[0, 0])
        return self.pk_lin(k, z)

    def pk_cb(self, k, z):
        """CDM + baryon P(k, z) [Mpc^3]: linear, or HaloFit's or HMcode's with non_linear = halofit / hmcode."""
        self._r()
        if self._nl_on():
            k, z = self._check_kz(k, z)
            return float(self._pk_table([k], [z], True, True)[0, 0])
        return self.pk_cb_lin(k, z)

    def get_pk_and_k_and_z(self, nonlinear=None, only_clustering_species=False, h_units=False):
        """(P [Mpc^3] shape (n_k, n_z), k [1/Mpc], z) on the solved grid up to P_k_max, as classy (z
        decreasing; CLASS's k_size_pk); nonlinear=True: HaloFit's or HMcode's P (needs non_linear = halofit or
        hmcode, as classy).
        The default (None) is classy's nonlinear=True when a nonlinear method is set, else the linear P
        (classy would refuse its default there)."""
        lp = self._lp()
        if nonlinear is None:
            nonlinear = self._nl_on()
        nonlinear = self._nonlinear_flag(nonlinear, "get_pk_and_k_and_z")
        k = np.array(lp.k)
        k = k[k <= self._request.P_k_max * (1 + EDGE_RTOL)]  # with HaloFit the solve goes on to CLASS's k_last
        z = np.array(lp.z)[::-1].copy()
        P = self._pk_table(k, np.asarray(lp.z), nonlinear, bool(only_clustering_species))[:, ::-1].copy()
        if h_units:
            h = float(self._r().params.h)
            return P * h**3, k / h, z
        return P, k, z

    def sigma(self, R, z, h_units=False):
        """sigma(R, z) of total matter, R in Mpc (Mpc/h if h_units); R and z scalars or arrays, classy's
        output shape (a float for two scalars, else the squeezed (len(z), len(R)) grid)."""
        lp = self._lp()
        zarr = np.atleast_1d(np.asarray(z, dtype=float))
        Rarr = np.atleast_1d(np.asarray(R, dtype=float))
        if h_units:
            Rarr = Rarr / float(self._r().params.h)
        out = np.array([[float(lp.sigma(r, self._clamp_z(zz))) for r in Rarr] for zz in zarr])
        return float(out[0, 0]) if (np.ndim(z) == 0 and np.ndim(R) == 0) else np.squeeze(out)

    def sigma_cb(self, R, z, h_units=False):
        """sigma(R, z) of CDM + baryons, R in Mpc (Mpc/h if h_units), scalars (classy)."""
        R = float(R) / float(self._r().params.h) if h_units else float(R)
        return float(self._lp().sigma(R, self._clamp_z(z), cb=True))

    sigma8 = property(lambda self: CallableFloat(self._lp().sigma(8.0 / float(self._r().params.h))))
    sigma8_cb = property(lambda self: CallableFloat(self._lp().sigma(8.0 / float(self._r().params.h), cb=True)))
    S8 = property(lambda self: CallableFloat(float(self.sigma8) * np.sqrt(float(self.Omega_m) / 0.3)))
    # pk_mm_real, pk_gm_real, pk_gg_real, get_pk_mult, ...: classy_pt.PTMixin (non linear = PT)

    def get_pk_all(self, k, z, nonlinear=True, cdmbar=False, z_axis_in_k_arr=0, interpolation_kind="cubic"):
        """P(k, z) [Mpc^3] for arrays of k [1/Mpc] and z with classy's shape rules (scalar z: the shape of k;
        1-d z with 1-d k: (len(z), len(k)); n-d k: one axis, ``z_axis_in_k_arr``, runs over z).  Linear
        with non_linear = none or nonlinear=False, else HaloFit's; cdmbar selects CDM + baryons."""
        self._lp()
        nonlinear = bool(nonlinear) and self._nl_on()  # classy: the linear P without a nonlinear method

        def at_z(karr, zz):
            karr = np.asarray(karr, dtype=float)
            if not karr.size:
                return np.zeros(karr.shape)
            kc = np.atleast_1d(self._clamp_k(karr))
            return self._pk_table(kc.reshape(-1), [self._clamp_z(zz)], nonlinear, bool(cdmbar))[:, 0].reshape(
                karr.shape)

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

    def _k_range(self) -> tuple[float, float]:
        """The k range [1/Mpc] accessors accept: from the precision's pk_k_min (CLASS's own smallest k,
        1e-4/Mpc, for the default presets) to P_k_max_1/Mpc, and at least the solved table."""
        from ..precision import get_precision

        lp = self._lp()
        k_lo = float(lp.k[0])
        if k_lo <= get_precision(self._precision).pk_k_min * (1 + 1e-9):  # else: closed space, CLASS's k_min
            k_lo = min(k_lo, get_precision(self._precision).pk_k_min)
        return k_lo, max(float(lp.k[-1]), self._request.P_k_max)

    def _clamp_k(self, k):
        """k [1/Mpc] (scalar or array) checked against `_k_range` with a relative tolerance of EDGE_RTOL, then
        clamped onto the solved table: a k at an end of the range (or one ulp beyond, as np.logspace
        produces) gets the end value; anything further raises CosmoSevereError naming k and the range."""
        lp = self._lp()
        lo, hi = self._k_range()
        karr = np.asarray(k, dtype=float)
        bad = ~((karr >= lo * (1 - EDGE_RTOL)) & (karr <= hi * (1 + EDGE_RTOL)))
        if np.any(bad):
            kb = karr[bad] if karr.ndim else karr
            why = ("; in a closed universe CLASS's first mode is k = sqrt((8 - 1e-4) K), K = -Omega_k H0^2"
                   if float(self._r().background.K) > 0 else "")
            raise CosmoSevereError(f"k = {float(np.ravel(kb)[0])!r} 1/Mpc outside the computed range [{lo}, {hi}] "
                                   f"(set 'P_k_max_1/Mpc'{why})")
        out = np.clip(karr, float(lp.k[0]), float(lp.k[-1]))
        return float(out) if out.ndim == 0 else out

    def _clamp_z(self, z) -> float:
        """z checked against [0, z_max] (relative/absolute tolerance EDGE_RTOL) and clamped."""
        lp = self._lp()
        z = float(z)
        z_hi = float(lp.z[-1])
        if not (-EDGE_RTOL <= z <= z_hi * (1 + EDGE_RTOL) + EDGE_RTOL):
            raise CosmoSevereError(f"z = {z!r} outside the computed range [0, {z_hi}] (set 'z_max_pk')")
        return min(max(z, 0.0), z_hi)

    def _check_kz(self, k, z):
        """(k, z) checked and clamped onto the computed ranges (see `_clamp_k`, `_clamp_z`)."""
        return self._clamp_k(float(k)), self._clamp_z(z)

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
        k, z = self._check_kz(k, z)
        return float(self._lp().growth_rate(k, z, cb=cb)[0, 0])

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
