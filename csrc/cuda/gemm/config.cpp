#include "cuda/gemm/config.hpp"

#include "common/config_hash.hpp"
#include "common/errors.hpp"

namespace lepton::cuda::gemm {

const TileInfo& tile_info(Tile t) {
  static const TileInfo infos[] = {
#define LEPTON_TILE_INFO(name, bm, bn, wm, wn, st) {#name, bm, bn, wm, wn, st},
      LEPTON_GEMM_CUDA_TILES(LEPTON_TILE_INFO)
#undef LEPTON_TILE_INFO
  };
  return infos[static_cast<int>(t)];
}

// Ids are stable: append new rows, never reorder (tuning caches store ids; the hash guards).
const std::vector<GemmCudaConfig>& config_table() {
  using T = Tile;
  static const std::vector<GemmCudaConfig> table = {
      {0, T::t128x128s3, 1, 0},  {1, T::t128x128s4, 1, 0},  {2, T::t128x256s3, 1, 0},
      {3, T::t256x128s3, 1, 0},  {4, T::t64x128s4, 1, 0},   {5, T::t128x64s4, 1, 0},
      {6, T::t64x64s4, 1, 0},    {7, T::t128x128s4, 2, 0},  {8, T::t128x128s4, 4, 0},
      {9, T::t64x128s4, 4, 0},   {10, T::t128x128s4, 1, 2}, {11, T::t128x128s4, 1, 4},
      {12, T::t128x256s3, 1, 2}, {13, T::t64x64s4, 2, 0},   {14, T::t64x128s4, 1, 2},
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

std::string config_name(const GemmCudaConfig& c) {
  const TileInfo& t = tile_info(c.tile);
  std::string name = concat("mma_s8 ", t.bm, "x", t.bn, "x", kBlockK, " warps", t.warps_m, "x",
                            t.warps_n, " stages", t.stages, " splitk", c.split_k);
  name += c.cta_cap_div == 0 ? std::string(" cap none") : concat(" cap sm/", c.cta_cap_div);
  return name;
}

std::string config_table_hash() {
  std::string text;
  for (const auto& c : config_table()) text += concat(c.id, ":", config_name(c), "\n");
  return hash_hex(text);
}

}  // namespace lepton::cuda::gemm
