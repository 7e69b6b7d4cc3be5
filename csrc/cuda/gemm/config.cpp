#include "cuda/gemm/config.hpp"

#include "common/config_hash.hpp"
#include "common/errors.hpp"
#include "cuda/gemm/args.hpp"

namespace lepton::cuda::gemm {

const TileInfo& tile_info(Tile t) { return kTiles[static_cast<int>(t)]; }

const WgKernelInfo& wg_info(WgKernel k) { return kWgKernels[static_cast<int>(k)]; }

const char* kernel_name(const GemmCudaConfig& c) {
  return c.engine == Engine::kMma ? tile_info(c.tile()).name : wg_info(c.wg()).name;
}

bool config_built(const GemmCudaConfig& c) {
  return c.engine == Engine::kMma ? tile_built(c.tile()) : wg_built(c.wg(), kOutInt32);
}

namespace {
GemmCudaConfig mma(int id, Tile t, int split_k, int cap) {
  return {id, Engine::kMma, static_cast<int>(t), split_k, cap};
}
GemmCudaConfig wg(int id, WgKernel k, int cap) {
  return {id, Engine::kWgmma, static_cast<int>(k), 1, cap};
}
}  // namespace

// Ids are stable: append new rows, never reorder (tuning caches store ids; the hash guards).
const std::vector<GemmCudaConfig>& config_table() {
  using T = Tile;
  using W = WgKernel;
  static const std::vector<GemmCudaConfig> table = {
      mma(0, T::t128x128s3, 1, 0),  mma(1, T::t128x128s4, 1, 0),  mma(2, T::t128x256s3, 1, 0),
      mma(3, T::t256x128s3, 1, 0),  mma(4, T::t64x128s4, 1, 0),   mma(5, T::t128x64s4, 1, 0),
      mma(6, T::t64x64s4, 1, 0),    mma(7, T::t128x128s4, 2, 0),  mma(8, T::t128x128s4, 4, 0),
      mma(9, T::t64x128s4, 4, 0),   mma(10, T::t128x128s4, 1, 2), mma(11, T::t128x128s4, 1, 4),
      mma(12, T::t128x256s3, 1, 2), mma(13, T::t64x64s4, 2, 0),   mma(14, T::t64x128s4, 1, 2),
      // sm_90a: the persistent grid's size (cap) is their energy knob.
      wg(15, W::w128x256coop_c2x1, 0), wg(16, W::w128x256coop_c2x1, 2),
      wg(17, W::w128x128coop, 0),      wg(18, W::w128x128coop, 2),
      wg(19, W::w128x128coop, 4),      wg(20, W::w128x128pp, 0),
      wg(21, W::w128x128pp, 2),        wg(22, W::w64x128pp, 0),
      wg(23, W::w64x128pp, 2),
  };
  return table;
}

const char* configs_build() {
#ifdef LEPTON_CUDA_CONFIGS_STRING
  return LEPTON_CUDA_CONFIGS_STRING;
#else
  return "all";
#endif
}

const char* wgmma_status() {
#ifdef LEPTON_WGMMA_STATUS
  return LEPTON_WGMMA_STATUS;
#else
  return "no-cutlass";
#endif
}

std::string config_name(const GemmCudaConfig& c) {
  std::string name;
  if (c.engine == Engine::kMma) {
    const TileInfo& t = tile_info(c.tile());
    name = concat("mma_s8 ", t.bm, "x", t.bn, "x", kBlockK, " warps", t.warps_m, "x", t.warps_n,
                  " stages", t.stages, " splitk", c.split_k);
  } else {
    const WgKernelInfo& w = wg_info(c.wg());
    name = concat("wgmma_s8 ", w.bm, "x", w.bn, "x", w.bk, " cluster", w.cluster_m, "x",
                  w.cluster_n, w.cooperative ? " cooperative" : " pingpong");
  }
  name += c.cta_cap_div == 0 ? std::string(" cap none") : concat(" cap sm/", c.cta_cap_div);
  return name;
}

std::string config_table_hash() {
  std::string text;
  for (const auto& c : config_table()) text += concat(c.id, ":", config_name(c), "\n");
  return hash_hex(text);
}

}  // namespace lepton::cuda::gemm
