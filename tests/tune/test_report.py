import sys

import pytest

from lepton.tune import tune
from lepton.tune.report import pareto_front, plot_pareto, result_table

SHAPE = (64, 32, 16)


def test_pareto_front_keeps_the_non_dominated(trade_off):
    result = tune("fake", SHAPE, "energy", 2.0, meter=trade_off.meter, seed=0)
    assert [r.name for r in pareto_front(result.rows)] == ["cfg0", "cfg1", "cfg2", "cfg3"]


def test_pareto_front_drops_dominated_configs(fake_op):
    kernels = fake_op({0: (1.0, 5.0), 1: (1.2, 6.0), 2: (1.5, 4.0)})  # cfg1: slower and dearer
    result = tune("fake", SHAPE, "energy", 2.0, meter=kernels.meter, seed=0)
    assert [r.name for r in pareto_front(result.rows)] == ["cfg0", "cfg2"]


def test_result_table_marks_the_choice_and_the_guarantee(trade_off):
    result = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)
    table = result_table(result)
    assert table.row_count == 4
    choices = list(table.columns[-1].cells)
    assert choices == ["", "★ chosen", "too slow", "too slow"]
    assert "20.0% fewer joules" in table.caption  # rendered text wraps with the width
    assert "1.10× fastest" in table.title
    assert "cfg1" in str(result)


def test_plot_without_matplotlib_says_what_to_install(trade_off, tmp_path, monkeypatch):
    result = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_pareto(result, tmp_path / "x.png")


def test_the_untuned_heuristic_is_marked_in_the_table_and_the_plot(trade_off, tmp_path):
    pytest.importorskip("matplotlib")
    from lepton.tune import Problem, TunableOp, register

    table = [{"id": i, "name": f"cfg{i}"} for i in trade_off.costs]

    def prepare(shape, device, seed):
        return Problem(shape, "int8", trade_off.run, None, 1.0, heuristic=0)

    register(
        TunableOp("fake", ("m", "n", "k"), lambda d: table, lambda d: "h", prepare), replace=True
    )
    result = tune("fake", SHAPE, "energy", 1.10, meter=trade_off.meter, seed=0)
    assert result.heuristic == 0
    assert result.heuristic_row.name == "cfg0"
    assert "cfg0 (heuristic)" in list(result_table(result).columns[0].cells)
    assert "20.0% fewer than the untuned choice (cfg0" in result_table(result).caption
    path = plot_pareto(result, tmp_path / "p.png")
    assert path.stat().st_size > 0
