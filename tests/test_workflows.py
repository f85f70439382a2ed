"""classy scripts written the way cosmologists write them, run unchanged with ``from boltzax import Class``, against
what classy 3.4.1 returned to the same scripts (tests/reference/workflows/classy.npz, written by
tools/make_workflow_reference.py).  Tolerances: background 1e-4, spectra 1e-3.

The fast scripts share one cosmology, classy's ``set_baseline('p18')`` (Planck 2018, one 0.06 eV neutrino, z_reio
as input) with the script's own request (output = mPk, lensing = no, z_pk = 0,0.5,1,2): one traced P(k) solve
for the module, the compiled program of tests/test_fourier.py::test_classy_pk_and_sigma8 (same static shapes).
get_perturbations in both gauges is a slow test (it compiles the time-series solver once per gauge)."""

import json
import os

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from boltzax import Class, CosmoSevereError

REF = os.path.join(os.path.dirname(__file__), "reference", "workflows", "classy.npz")
C_KM_S = 299792.458
SPECTRA = ("sigma8", "sigma8_cb")  # derived parameters with the spectra's tolerance


@pytest.fixture(scope="module")
def ref():
    assert os.path.exists(REF), "missing: run tools/make_workflow_reference.py"
    return dict(np.load(REF))


SCRIPT_REQUEST = {"output": "mPk", "lensing": "no", "z_pk": "0,0.5,1,2"}


@pytest.fixture(scope="module")
def cosmo(ref):
    """A script's cosmology: set_baseline, its own request, and no compute() (classy 3.4 computes on the first
    accessor)."""
    cosmo = Class()
    cosmo.set_baseline("p18")
    cosmo.set(SCRIPT_REQUEST)
    assert cosmo.pars == json.loads(str(ref["lazy/input"]))  # classy's pars after the same two calls
    return cosmo


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=float) / np.asarray(b, dtype=float) - 1)))


def test_lazy_accessors(cosmo, ref):
    """Hubble, distances, sigma8 and f sigma8 without a compute() call."""
    z = ref["lazy/z"]
    H = np.array([cosmo.Hubble(zz) for zz in z])
    assert _rel(H, ref["lazy/Hubble"]) < 1e-4
    for name in ("angular_distance", "luminosity_distance"):
        got = np.array([getattr(cosmo, name)(zz) for zz in z[z > 0]])
        assert _rel(got, ref[f"lazy/{name}"][z > 0]) < 1e-4, name
    assert _rel(cosmo.sigma8(), ref["lazy/sigma8"]) < 1e-3
    fs8 = [cosmo.effective_f_sigma8(zz) for zz in ref["lazy/f_sigma8_z"]]
    assert _rel(fs8, ref["lazy/effective_f_sigma8"]) < 1e-3


def test_derived_parameter_list(cosmo, ref):
    """get_current_derived_parameters([...]) with a list as a script keeps it; an unknown name raises as classy."""
    prefix = "lazy/derived/"
    names = [k[len(prefix):] for k in ref if k.startswith(prefix)]
    d = cosmo.get_current_derived_parameters(names)
    assert sorted(d) == sorted(names)
    errs = {n: abs(d[n] / float(ref[prefix + n]) - 1) for n in names}
    bad = {n: e for n, e in errs.items() if not e < (1e-3 if n in SPECTRA else 1e-4)}
    assert not bad, bad
    with pytest.raises(CosmoSevereError, match="not_a_parameter was not recognized"):
        cosmo.get_current_derived_parameters(["h", "not_a_parameter"])


def test_k_loop_over_the_grid(cosmo, ref):
    """P, k, z = get_pk_and_k_and_z(); then pk_lin(k, z) for every k and z of that grid (its first and last k
    included): the loop reproduces the table, and both agree with CLASS's pk_lin at those (k, z)."""
    P, k, z = cosmo.get_pk_and_k_and_z(nonlinear=False)
    assert P.shape == (k.size, z.size) and np.all(np.diff(k) > 0) and z[-1] == 0.0
    # every k at the grid's first and last z (z[0] = z_max, z[-1] = 0), every z at the first and last k
    cols = [0, z.size - 1]
    loop = np.full(P.shape, np.nan)
    for i, kk in enumerate(k):
        for j in range(z.size) if i in (0, k.size - 1) else cols:
            loop[i, j] = cosmo.pk_lin(kk, z[j])
    done = ~np.isnan(loop)
    np.testing.assert_allclose(loop[done], P[done], rtol=1e-8)
    # CLASS at the same points: its pk_lin on a dense log grid (ref), cubic in ln k
    kr, zr, Pr = ref["lazy/pk_k"], ref["lazy/pk_z"], ref["lazy/pk_lin"]
    inside = (k >= kr[0]) & (k <= kr[-1])
    assert inside.sum() > 0.95 * k.size
    matched = 0
    for j, zz in enumerate(z):
        i = np.nonzero(np.isclose(zr, zz, rtol=0, atol=1e-12))[0]
        if i.size == 0:
            continue
        matched += 1
        class_pk = np.exp(CubicSpline(np.log(kr), np.log(Pr[i[0]]))(np.log(k[inside])))
        assert _rel(P[inside, j], class_pk) < 1e-3, zz
    assert matched >= 4  # at least z_pk = 0, 0.5, 1, 2


def test_writable_tables(cosmo, ref):
    """get_background / get_thermodynamics give writable numpy arrays (a script rescales columns in place), with
    CLASS's values: background 1e-4, x_e 1e-3 (cubic interpolation of boltzax's rows at CLASS's)."""
    bg = cosmo.get_background()
    bg["H [1/Mpc]"] *= C_KM_S  # to km/s/Mpc, in place
    zb = ref["lazy/bg/z"]
    for col in ("H [1/Mpc]", "conf. time [Mpc]", "proper time [Gyr]", "comov. dist.", "ang.diam.dist.",
                "lum. dist.", "comov.snd.hrz.", "(.)rho_cdm", "(.)rho_b", "(.)rho_g", "gr.fac. D", "gr.fac. f"):
        o = np.argsort(bg["z"])
        x = np.log1p(bg["z"][o])
        r = ref[f"lazy/bg/{col}"] * (C_KM_S if col == "H [1/Mpc]" else 1.0)
        sel = (zb > 0) | (col not in ("comov. dist.", "ang.diam.dist.", "lum. dist."))
        got = CubicSpline(x, bg[col][o])(np.log1p(zb[sel]))
        assert _rel(got, r[sel]) < 1e-4, col
    th = cosmo.get_thermodynamics()
    th["x_e"] *= 2.0  # in place (a script's rescaling)
    zt = ref["lazy/th/z"]
    o = np.argsort(th["z"])
    for col, tol in (("x_e", 1e-3), ("Tb [K]", 1e-4), ("conf. time [Mpc]", 1e-4)):
        got = CubicSpline(np.log1p(th["z"][o]), th[col][o])(np.log1p(zt))
        r = ref[f"lazy/th/{col}"] * (2.0 if col == "x_e" else 1.0)
        assert _rel(got, r) < tol, col


def test_cleanup_empty_and_reset(ref):
    """A parameter loop as scripts write it: set, compute, read, struct_cleanup, set again; then empty() and a
    fresh set of the same cosmology: the results are CLASS's for the cosmology set last."""
    inp = json.loads(str(ref["lazy/input"]))
    bg_only = {k: v for k, v in inp.items() if k not in ("output", "lensing", "P_k_max_h/Mpc", "z_pk")}
    z = ref["lazy/z"]
    c = Class()
    for omega_cdm in (0.13, inp["omega_cdm"]):
        c.set({**bg_only, "omega_cdm": omega_cdm})
        c.compute()
        H = np.array([c.Hubble(zz) for zz in z])
        c.struct_cleanup()
    assert _rel(H, ref["lazy/Hubble"]) < 1e-4  # the last cosmology
    c.empty()
    assert c.pars == {}
    c.set(bg_only)
    assert _rel(c.angular_distance(1.0), ref["lazy/angular_distance"][z == 1.0]) < 1e-4  # lazy again
    c.struct_cleanup()
    with pytest.raises(CosmoSevereError):
        c.pk_lin(0.1, 0.0)  # no mPk requested (classy raises too)


# --------------------------------------------------------------------------------------- get_perturbations
PERT_REF = os.path.join(os.path.dirname(__file__), "reference", "perturbations", "fid.npz")
# columns compared: smooth after recombination (interpolable between boltzax's rows), and the same in both gauges
# approximation schemes (CLASS's ur / ncdm fluid and radiation-streaming switches differ between its gauges:
# tests/test_perturbations_output.py compares the others where they are comparable)
SMOOTH = ("delta_cdm", "delta_b", "theta_b", "phi", "psi")


@pytest.mark.slow  # compiles the time-series solver once per gauge (~8-10 min each on a loaded 2-core machine)
@pytest.mark.parametrize("gauge,var", [("synchronous", "sync"), ("newtonian", "newt")])
def test_get_perturbations_workflow(gauge, var):
    """k_output_values at several k, in both gauges, as a script reads them: per-k dicts of writable arrays in
    CLASS's column order; the smooth columns after recombination (cubic in tau between boltzax's rows) and every
    column at tau0 against CLASS (tests/reference/perturbations, tools/make_perturbations_reference.py), 1e-3 of
    each column's largest |value| after recombination (test_perturbations_output's metric); every column finite."""
    ref = dict(np.load(PERT_REF))
    c = Class()
    c.set(json.loads(str(ref["meta/input"])))
    c.set({"gauge": gauge})
    pert = c.get_perturbations()["scalar"]
    assert len(pert) == len(ref["meta/k"])
    titles = json.loads(str(ref[f"meta/titles/{var}"]))
    tau_rec = float(ref["meta/tau_rec"])
    bad, worst = {}, {}
    for i, (k, p) in enumerate(zip(ref["meta/k"], pert)):
        assert list(p) == titles
        p["delta_cdm"] *= -1.0  # writable
        p["delta_cdm"] *= -1.0
        tau = p["tau [Mpc]"]
        rt = ref[f"{var}/{i}/tau [Mpc]"]
        after = rt > tau_rec
        assert all(np.all(np.isfinite(v)) for v in p.values())
        for col in SMOOTH:
            r = ref[f"{var}/{i}/{col}"]
            scale = np.max(np.abs(r[after]))
            errs = [abs(p[col][-1] - r[-1]) / scale,  # today
                    np.max(np.abs(CubicSpline(tau, p[col])(rt[after]) - r[after])) / scale]
            worst[(float(k), col)] = max(errs)
            if not max(errs) < 1e-3:
                bad[(float(k), col)] = max(errs)
    print(gauge, "worst:", max(worst.items(), key=lambda x: x[1]))
    assert not bad, bad
