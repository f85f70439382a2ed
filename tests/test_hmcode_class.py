"""HMcode end to end through `boltzax.Class` (non_linear = hmcode) against CLASS v3.4.1's default run
(tests/reference/hmcode: P_k_max_1/Mpc = 20, CLASS's time nodes nearest z = 0, 0.5, 1, 2).

The comparison includes boltzax's own linear P (<= 2.3e-4 vs CLASS) and, against CLASS's default run, CLASS's
bisection noise (hmcode_tol_sigma = 1e-6: up to 1.7e-3 in P_nl, test_hmcode.py), hence 1e-3 against CLASS
run at hmcode_tol_sigma = 1e-10 and 3e-3 (the issue's ceiling) against its default run.
Slow: the default-precision solver compiles once per process (minutes under load), then ~10-20 s per case.
"""

import numpy as np
import pytest

import boltzax
from boltzax.testing import load_hmcode_reference

pytestmark = pytest.mark.slow


def _class(ref, run="2020"):
    import json

    inp = json.loads(str(ref[f"meta/input_{run}"]))
    # z_pk = 0, z_max_pk = 2 (CLASS's nodes nearest 2 are <= 1.99): the linear table sits on fixed z nodes, so
    # one compiled solve serves every model (z_pk = CLASS's own, cosmology-dependent nodes would recompile it);
    # P_lin between the nodes is boltzax's Hermite cubic in ln(1+z) (slopes from f), HMcode runs at CLASS's
    # node redshifts themselves
    cl = boltzax.Class()
    cl.set(inp | {"z_pk": "0", "z_max_pk": 2.0})
    cl.compute()
    return cl


# one model of each class of the reference box: LCDM + 0.06 eV (fid), LCDM + 0.25 eV (lcdm_1) and heavy-nu corner
# (lcdm_5), two and three ncdm species, w0/wa, Omega_k of both signs (tools/hmcode_class_report.py runs all 17)
MODELS = ["fid", "lcdm_1", "lcdm_5", "ncdm2", "ncdm3", "w0wa_2", "ok_pos", "ok_neg"]


def _max_err(cl, ref, run, cdmbar):
    k = ref["k"]
    sel = (k >= 5e-4) & (k <= 5.0)
    got = cl.get_pk_all(k[sel], ref["z"], nonlinear=True, cdmbar=cdmbar)  # (n_z, n_k)
    key = "pk_cb" if cdmbar else "pk"
    return (float(np.max(np.abs(got / ref[f"{key}_{run}"][:, sel] - 1))),
            float(np.max(np.abs(got / ref[f"{key}_{run}_tight"][:, sel] - 1))))


@pytest.mark.parametrize("version", ["2020", "2016"])
@pytest.mark.parametrize("name", MODELS)
def test_class_hmcode_matches_class(name, version):
    """P_m, P_cb at 5e-4 <= k <= 5 /Mpc, CLASS's four time nodes: within 3e-4 of CLASS run at
    hmcode_tol_sigma = 1e-10 (its bisection noise removed; measured <= 9.3e-5 over all 17 models, session 9,
    tools/hmcode_class_report.py) and within 3e-3 of CLASS's default run (that noise reaches 1.7e-3 in the
    stage alone, test_hmcode.py; 9.1e-4 here); k_nl within 2e-4 of CLASS's tight run (measured <= 6.4e-5)."""
    ref = load_hmcode_reference(name)
    cl = _class(ref, version)
    for cdmbar in (False, True):
        default, tight = _max_err(cl, ref, version, cdmbar)
        print(f"\n{name} {version} {'P_cb' if cdmbar else 'P_m'}: vs CLASS default {default:.2e}, tight {tight:.2e}")
        assert tight < 3e-4 and default < 3e-3
    z = ref["z"]
    np.testing.assert_allclose(cl.nonlinear_scale(z, len(z)), ref[f"k_nl_{version}_tight"], rtol=2e-4)


def test_class_hmcode_accessors():
    """nonlinear_method; the array accessors; the halo model adds power on small scales."""
    cl = _class(load_hmcode_reference("fid"))
    assert int(cl.nonlinear_method) == 2
    pk, kk, zz = cl.get_pk_and_k_and_z(nonlinear=True)
    assert pk.shape == (len(kk), len(zz)) and np.all(pk > 0)
    lin, _, _ = cl.get_pk_and_k_and_z(nonlinear=False)
    assert np.all(pk[kk > 1.0] > lin[kk > 1.0])
