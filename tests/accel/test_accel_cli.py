"""``python -m lepton.accel``: runs scripts as ``python script.py`` would, then reports; the
gallery-style examples print the same results with and without it.

Gallery comparison: every number printed agrees to one unit in its last printed digit (the
scripts round to 2-6 digits; lepton's and scikit-learn's results differ by float round-off),
and all other text is identical.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from child_env import child_env

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "accel"
GALLERY = ["plot_pca_iris", "plot_scaling_importance", "plot_digits_pipe", "plot_missing_values"]


def python(*args, cwd=None, timeout=300):
    return subprocess.run(
        [sys.executable, *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=child_env(), cwd=cwd, check=False,
    )  # fmt: skip


def accel(*args, **kw):
    return python("-m", "lepton.accel", *args, **kw)


def run_main(*args):
    from lepton.accel.__main__ import main

    return main([str(a) for a in args])


def test_runs_the_script_as_main_with_its_arguments(tmp_path, capsys):
    script = tmp_path / "prog.py"
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    script.write_text(
        "import sys\n"
        "import helper_mod  # the script's folder is on sys.path, as with python script.py\n"
        "print(__name__, sys.argv[1:], helper_mod.VALUE + 1)\n"
    )
    argv, path0 = list(sys.argv), sys.path[0]
    assert run_main(script, "--json", "x", "-m", "y") == 0
    out, err = capsys.readouterr()
    assert out == "__main__ ['--json', 'x', '-m', 'y'] 42\n"
    assert "lepton.accel: 0 estimator calls" in err
    assert (sys.argv, sys.path[0]) == (argv, path0)  # restored
    sys.modules.pop("helper_mod", None)


def test_exit_status_and_errors_are_the_scripts(tmp_path, capsys):
    script = tmp_path / "fails.py"
    script.write_text("import sys\nsys.exit(3)\n")
    assert run_main(script) == 3
    script.write_text("def f():\n    raise KeyError('boom')\nf()\n")
    assert run_main(script) == 1
    err = capsys.readouterr().err
    assert "KeyError: 'boom'" in err
    assert 'fails.py", line 3' in err
    assert "runpy" not in err.split("Traceback")[1].split("KeyError")[0]
    assert "lepton.accel:" in err  # the report still comes
    assert run_main(tmp_path / "nope.py") == 2
    assert "can't open file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run_main()  # no script: usage error
    from lepton import accel as module

    assert not module.is_installed()


def test_module_mode_json_and_quiet(tmp_path):
    pkg = tmp_path / "mypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "job.py").write_text(
        "import sys\n"
        "import numpy as np\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "x = np.random.default_rng(0).normal(size=(100, 3))\n"
        "print(sys.argv[1:], StandardScaler().fit_transform(x).shape)\n"
    )
    out = tmp_path / "report.json"
    proc = accel("--json", out, "--quiet", "-m", "mypkg.job", "--flag", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "['--flag'] (100, 3)\n"
    assert "lepton.accel:" not in proc.stderr
    doc = json.loads(out.read_text())
    assert doc["accelerated"]["calls"] == 1
    assert doc["groups"][0]["estimator"] == "sklearn.preprocessing.StandardScaler"


def test_compare_and_int8_flags(tmp_path):
    script = tmp_path / "job.py"
    script.write_text(
        "import numpy as np\n"
        "from sklearn.linear_model import LogisticRegression\n"
        "from sklearn.preprocessing import StandardScaler\n"
        "rng = np.random.default_rng(0)\n"
        "x = rng.normal(size=(400, 5)); y = (x[:, 0] > 0).astype(int)\n"
        "x = StandardScaler().fit_transform(x)\n"
        "print(LogisticRegression().fit(x, y).predict(x)[:5])\n"
    )
    out = tmp_path / "r.json"
    proc = accel("--compare", "--int8", "--json", out, script)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(out.read_text())
    assert doc["options"] == {"compare": True, "int8": True}
    ran = {(g["estimator"].rsplit(".", 1)[-1], g["ran_on"]) for g in doc["groups"]}
    assert ran == {("StandardScaler", "lepton"), ("LogisticRegression", "lepton-int8")}
    assert doc["compared"]["calls"] == 1
    assert "speed-up" in proc.stderr
    assert "share of rows with the float model's label" in proc.stderr


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?%?")
# The bar's script, at a size a unit test affords.
SMALL_PIPELINE = f"{EXAMPLES / 'pipeline_200k.py'}:--rows,4000,--features,32,--components,8"
SPECS = [str(EXAMPLES / f"{name}.py") for name in GALLERY] + [SMALL_PIPELINE]


def _split(text):
    """Text with numbers taken out, and the numbers with the size of their last digit."""
    numbers = []
    for m in _NUMBER.finditer(text):
        token = m.group().rstrip("%")
        mantissa, _, exponent = token.lower().partition("e")
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        unit = 10.0 ** (-decimals + (int(exponent) if exponent else 0))
        numbers.append((float(token), unit))
    return _NUMBER.sub("#", text), numbers


@pytest.fixture(scope="module")
def gallery(tmp_path_factory):
    """Every example run plainly and under ``python -m lepton.accel --compare``."""
    driver = Path(__file__).with_name("_run_gallery.py")
    report = tmp_path_factory.mktemp("gallery") / "report.json"
    plain = python(driver, *SPECS, timeout=900)
    fast = accel("--compare", "--json", report, driver, *SPECS, timeout=900)
    assert plain.returncode == 0, plain.stderr
    assert fast.returncode == 0, fast.stderr
    return (
        json.loads(plain.stdout),
        json.loads(fast.stdout),
        fast.stderr,
        json.loads(report.read_text()),
    )


@pytest.mark.parametrize("spec", SPECS, ids=[*GALLERY, "pipeline_small"])
def test_gallery_examples_print_the_same_results(gallery, spec):
    plain, fast, _, _ = gallery
    text, numbers = _split(plain[spec])
    fast_text, fast_numbers = _split(fast[spec])
    assert fast_text == text
    assert len(fast_numbers) == len(numbers)
    for (a, unit), (b, _) in zip(fast_numbers, numbers, strict=True):
        assert abs(a - b) <= 1.01 * unit, (a, b)


def test_gallery_report(gallery):
    _, _, stderr, doc = gallery
    assert "\nlepton.accel: " in stderr  # after what the scripts wrote to stderr
    assert "measured against scikit-learn on the same inputs" in stderr
    ran = {g["estimator"].rsplit(".", 1)[-1] for g in doc["groups"] if g["ran_on"] == "lepton"}
    assert ran == {"PCA", "StandardScaler", "MinMaxScaler", "SimpleImputer"}
    assert doc["compared"]["within_tolerance"] is True
    # What falls back: PCA.transform (scikit-learn's product is the faster one on the CPU).
    fell_back = {(g["estimator"].rsplit(".", 1)[-1], g["method"], g["reason"])
                 for g in doc["groups"] if g["ran_on"] == "sklearn"}  # fmt: skip
    assert {(n, m) for n, m, _ in fell_back} <= {("PCA", "transform")}
    assert all("one BLAS product either way" in r for _, _, r in fell_back)


def test_a_gallery_example_run_directly():
    # The driver above runs the examples in one process; here one of them the plain way.
    script = EXAMPLES / "plot_pca_iris.py"
    plain, fast = python(script), accel(script)
    assert fast.returncode == 0, fast.stderr
    text, numbers = _split(plain.stdout)
    fast_text, fast_numbers = _split(fast.stdout)
    assert fast_text == text
    for (a, unit), (b, _) in zip(fast_numbers, numbers, strict=True):
        assert abs(a - b) <= 1.01 * unit, (a, b)
    assert "3 estimator calls, 2 ran on lepton, 1 fell back" in fast.stderr  # PCA.transform
