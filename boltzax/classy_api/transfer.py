"""classy's ``get_transfer`` (``output = mTk, vTk``)."""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError, NotImplementedOutputError


class TransferMixin:
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
        if req.gauge != "synchronous":
            raise NotImplementedOutputError("get_transfer in Newtonian gauge (gauge = newtonian) is not implemented "
                                            "yet: synchronous gauge only (get_perturbations has both gauges)")
        z = float(z)
        z_max = max(req.z_max_pk, max(req.z_pk))
        if z < 0 or z > z_max + 1e-12:
            raise CosmoSevereError(f"get_transfer: z = {z} outside the computed range [0, {z_max}] (set 'z_pk')")
        from ..pipeline import transfer_functions
        from ..precision import get_precision

        k, T = transfer_functions(self._res, get_precision(self._precision), z, req.P_k_max)
        T = {n: np.array(v, dtype=float) for n, v in T.items()}  # writable copies, as classy
        h = float(self._res.params.h)
        out = {"k (h/Mpc)": np.array(k, dtype=float) / h}
        n_ncdm = T["d_ncdm"].shape[1] if "d_ncdm" in T else 0
        if "mTk" in req.output:
            for n in ("d_g", "d_b", "d_cdm", "d_ur"):
                out[n] = T[n]
            for i in range(n_ncdm):
                out[f"d_ncdm[{i}]"] = T["d_ncdm"][:, i].copy()
            if "d_fld" in T:
                out["d_fld"] = T["d_fld"]
            for n in ("d_m", "d_tot", "phi", "psi"):
                out[n] = T[n]
        if "vTk" in req.output:
            for n in ("t_g", "t_b", "t_ur"):
                out[n] = T[n]
            for i in range(n_ncdm):
                out[f"t_ncdm[{i}]"] = T["t_ncdm"][:, i].copy()
            if "t_fld" in T:
                out["t_fld"] = T["t_fld"]
            out["t_tot"] = T["t_tot"]
        return out
