"""A model of how CUTLASS 4.2's sm_90 persistent scheduler sizes its grid from the SM count the
wgmma dispatcher hands it (``hw_info.sm_count``, gemm_cuda.cu ``capped_grid``).

CUTLASS (cutlass/gemm/kernel/tile_scheduler_params.h, ``PersistentTileSchedulerSm90Params::
get_grid_shape``) truncates the grid to the problem's tiles itself, in whole clusters; a count
that is not a multiple of the cluster size gives a grid that is not a whole number of clusters
(a launch error) or, below one cluster, an empty grid. Ported here from the header (default
``max_swizzle_size`` 1, ``RasterOrderOptions::Heuristic``, no ``max_active_clusters``).
"""

from __future__ import annotations

import itertools

import pytest

_MAX_SM_PER_GPC = 18


def _max_cta_occupancy(cluster_size: int, sm_count: int) -> int:
    min_num_gpc = 1 if sm_count < _MAX_SM_PER_GPC else sm_count // _MAX_SM_PER_GPC
    cta = min_num_gpc * (_MAX_SM_PER_GPC - _MAX_SM_PER_GPC % cluster_size)
    residual = 0 if sm_count < _MAX_SM_PER_GPC else sm_count % _MAX_SM_PER_GPC
    cta += residual - residual % cluster_size
    return min(sm_count, cta)


def cutlass_grid(tiles_m: int, tiles_n: int, cm: int, cn: int, sm_count: int) -> tuple[int, int]:
    """(grid.x, grid.y) of get_grid_shape for a problem of tiles_m × tiles_n CTA tiles."""
    blocks_m = -(-tiles_m // cm) * cm
    blocks_n = -(-tiles_n // cn) * cn
    total = blocks_m * blocks_n
    along_n = not blocks_n > blocks_m  # Heuristic: AlongM when tiles_n > tiles_m
    if cm * cn == 1:
        n = min(sm_count, total)
        return (1, n) if along_n else (n, 1)
    cta = _max_cta_occupancy(cm * cn, sm_count)
    if along_n:
        return cm, min(cta // cm, total // cm)
    return min(cta // cn, total // cn), cn


def lepton_sm_count(cm: int, cn: int, sms: int, cap_div: int) -> int:
    """gemm_cuda.cu capped_grid for a wgmma config (kept in step with it by hand)."""
    cluster = cm * cn
    cap = max(1, sms // cap_div) if cap_div > 0 else sms
    return max(cluster, cap // cluster * cluster)


def _launchable(grid: tuple[int, int], cm: int, cn: int) -> bool:
    x, y = grid
    return x > 0 and y > 0 and x % cm == 0 and y % cn == 0


CLUSTERS = [(1, 1), (2, 1)]  # the LEPTON_WGMMA_KERNEL rows of csrc/cuda/gemm/kernels.def


@pytest.mark.parametrize(("cm", "cn"), CLUSTERS)
@pytest.mark.parametrize("sms", [132, 114, 7])
@pytest.mark.parametrize("cap_div", [0, 2, 4])
def test_grid_is_whole_clusters_for_every_problem(cm, cn, sms, cap_div):
    count = lepton_sm_count(cm, cn, sms, cap_div)
    assert count >= cm * cn
    for tiles_m, tiles_n in itertools.product(range(1, 40), range(1, 40)):
        grid = cutlass_grid(tiles_m, tiles_n, cm, cn, count)
        assert _launchable(grid, cm, cn), (tiles_m, tiles_n, grid)
        assert grid[0] * grid[1] <= max(count, cm * cn)


def test_the_old_count_broke_cluster_kernels():
    """min(tiles, sms), the count before the fix: one 128×256 tile on a 2×1 cluster kernel gave
    an empty grid, three tiles along N a grid of three CTAs (not whole 2-CTA clusters)."""
    assert cutlass_grid(1, 1, 2, 1, min(1, 132)) == (2, 0)
    assert cutlass_grid(1, 3, 2, 1, min(3, 132)) == (3, 1)
    assert _launchable(cutlass_grid(1, 1, 2, 1, lepton_sm_count(2, 1, 132, 0)), 2, 1)
    assert _launchable(cutlass_grid(1, 3, 2, 1, lepton_sm_count(2, 1, 132, 0)), 2, 1)
