"""classy's ``get_perturbations`` (per-k time series, ``k_output_values``)."""

from __future__ import annotations

import numpy as np

from ..errors import NotImplementedOutputError

# outputs with which CLASS writes the ncdm columns (has_density_transfers, has_velocity_transfers or
# has_source_delta_m: perturbations_prepare_k_output)
_NCDM_COLUMN_OUTPUTS = {"mPk", "mTk", "vTk", "dTk", "nCl", "sCl"}


class PerturbationsMixin:
    def get_perturbations(self, return_copy=True):
        """classy's per-k time series for the wavenumbers of 'k_output_values' [1/Mpc]: a dict
        {'scalar': [one dict per k (increasing, as CLASS sorts them) of arrays over time]}, with CLASS's column
        names ('tau [Mpc]', 'a', 'delta_g', 'theta_g', 'shear_g', 'G_g_0', 'G_g_1', 'G_g_2', 'delta_b',
        'theta_b', 'psi', 'phi', 'delta_ur', 'theta_ur', 'shear_ur', 'delta_cdm', 'theta_cdm', per ncdm species
        'delta_ncdm[i]', 'theta_ncdm[i]', 'shear_ncdm[i]', 'cs2_ncdm[i]', and for a fluid 'delta_rho_fld',
        'rho_plus_p_theta_fld', 'delta_p_fld'), in CLASS's conventions for 'gauge' and
        'get_perturbations_in_current_gauge' (boltzax.perturbations.timeseries).  {} without k_output_values.

        The times are boltzax's own (the mode's start, then CLASS's CMB source sampling), not the steps of
        CLASS's integrator.  Tensor and vector modes are not implemented (NotImplementedOutputError)."""
        self._r()
        req = self._request
        if not req.k_output_values:
            return {}
        if not set(req.output) - {"", "Sd"}:
            from ..errors import CosmoSevereError

            raise CosmoSevereError("get_perturbations: CLASS computes no perturbations without an 'output' (e.g. "
                                   "'mPk' or 'tCl'), so 'k_output_values' has nothing to store")
        if any(m != "s" for m in req.modes):
            raise NotImplementedOutputError(f"get_perturbations: tensor and vector modes (modes = "
                                            f"{','.join(req.modes)}) are not implemented in boltzax yet")
        cache = getattr(self, "_pert_cache", None)
        if cache is None or cache[0] is not self._res:
            from ..perturbations.timeseries import column_names, perturbation_timeseries

            res = self._res
            cols = perturbation_timeseries(res, self._precision, np.asarray(req.k_output_values), gauge=req.gauge,
                                           current_gauge=req.perturbations_in_current_gauge)
            cols = {n: np.asarray(v) for n, v in cols.items()}
            p = res.params
            n_ncdm = int(res.background.model.M_ncdm.shape[0])
            names = column_names(n_ncdm, bool(res.background.model.has_fld), has_ur=float(p.N_ur) > 0,
                                 has_cdm=float(p.omega_cdm) > 0,
                                 ncdm_columns=bool(_NCDM_COLUMN_OUTPUTS & set(req.output)))
            if not all(np.all(np.isfinite(cols[n])) for n in names):
                from ..errors import CosmoComputationError

                raise CosmoComputationError("get_perturbations: non-finite perturbations (check the input ranges "
                                            "and k_output_values)")
            self._pert_cache = (res, [{n: cols[n][i] for n in names} for i in range(len(req.k_output_values))])
        # writable copies, as classy (return_copy=False gives views of the cached arrays)
        table = self._pert_cache[1]
        if return_copy:
            table = [{n: v.copy() for n, v in d.items()} for d in table]
        return {"scalar": table}
