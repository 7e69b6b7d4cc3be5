// INT8 GEMM for sm_90a on CUTLASS 3 collectives: TMA loads, wgmma, warp-specialised persistent
// kernels (ping-pong or cooperative), and an epilogue visitor tree that applies this project's
// fused epilogue (acc·a_scale[m]·b_scale[n] + bias[n] → activation) in registers before the
// TMA store. Included only by the generated wgmma TUs (one kernel × output dtype each).
//
// Template parameters are only what must be: tile, cluster, schedule and the output element.
// Scales, bias and the activation are run-time arguments of one EVT node, so a kernel serves
// every epilogue; a null scale reads as 1 and a null bias as 0 (the broadcast nodes' defaults).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "cute/tensor.hpp"
#include "cutlass/cutlass.h"
#include "cutlass/epilogue/collective/collective_builder.hpp"
#include "cutlass/epilogue/fusion/sm90_visitor_compute_tma_warpspecialized.hpp"
#include "cutlass/epilogue/fusion/sm90_visitor_load_tma_warpspecialized.hpp"
#include "cutlass/gemm/collective/collective_builder.hpp"
#include "cutlass/gemm/device/gemm_universal_adapter.h"
#include "cutlass/gemm/kernel/gemm_universal.hpp"
#include "cutlass/gemm/kernel/tile_scheduler.hpp"
#include "cuda/check.cuh"
#include "cuda/gemm/args.hpp"
#include "cuda/gemm/config.hpp"
#include "cuda/gemm/epilogue.cuh"
#include "cuda/gemm/wgmma/wgmma_launch.hpp"

namespace lepton::cuda::gemm::wgmma {

// The EVT compute node's functor: Sm90Compute instantiates it with the compute element (for the
// Arguments type) and with Array<float, N> fragments (for the work).
template <class T>
struct ScaleBiasActivation {
  struct Arguments {
    int activation = kActNone;
  };
};

template <int N>
struct ScaleBiasActivation<cutlass::Array<float, N>> {
  using Arguments = typename ScaleBiasActivation<float>::Arguments;
  using Frag = cutlass::Array<float, N>;
  CUTLASS_DEVICE Frag operator()(Frag const& acc, Frag const& a_scale, Frag const& b_scale,
                                 Frag const& bias, Arguments const& args) const {
    Frag out;
    CUTLASS_PRAGMA_UNROLL
    for (int i = 0; i < N; ++i)
      out[i] = scale_bias_activate(acc[i], a_scale[i], b_scale[i], bias[i], args.activation);
    return out;
  }
};

template <class T>
struct Identity {
  struct Arguments {};
};
template <int N>
struct Identity<cutlass::Array<std::int32_t, N>> {
  using Arguments = typename Identity<std::int32_t>::Arguments;
  CUTLASS_DEVICE cutlass::Array<std::int32_t, N> operator()(
      cutlass::Array<std::int32_t, N> const& acc, Arguments const&) const {
    return acc;
  }
};

enum class Schedule { kPingpong, kCooperative };

template <Schedule S>
struct SchedulePolicy;
template <>
struct SchedulePolicy<Schedule::kPingpong> {
  using Mainloop = cutlass::gemm::KernelTmaWarpSpecializedPingpong;
  using Epilogue = cutlass::epilogue::TmaWarpSpecialized;
};
template <>
struct SchedulePolicy<Schedule::kCooperative> {
  using Mainloop = cutlass::gemm::KernelTmaWarpSpecializedCooperative;
  using Epilogue = cutlass::epilogue::TmaWarpSpecializedCooperative;
};

template <class TileShape, class ElementOut>
struct Fusion {
  static constexpr auto kRound = cutlass::FloatRoundStyle::round_to_nearest;
  template <class Stride>
  using Col = cutlass::epilogue::fusion::Sm90ColBroadcast<0, TileShape, float, float, Stride>;
  template <class Stride>
  using Row = cutlass::epilogue::fusion::Sm90RowBroadcast<0, TileShape, float, float, Stride>;
  using AScale = Col<cute::Stride<cute::_1, cute::_0, cute::_0>>;  // varies along M
  using BVec = Row<cute::Stride<cute::_0, cute::_1, cute::_0>>;    // varies along N
  using Tree = cutlass::epilogue::fusion::Sm90EVT<
      cutlass::epilogue::fusion::Sm90Compute<ScaleBiasActivation, ElementOut, float, kRound>,
      cutlass::epilogue::fusion::Sm90AccFetch, AScale, BVec, BVec>;
  using Compute = float;
};

template <class TileShape>
struct Fusion<TileShape, std::int32_t> {  // exact int32: the accumulators as they are
  using Tree = cutlass::epilogue::fusion::Sm90EVT<
      cutlass::epilogue::fusion::Sm90Compute<Identity, std::int32_t, std::int32_t,
                                             cutlass::FloatRoundStyle::round_to_nearest>,
      cutlass::epilogue::fusion::Sm90AccFetch>;
  using Compute = std::int32_t;
};

template <int BM, int BN, int BK, int CM, int CN, Schedule S, class ElementOut>
struct Kernel {
  using TileShape = cute::Shape<cute::Int<BM>, cute::Int<BN>, cute::Int<BK>>;
  using ClusterShape = cute::Shape<cute::Int<CM>, cute::Int<CN>, cute::_1>;
  using F = Fusion<TileShape, ElementOut>;
  static constexpr int kAlignD = 16 / sizeof(ElementOut);

  using Epilogue = typename cutlass::epilogue::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, TileShape, ClusterShape,
      cutlass::epilogue::collective::EpilogueTileAuto, std::int32_t, typename F::Compute,
      void, cutlass::layout::RowMajor, kAlignD,  // no C operand
      ElementOut, cutlass::layout::RowMajor, kAlignD, typename SchedulePolicy<S>::Epilogue,
      typename F::Tree>::CollectiveOp;

  using Mainloop = typename cutlass::gemm::collective::CollectiveBuilder<
      cutlass::arch::Sm90, cutlass::arch::OpClassTensorOp, std::int8_t, cutlass::layout::RowMajor,
      16, std::int8_t, cutlass::layout::ColumnMajor, 16, std::int32_t, TileShape, ClusterShape,
      cutlass::gemm::collective::StageCountAutoCarveout<static_cast<int>(
          sizeof(typename Epilogue::SharedStorage))>,
      typename SchedulePolicy<S>::Mainloop>::CollectiveOp;

  using GemmKernel =
      cutlass::gemm::kernel::GemmUniversal<cute::Shape<int, int, int, int>, Mainloop, Epilogue,
                                           cutlass::gemm::PersistentScheduler>;
  using Gemm = cutlass::gemm::device::GemmUniversalAdapter<GemmKernel>;

  static typename Gemm::Arguments arguments(const GemmArgs& p, int sm_count) {
    using StrideA = typename GemmKernel::StrideA;
    using StrideB = typename GemmKernel::StrideB;
    using StrideD = typename GemmKernel::StrideD;
    // K-major a and b, row-major d: (row stride, 1, batch stride); one batch.
    StrideA stride_a{};
    cute::get<0>(stride_a) = p.lda;
    StrideB stride_b{};
    cute::get<0>(stride_b) = p.ldb;
    StrideD stride_d{};
    cute::get<0>(stride_d) = p.n;

    typename Gemm::Arguments args{};
    args.mode = cutlass::gemm::GemmUniversalMode::kGemm;
    args.problem_shape = {p.m, p.n, p.k, 1};
    args.mainloop = {p.a, stride_a, p.b, stride_b};
    args.epilogue.ptr_C = nullptr;
    args.epilogue.dC = {};
    args.epilogue.ptr_D = static_cast<ElementOut*>(p.out);
    args.epilogue.dD = stride_d;
    if constexpr (!std::is_same_v<ElementOut, std::int32_t>) {
      args.epilogue.thread = {
          {},                                       // accumulators
          {p.a_scale, 1.0f, {}},                    // a_scale[m], null → 1
          {p.b_scale, 1.0f, {}},                    // b_scale[n], null → 1
          {p.bias, 0.0f, {}},                       // bias[n], null → 0
          {p.activation},                           // ScaleBiasActivation::Arguments
      };
    }
    cudaGetDevice(&args.hw_info.device_id);
    args.hw_info.sm_count = sm_count;  // the persistent grid's size: the CTA-cap energy knob
    return args;
  }

  // Why this kernel cannot run `p` (CUTLASS's own check), or an empty string.
  static std::string cannot_run(const GemmArgs& p, int sm_count) {
    auto args = arguments(p, sm_count);
    const cutlass::Status status = Gemm::can_implement(args);
    if (status == cutlass::Status::kSuccess) return {};
    return cutlassGetStatusString(status);
  }

  static std::size_t workspace_bytes(const GemmArgs& p, int sm_count) {
    return Gemm::get_workspace_size(arguments(p, sm_count));
  }

  static void run(const GemmArgs& p, const LaunchArgs& launch) {
    const char* name = "launch of a wgmma_s8 kernel (CUTLASS GemmUniversal)";
    auto args = arguments(p, launch.sm_count);
    Gemm gemm;
    cutlass::Status status = gemm.initialize(args, launch.workspace, launch.stream);
    if (status == cutlass::Status::kSuccess) status = gemm.run(launch.stream);
    ::lepton::cuda::check(cudaGetLastError(), name);
    if (status != cutlass::Status::kSuccess)
      throw std::runtime_error(std::string("CUTLASS error in ") + name + ": " +
                               cutlassGetStatusString(status));
  }
};

template <int Out>
struct OutElement;
template <>
struct OutElement<kOutInt32> {
  using type = std::int32_t;
};
template <>
struct OutElement<kOutFloat32> {
  using type = float;
};
template <>
struct OutElement<kOutFloat16> {
  using type = cutlass::half_t;
};
template <>
struct OutElement<kOutBFloat16> {
  using type = cutlass::bfloat16_t;
};

// Kernel `K` (a LEPTON_WGMMA_KERNEL row of kernels.def) with output dtype `Out`, its parameters
// read from config.hpp's kWgKernels.
template <WgKernel K, int Out>
struct Instance {
  static constexpr WgKernelInfo kInfo = kWgKernels[static_cast<int>(K)];
  using Type = Kernel<kInfo.bm, kInfo.bn, kInfo.bk, kInfo.cluster_m, kInfo.cluster_n,
                      kInfo.cooperative ? Schedule::kCooperative : Schedule::kPingpong,
                      typename OutElement<Out>::type>;
  static constexpr Entry kEntry{&Type::cannot_run, &Type::workspace_bytes, &Type::run};
};

// One generated TU: instantiates kernel `name` for output `out` and registers it.
#define LEPTON_WG_DEFINE(name, out)                                                  \
  static const Registrar register_##name##_##out(static_cast<int>(WgKernel::name), out, \
                                                 &Instance<WgKernel::name, out>::kEntry);

}  // namespace lepton::cuda::gemm::wgmma
