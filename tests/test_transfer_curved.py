"""Curved-space line of sight (host prototype boltzax/transfer_curved.py) fed with CLASS's own sources
(tests/reference/cmb_los/ok_pos, ok_neg: Omega_k = +0.03, -0.03), at a few sampled l: C_l at the l-list nodes
equals CLASS's raw_cl there (the l spline passes through its nodes), so no full l list is needed.
The full comparison (all l to 2500) is tools/curved_los_check.py (minutes)."""

import math
import os

import numpy as np
import pytest

# host-side numpy prototype of the curved line of sight (not in the pipeline yet): minutes per cosmology
pytestmark = pytest.mark.slow

from boltzax import transfer as tr
from boltzax import transfer_curved as tc
from boltzax.bessel import bessel_table
from boltzax.precision import TransferPrecision

REF = os.path.join(os.path.dirname(__file__), "reference", "cmb_los")
L_MAX = 2500  # of the reference run (sets q_max and the l list)
N_NODES_MAX = 100  # test only the l-list nodes up to here (cost: the recurrence to the largest l, per q)


@pytest.fixture(scope="module", params=["ok_pos", "ok_neg"])
def run(request):
    f = dict(np.load(os.path.join(REF, f"{request.param}.npz")))
    prec = TransferPrecision()
    tau0, tau_rec, ra_rec = float(f["tau0"]), float(f["tau_rec"]), float(f["ra_rec"])
    ls_all = tr.l_list(L_MAX, prec.l_logstep, prec.l_linstep, ra_rec / (tau0 - tau_rec))
    ls = tuple(l for l in ls_all if l <= N_NODES_MAX)
    s_q, q, i_flat, kq = tc.sources_from_reference(f, L_MAX, prec)
    flat = bessel_table(ls, float(1.1 * q[-1] * tau0), prec.hyper_sampling_flat, prec.hyper_x_min)
    d_t, d_e = tc.transfers_curved(s_q, q, float(f["K"]), f["tau"], tau0, tau_rec, ra_rec, float(f["tau_cut"]), ls,
                                   i_flat, flat, prec)
    args = (q, float(f["K"]), i_flat, float(f["A_s"]), float(f["n_s"]))
    cls = dict(tt=tc.cl_curved(d_t, d_t, *args), ee=tc.cl_curved(d_e, d_e, *args), te=tc.cl_curved(d_t, d_e, *args))
    return request.param, f, np.asarray(ls), cls, q, i_flat


def test_q_list(run):
    name, f, _, _, q, i_flat = run
    K = float(f["K"])
    assert np.all(np.diff(q) > 0)
    if K > 0:  # closed: integer nu from 3, at least one apart, until the flat approximation
        nu = q[:i_flat] / math.sqrt(K)
        assert nu[0] == pytest.approx(3.0) and np.allclose(nu, np.round(nu), atol=1e-9)
        assert np.all(np.diff(np.round(nu)) >= 1)
    else:
        assert q[0] == pytest.approx(math.sqrt(f["k"][0] ** 2 + K))
    assert q[i_flat - 1] <= 4000 * math.sqrt(abs(K)) < q[min(i_flat, q.size - 1)]


def test_cl_at_nodes(run):
    """Measured (all l to 2500, tools/curved_los_check.py) is in CHANGELOG; here the nodes l <= 100."""
    name, f, ls, cls, _, _ = run
    tt, ee, te = (f[f"cl_{n}"].astype(float)[ls] for n in ("tt", "ee", "te"))
    assert np.max(np.abs(cls["tt"] / tt - 1)) < 1e-4
    assert np.max(np.abs(cls["ee"] / ee - 1)) < 1e-4
    assert np.max(np.abs(cls["te"] - te) / np.sqrt(tt * ee)) < 1e-4
