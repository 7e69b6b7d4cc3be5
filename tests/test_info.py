import json

import pytest

import lepton
from lepton import _core, _info, cli


def test_info_reports_the_build():
    facts = _info.collect()
    assert facts["version"] == lepton.__version__
    assert facts["cpu_isa_active"] in facts["cpu_isas_available"]
    assert facts["cpu_isas_available"][0] == "scalar"
    assert facts["threads"] >= 1


def test_cli_info_json(capsys):
    assert cli.main(["info", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == lepton.__version__


def test_isa_context_restores_and_rejects_unknown():
    before = lepton.get_isa()
    with lepton.isa("scalar") as active:
        assert active == "scalar"
    assert lepton.get_isa() == before
    with pytest.raises(ValueError, match="isa"):
        lepton.set_isa("sse9")


@pytest.mark.parametrize("bad", [0, -3])
def test_set_num_threads_rejects_nonpositive(bad):
    with pytest.raises(ValueError, match="n:"):
        lepton.set_num_threads(bad)


def test_set_num_threads_rejects_non_int():
    with pytest.raises(TypeError, match="n:"):
        lepton.set_num_threads(2.0)


@pytest.mark.gpu
def test_cuda_probe_runs_on_a_gpu():
    assert _core.cuda_probe(0, 1000) == 0.0
