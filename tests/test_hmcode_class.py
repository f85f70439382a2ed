"""HMcode end to end through `boltzax.Class` (non_linear = hmcode) against CLASS v3.4.1's default run
(tests/reference/hmcode: P_k_max_1/Mpc = 20, CLASS's time nodes nearest z = 0, 0.5, 1, 2).

The comparison includes boltzax's own linear P (<= 2.3e-4 vs CLASS) and CLASS's bisection noise in its
default run (hmcode_tol_sigma = 1e-6: up to ~1e-3 in P_nl, see test_hmcode.test_class_default_noise), hence
the 3e-3 bound (the issue's ceiling).  Slow: each case compiles the perturbation solver (default precision).
"""

import numpy as np
import pytest

import boltzax
from boltzax.testing import load_hmcode_reference

pytestmark = pytest.mark.slow


def _class(ref, run="2020"):
    import json

    inp = json.loads(str(ref[f"meta/input_{run}"]))
    inp.pop("z_max_pk")
    cl = boltzax.Class()
    cl.set(inp | {"z_pk": ",".join(f"{z:.12g}" for z in ref["z"])})
    cl.compute()
    return cl


@pytest.mark.parametrize("name", ["fid", "w0wa_2"])
def test_class_hmcode_2020(name):
    """pk, pk_cb at 5e-4 <= k <= 5 /Mpc, the four nodes; nonlinear_scale; nonlinear_method; array accessors."""
    ref = load_hmcode_reference(name)
    cl = _class(ref)
    k = ref["k"]
    sel = (k >= 5e-4) & (k <= 5.0)
    z = ref["z"]
    got = np.array([[cl.pk(kk, zz) for kk in k[sel]] for zz in z])
    assert np.max(np.abs(got / ref["pk_2020"][:, sel] - 1)) < 3e-3
    got_cb = np.array([[cl.pk_cb(kk, zz) for kk in k[sel]] for zz in z])
    assert np.max(np.abs(got_cb / ref["pk_cb_2020"][:, sel] - 1)) < 3e-3
    np.testing.assert_allclose(cl.nonlinear_scale(z, len(z)), ref["k_nl_2020"], rtol=2e-3)
    assert int(cl.nonlinear_method) == 2
    pk, kk, zz = cl.get_pk_and_k_and_z(nonlinear=True)
    assert pk.shape == (len(kk), len(zz)) and np.all(pk > 0)
    lin, _, _ = cl.get_pk_and_k_and_z(nonlinear=False)
    assert np.all(pk[kk > 1.0] > lin[kk > 1.0])  # the halo model adds power on small scales
