"""Command line: --help, .ini parsing, CLASS-format output files."""

import os
import subprocess
import sys

import numpy as np

from boltzax import io
from boltzax.cli import main


def test_help():
    out = subprocess.run([sys.executable, "-m", "boltzax.cli", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "run" in out.stdout


def test_read_ini(tmp_path):
    f = tmp_path / "x.ini"
    f.write_text("# comment\nh = 0.7   # inline comment\nomega_b=0.022\nthis line has no equal sign\n"
                 "output = \nN_ncdm = 1\nm_ncdm = 0.06, \n")
    d = io.read_ini(str(f))
    assert d == {"h": "0.7", "omega_b": "0.022", "N_ncdm": "1", "m_ncdm": "0.06,"}


def test_write_table_roundtrip(tmp_path):
    cols = {"z": np.array([0.0, 1.0]), "H [1/Mpc]": np.array([2.2e-4, 4.0e-4])}
    path = tmp_path / "t.dat"
    io.write_table(str(path), cols, io.BACKGROUND_HEADER)
    data = np.loadtxt(path)
    np.testing.assert_allclose(data, np.column_stack(list(cols.values())), rtol=1e-12)
    assert "1:z" in path.read_text() and "2:H [1/Mpc]" in path.read_text()


def test_run_writes_files(tmp_path):
    """CLASS's own explanatory.ini runs in `boltzax run` once its outputs are ones boltzax computes (its C_l
    request replaced by mPk, lensing off; RECFAST for a quicker test); unread sub-parameters only warn, as CLASS."""
    src = os.path.join(os.path.dirname(__file__), "data", "class_ini", "explanatory.ini")
    text = open(src).read().replace("output = tCl,pCl,lCl,mPk", "output = mPk")
    text = text.replace("recombination = HyRec", "recombination = RecFast")
    # CLASS refuses lensing = yes without lCl (input.c input_read_parameters_lensing): as CLASS, turn it off too
    text = "\n".join("lensing = no" if ln.split("=")[0].strip() == "lensing" else ln for ln in text.splitlines())
    assert "output = mPk" in text and "recombination = RecFast" in text
    ini = tmp_path / "lcdm.ini"
    ini.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(ini), "--output", str(out), "--precision", "fast"]) == 0
    for f in ("background.dat", "thermodynamics.dat", "parameters.ini", "summary.png"):
        assert os.path.getsize(out / f"lcdm_{f}") > 0
    assert not [f for f in os.listdir(out) if f.startswith(".boltzax_tmp")]
