"""``boltzax.Class``: a drop-in for classy 3.4.1's ``Class`` (``from boltzax import Class``).

A thin host-side wrapper over the pure `compute` pipeline. Names, units and conventions follow classy
(``python/classy.pyx``): H in 1/Mpc, distances in Mpc, age in Gyr, k in 1/Mpc, P(k) in Mpc^3, raw C_l
dimensionless. Scalar properties (``h``, ``Omega_m``, ``age`` ...) are `CallableFloat`: usable both as
attributes and as calls, as in classy 3.4.

Outputs that boltzax does not compute yet raise `NotImplementedOutputError` (a `CosmoSevereError`),
never wrong numbers.
"""

from __future__ import annotations

import numpy as np

from .classy_nonlinear import NonlinearMixin, check_nonlinear_request
from .classy_pt import PTMixin, check_request
from .errors import CosmoComputationError, CosmoSevereError, NotImplementedOutputError
from .params import Request, from_class_dict

# outputs that are computed today; the others raise NotImplementedOutputError at compute()
IMPLEMENTED_OUTPUTS: set[str] = {"mPk", "mTk", "vTk"}


class CallableFloat(float):
    """A float that can also be called, like classy 3.4's properties: ``cosmo.h`` == ``cosmo.h()``."""

    def __call__(self) -> float:
        return float(self)


def _vectorise(f):
    """Accept a scalar (returns a float) or an array (returns a numpy array), like classy's helpers."""

    def wrapped(self, z):
        zz = np.asarray(z, dtype=float)
        out = np.asarray(f(self, np.atleast_1d(zz)))
        return float(out[0]) if zz.ndim == 0 else out.reshape(zz.shape)

    wrapped.__name__ = f.__name__
    wrapped.__doc__ = f.__doc__
    return wrapped


def _not_yet(what: str, issue: str):
    def method(self, *args, **kwargs):
        raise NotImplementedOutputError(f"{what} is not implemented in boltzax yet ({issue})")

    method.__name__ = what
    return method


class Class(PTMixin, NonlinearMixin):
    """classy-compatible front door. ``set`` parameters (CLASS names), ``compute()``, then query.
    With ``'non linear': 'PT'`` also CLASS-PT's methods (`classy_pt.PTMixin`); ``'non_linear': 'halofit'``:
    `classy_nonlinear.NonlinearMixin`."""

    def __init__(self, default: bool = False, precision: str = "default"):
        self._pars: dict = {}
        self._precision = precision
        self._res = None
        self._pk = None
        self._pt = None
        self._request: Request | None = None
        self.state = False

    # ----------------------------------------------------------------- input / lifecycle
    @property
    def pars(self) -> dict:
        return self._pars

    def set(self, *pars, **kars) -> bool:
        """Add parameters: dicts and/or keyword arguments (CLASS names). Returns True like classy."""
        for d in pars:
            if not isinstance(d, dict):
                raise CosmoSevereError(f"Class.set expects dicts of CLASS parameters, got {type(d).__name__}")
            self._pars.update(d)
        self._pars.update(kars)
        self.state = False
        return True

    def set_default(self) -> None:
        self._pars = {}
        self.state = False

    def empty(self) -> None:
        """Forget all parameters and results."""
        self._pars = {}
        self.struct_cleanup()

    def struct_cleanup(self) -> None:
        """Free the computed results (parameters are kept)."""
        self._res = None
        self._pk = None
        self._pt = None
        self._nl_cache = None
        self.state = False

    def compute(self, level=None) -> None:
        """Parse the parameters (CLASS rules) and run the pipeline. Raises CosmoSevereError for unknown or
        contradictory input, NotImplementedOutputError for outputs boltzax does not compute yet."""
        if self.state:
            return
        params, request = from_class_dict(self._pars)
        missing = [o for o in request.output if o and o not in IMPLEMENTED_OUTPUTS]
        if missing:
            raise NotImplementedOutputError(
                f"Parameter 'output': {missing} not implemented in boltzax yet "
                "(C_l land with a later issue); use output='' or 'mPk'"
            )
        if request.non_linear not in ("none", "pt", "halofit"):
            raise NotImplementedOutputError(f"Parameter 'non_linear' = '{request.non_linear}' not implemented yet")
        check_request(request)  # non linear = PT needs mPk (classy_pt)
        check_nonlinear_request(request)  # halofit needs mPk (classy_nonlinear)
        from .pipeline import compute

        res = compute(params, self._precision)
        self._check_finite(res)
        self._pk = self._pt = None
        if "mPk" in request.output:
            self._pk = self._linear_power(res, request)
        self._nl_reset()  # HaloFit states are computed on demand (classy_nonlinear)
        self._res, self._request, self.state = res, request, True
        try:
            self._pt_compute()  # CLASS-PT's one-loop pieces (non linear = PT), classy_pt.PTMixin
        except Exception:
            self.state = False
            raise

    def _linear_power(self, res, request):
        from .pipeline import linear_power
        from .precision import get_precision

        z_max = max(request.z_max_pk, max(request.z_pk))
        nodes = {0.0, *(float(z) for z in request.z_pk)}
        if z_max > 0:  # a z grid for pk(k, z) between the requested redshifts (cubic in z)
            nodes |= {float(z) for z in np.linspace(0.0, z_max, 9)}
        k_max = self._nl_linear_k_max(res, request)  # HaloFit: CLASS's k_last >= 5 /Mpc (classy_nonlinear)
        lp = linear_power(res, get_precision(self._precision), tuple(sorted(nodes)), k_max)
        if not np.all(np.isfinite(np.asarray(lp.ln_T2_m))):
            raise CosmoComputationError("non-finite linear power spectrum")
        return lp

    @staticmethod
    def _check_finite(res) -> None:
        from .thermo.thermodynamics import check_thermodynamics, derived_parameters

        if not np.all(np.isfinite(np.asarray(res.background.H_table))):
            raise CosmoComputationError("non-finite background: check the input ranges")
        check_thermodynamics(res.thermo)
        bad = [k for k, v in derived_parameters(res.thermo).items() if not np.isfinite(v)]
        if bad:
            raise CosmoComputationError(f"non-finite derived parameters {bad}: check the input ranges")

    def _r(self):
        if not self.state:
            self.compute()
        return self._res

    # ----------------------------------------------------------------- background
    @_vectorise
    def Hubble(self, z):
        """H(z) [1/Mpc]."""
        return self._r().background.H_of_z(z)

    @_vectorise
    def angular_distance(self, z):
        """Angular diameter distance D_A(z) [Mpc]."""
        return self._r().background.angular_distance(z)

    @_vectorise
    def luminosity_distance(self, z):
        """Luminosity distance [Mpc]."""
        return self._r().background.luminosity_distance(z)

    @_vectorise
    def comoving_distance(self, z):
        """Comoving radial distance chi(z) [Mpc]."""
        return self._r().background.comoving_distance(z)

    @_vectorise
    def scale_independent_growth_factor(self, z):
        """Growth factor D(z), normalised to 1 today (CLASS background D)."""
        return self._r().background.growth_D(z)

    @_vectorise
    def scale_independent_growth_factor_f(self, z):
        """Growth rate f(z) = d ln D / d ln a."""
        return self._r().background.growth_f(z)

    @_vectorise
    def z_of_tau(self, tau):
        """Redshift at conformal time tau [Mpc]."""
        return self._r().background.z_of_tau(tau)

    @_vectorise
    def ionization_fraction(self, z):
        """Free-electron fraction x_e(z) (per hydrogen nucleus, CLASS convention)."""
        th = self._r().thermo
        return np.interp(z, np.asarray(th.z), np.asarray(th.x_e))

    @_vectorise
    def baryon_temperature(self, z):
        """Baryon temperature T_b(z) [K]."""
        th = self._r().thermo
        return np.interp(z, np.asarray(th.z), np.asarray(th.T_b))

    def angular_distance_from_to(self, z1: float, z2: float) -> float:
        """Angular distance of z2 seen from z1 [Mpc] (flat: (chi2-chi1)/(1+z2); curved: sinn)."""
        bg = self._r().background
        return float(bg.angular_distance_from_to(z1, z2))

    def z_of_r(self, z):
        """(r(z), dz/dr(z)) = (comoving distance [Mpc], H(z) [1/Mpc]) as classy."""
        z = np.atleast_1d(np.asarray(z, dtype=float))
        return self.comoving_distance(z), self.Hubble(z)

    def get_background(self) -> dict:
        """The background table with classy's column names (numpy arrays, z decreasing)."""
        from .background import background_table

        return {k: np.asarray(v) for k, v in background_table(self._r().background).items()}

    def get_thermodynamics(self) -> dict:
        """The thermodynamics table with classy's column names (numpy arrays, z increasing)."""
        from .thermo.thermodynamics import thermodynamics_table

        return thermodynamics_table(self._r().thermo)

    # ----------------------------------------------------------------- scalars (CallableFloat)
    def _dens(self) -> dict:
        from .background import derived_densities

        return derived_densities(self._r().params)

    def _derived(self, name: str) -> float:
        from .thermo.thermodynamics import derived_parameters

        return derived_parameters(self._r().thermo)[name]

    h = property(lambda self: CallableFloat(self._r().params.h))
    H0 = property(lambda self: CallableFloat(100.0 * self._r().params.h))
    T_cmb = property(lambda self: CallableFloat(self._r().params.T_cmb))
    n_s = property(lambda self: CallableFloat(self._r().params.n_s))
    Omega_m = property(lambda self: CallableFloat(self._dens()["Omega0_m"]))
    Omega_r = property(lambda self: CallableFloat(self._dens()["Omega0_r"]))
    Omega_b = property(lambda self: CallableFloat(self._dens()["Omega0_b"]))
    omega_b = property(lambda self: CallableFloat(self._r().params.omega_b))
    Omega_cdm = property(lambda self: CallableFloat(self._dens()["Omega0_cdm"]))
    Omega_g = property(lambda self: CallableFloat(self._dens()["Omega0_g"]))
    Omega_k = property(lambda self: CallableFloat(self._r().params.Omega_k))
    Omega_Lambda = property(lambda self: CallableFloat(self._dens()["Omega0_lambda"]))
    Omega_fld = property(lambda self: CallableFloat(self._dens()["Omega0_fld"]))
    Omega_nu = property(lambda self: CallableFloat(self._dens()["Omega0_ncdm_tot"]))
    Neff = property(lambda self: CallableFloat(self._dens()["Neff"]))
    age = property(lambda self: CallableFloat(self._r().background.age_Gyr))
    tau_reio = property(lambda self: CallableFloat(self._derived("tau_reio")))
    z_reio = property(lambda self: CallableFloat(self._derived("z_reio")))
    rs_drag = property(lambda self: CallableFloat(self._derived("rs_d")))
    theta_s_100 = property(lambda self: CallableFloat(self._derived("100*theta_s")))
    theta_star_100 = property(lambda self: CallableFloat(self._derived("100*theta_star")))

    def Omega0_m(self) -> float:
        return float(self.Omega_m)

    def Omega0_k(self) -> float:
        return float(self.Omega_k)

    def Omega0_cdm(self) -> float:
        return float(self.Omega_cdm)

    def get_current_derived_parameters(self, names) -> dict:
        """classy's derived-parameter dictionary for the given names (CLASS names)."""
        if not isinstance(names, (list, tuple)):
            raise CosmoSevereError("get_current_derived_parameters expects a list of names")
        r = self._r()
        dens = self._dens()
        from .thermo.thermodynamics import derived_parameters

        th = derived_parameters(r.thermo)
        p = r.params
        table = {
            "h": float(p.h), "H0": 100.0 * float(p.h), "age": float(r.background.age_Gyr),
            "conformal_age": float(r.background.conformal_age), "Omega_m": dens["Omega0_m"],
            "omega_m": dens["Omega0_m"] * float(p.h) ** 2, "Omega0_lambda": dens["Omega0_lambda"],
            "Omega_Lambda": dens["Omega0_lambda"], "Omega0_fld": dens["Omega0_fld"], "Neff": dens["Neff"],
            "m_ncdm_tot": float(np.sum(np.asarray(p.m_ncdm))), "A_s": float(p.A_s),
            "ln10^{10}A_s": float(np.log(1e10 * float(p.A_s))), "ln_A_s_1e10": float(np.log(1e10 * float(p.A_s))),
            "n_s": float(p.n_s), "alpha_s": float(p.alpha_s), "r": float(p.r), "n_t": float(p.n_t),
            "theta_s_100": th.get("100*theta_s", np.nan), "theta_star_100": th.get("100*theta_star", np.nan),
        }
        table.update(th)
        if p.n_ncdm:
            table["m_ncdm_in_eV"] = float(np.asarray(p.m_ncdm)[0])
        out = {}
        for n in names:
            if n not in table:
                raise CosmoSevereError(f"get_current_derived_parameters: '{n}' is not a derived parameter "
                                       f"boltzax computes (yet); known: {sorted(table)}")
            out[n] = table[n]
        return out

    # ----------------------------------------------------------------- not yet implemented (issues 5-6)
    raw_cl = _not_yet("raw_cl", "CMB spectra, issue 'CMB C_l'")
    lensed_cl = _not_yet("lensed_cl", "CMB spectra, issue 'CMB C_l'")
    density_cl = _not_yet("density_cl", "not planned yet")
    get_perturbations = _not_yet("get_perturbations", "issue 5")

    # ----------------------------------------------------------------- linear P(k) (output = mPk)
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
        """P(k, z) [Mpc^3]: the linear spectrum (non_linear = none), HaloFit's with non_linear = halofit."""
        self._r()
        if self._pt is not None:
            raise NotImplementedOutputError("pk(k, z) with non linear = PT (CLASS-PT returns its 96 pieces "
                                            "there) is not implemented: use get_pk_mult / initialize_output")
        if self._nl_on():
            self._check_kz(float(k), float(z))
            return float(self._pk_table([float(k)], [float(z)], True, False)[0, 0])
        return self.pk_lin(k, z)

    def pk_cb(self, k, z):
        """CDM+baryon P(k, z) [Mpc^3]: linear, or HaloFit's with non_linear = halofit."""
        self._r()
        if self._nl_on():
            self._check_kz(float(k), float(z))
            return float(self._pk_table([float(k)], [float(z)], True, True)[0, 0])
        return self.pk_cb_lin(k, z)

    def get_pk_and_k_and_z(self, nonlinear=False, only_clustering_species=False, h_units=False):
        """(P [Mpc^3] shape (n_k, n_z), k [1/Mpc], z) on the solved grid, as classy (z decreasing);
        nonlinear: HaloFit's P (needs non_linear = halofit, as classy)."""
        lp = self._lp()
        if nonlinear and not self._nl_on():
            raise CosmoSevereError("get_pk_and_k_and_z(nonlinear=True) needs a nonlinear method: set "
                                   "'non_linear': 'halofit' (or call it with nonlinear=False)")
        k = np.asarray(lp.k)
        k = k[k <= self._request.P_k_max * (1 + 1e-9)]  # with HaloFit the solve goes on to CLASS's k_last
        z = np.asarray(lp.z)[::-1]
        P = self._pk_table(k, np.asarray(lp.z), bool(nonlinear), bool(only_clustering_species))[:, ::-1]
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
        with non_linear = none or nonlinear=False, else HaloFit's; cdmbar selects CDM + baryons."""
        self._lp()

        def f(karr, zz):
            return self._pk_table(karr, np.atleast_1d(zz), bool(nonlinear), bool(cdmbar))

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

    # ----------------------------------------------------------------- transfer functions (mTk, vTk)
    def get_transfer(self, z=0.0, output_format="class"):
        """classy's transfer-function table at redshift z: synchronous gauge, normalised to curvature_ini = 1
        (CLASS's convention), on boltzax's P(k) wavenumbers up to P_k_max: 'k (h/Mpc)', d_g, d_b, d_cdm,
        d_ur, d_ncdm[i], d_fld, d_m, d_tot, phi, psi (mTk) and t_g, t_b, t_ur, t_ncdm[i], t_fld, t_tot (vTk)."""
        if output_format != "class":
            raise NotImplementedOutputError("get_transfer: only output_format='class' is implemented")
        self._r()
        req = self._request
        if not ({"mTk", "vTk"} & set(req.output)):
            raise CosmoSevereError("get_transfer needs 'mTk' and/or 'vTk' in 'output'")
        z = float(z)
        z_max = max(req.z_max_pk, max(req.z_pk))
        if z < 0 or z > z_max + 1e-12:
            raise CosmoSevereError(f"get_transfer: z = {z} outside the computed range [0, {z_max}] (set 'z_pk')")
        from .pipeline import transfer_functions
        from .precision import get_precision

        k, T = transfer_functions(self._res, get_precision(self._precision), z, req.P_k_max)
        T = {n: np.asarray(v) for n, v in T.items()}
        h = float(self._res.params.h)
        out = {"k (h/Mpc)": np.asarray(k) / h}
        n_ncdm = T["d_ncdm"].shape[1] if "d_ncdm" in T else 0
        if "mTk" in req.output:
            for n in ("d_g", "d_b", "d_cdm", "d_ur"):
                out[n] = T[n]
            for i in range(n_ncdm):
                out[f"d_ncdm[{i}]"] = T["d_ncdm"][:, i]
            if "d_fld" in T:
                out["d_fld"] = T["d_fld"]
            for n in ("d_m", "d_tot", "phi", "psi"):
                out[n] = T[n]
        if "vTk" in req.output:
            for n in ("t_g", "t_b", "t_ur"):
                out[n] = T[n]
            for i in range(n_ncdm):
                out[f"t_ncdm[{i}]"] = T["t_ncdm"][:, i]
            if "t_fld" in T:
                out["t_fld"] = T["t_fld"]
            out["t_tot"] = T["t_tot"]
        return out
