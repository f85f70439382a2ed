"""classy's CMB methods: ``raw_cl``, ``lensed_cl``, ``get_sources`` (``output`` with tCl, pCl, lCl; ``lensing``).

The spectra come from `boltzax.cmb.cmb_spectra` at ``compute()`` (`LifecycleMixin._cmb_compute`). As classy 3.4.1
(python/classy.pyx): raw_cl returns the unlensed C_l up to CLASS's l_max_tot (l_max_scalars, plus delta_l_max
with lensing), lensed_cl up to l_max_scalars; both dimensionless (no T_cmb^2), with the keys the 'output' implies
(tCl: tt; pCl: ee, bb; tCl + pCl: te; lCl: pp; tCl + lCl: tp) and 'ell'; asking beyond the computed l_max raises
CosmoSevereError ("Can only compute up to lmax=..."); ``nofail=True`` recomputes with a larger l_max_scalars.
``density_cl`` (number counts, shear) is not implemented.
"""

from __future__ import annotations

import numpy as np

from ..errors import CosmoSevereError, NotImplementedOutputError
from ..perturbations.sampling import source_tau_start
from ._base import _not_yet

CMB_OUTPUTS = ("tCl", "pCl", "lCl")


def cl_keys(output) -> list[str]:
    """classy's raw_cl / lensed_cl keys for an 'output' list (classy.pyx has_flags; no 'ep' in classy 3.4.1)."""
    t, p, l = ("tCl" in output), ("pCl" in output), ("lCl" in output)
    keys = (["tt"] if t else []) + (["ee"] if p else []) + (["te"] if t and p else []) + (["bb"] if p else [])
    return keys + (["pp"] if l else []) + (["tp"] if t and l else [])


class CMBMixin:
    density_cl = _not_yet("density_cl", "number-count and shear C_l, not planned yet")

    def _cmb(self):
        self._r()
        if self._cl is None:
            return None
        return self._cl

    def _cl_out(self, which: str, lmax, nofail: bool, missing: str) -> dict:
        cl = self._cmb()
        if cl is None or which not in cl:
            raise CosmoSevereError(missing)
        arrays = cl[which]
        lmax_r = len(arrays["tt" if "tt" in arrays else next(iter(arrays))]) - 1
        lmax = int(lmax)
        if lmax == -1:
            lmax = lmax_r
        if lmax > lmax_r:
            lname = "l_max_scalars" if "s" in self._request.modes else "l_max_tensors"
            if not nofail:
                what = lname + (" + delta_l_max" if which == "unlensed" and self._request.lensing else "")
                raise CosmoSevereError(f"Can only compute up to lmax={lmax_r} ({what} = {lmax_r}; set "
                                       f"'{lname}' or pass nofail=True)")
            self.set(**{lname: lmax})  # classy: _pars_check("l_max_scalars", lmax), then recompute
            return self._cl_out(which, lmax, False, missing)
        out = {k: np.array(arrays[k][: lmax + 1], dtype=float) for k in cl_keys(self._request.output)}
        out["ell"] = np.arange(lmax + 1)
        return out

    def raw_cl(self, lmax=-1, nofail=False):
        """Unlensed C_l (dimensionless) up to lmax (default: all computed), classy's keys (module docstring)."""
        return self._cl_out("unlensed", lmax, nofail, "No Cl computed")

    def lensed_cl(self, lmax=-1, nofail=False):
        """Lensed C_l (dimensionless) up to lmax (default: l_max_scalars); pp, tp unlensed, as classy."""
        return self._cl_out("lensed", lmax, nofail, "No lensed Cl computed")

    def get_sources(self):
        """(sources, k [1/Mpc], tau [Mpc]) as classy: sources[name][index_k][index_tau] for 't0', 't1', 't2',
        'p', 'phi_plus_psi' (CLASS's scalar CMB sources, synchronous gauge, curvature R = 1 initially), on the
        k and tau grids the C_l were computed from.  Needs a C_l output."""
        cl = self._cmb()
        if cl is None:
            raise CosmoSevereError("No sources computed: get_sources needs a C_l output ('tCl', 'pCl' or 'lCl')")
        if self._request.gauge != "synchronous":
            raise NotImplementedOutputError("get_sources in Newtonian gauge (gauge = newtonian) is not implemented "
                                            "yet: CLASS's Newtonian-gauge source split differs (synchronous only)")
        if "sources" not in cl:  # modes = t: classy returns the scalar sources only
            raise CosmoSevereError("No scalar sources computed: get_sources needs 'modes' with 's'")
        src, k, tau = cl["sources"]
        # CLASS's own time list: without the front padding to the static length (sampling.py)
        res = self._r()
        t_ini = float(source_tau_start(res.background, res.thermo,
                                         self._precision.sources.start_sources_at_tau_c_over_tau_h))
        keep = np.asarray(tau) >= t_ini * (1.0 - 1e-12)
        return {n: np.array(v)[:, keep] for n, v in src.items()}, np.array(k), np.array(tau)[keep]
