// The one int8 GEMM driver, templated on an ISA traits type (simd_*.hpp): A packing (with the
// on-the-fly quantization of float rows), the mr × nr register tile, the fused epilogue, the
// cache-blocked loops and the OpenMP split. Each ISA TU instantiates it once (kernel_*.cpp).
//
// One call: pack (or quantize and pack) A in parallel, then threads take work units (blocks of
// A panels × B panels, plan.hpp) dynamically. Loop nest inside a unit (GotoBLAS order, B packed
// ahead of time):
//   for mc-block of A panels / for nc-block of B panels / for kc-block of k groups
//     for B panel j (its kc slice stays in L1) / for A panel i (the mc×kc block stays in L2)
//       tile: mr×nr int32 accumulators over the kc slice; partial sums go to a per-thread
//       scratch tile between kc blocks, and the last block runs the epilogue from registers.
#pragma once
#include "common/threads.hpp"
#include <cstdint>
#include <cstring>
#include <utility>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "cpu/gemm/activation.hpp"
#include "cpu/gemm/kernel_api.hpp"
#include "cpu/gemm/kernel_ns.hpp"
#include "cpu/gemm/quant_rows.hpp"

namespace lepton::gemm::LEPTON_KERNEL_NS {

inline std::int64_t min64(std::int64_t a, std::int64_t b) { return a < b ? a : b; }
template <class T>
struct Kernel {
  static constexpr int MR = T::kRows, NV = T::kVecs, L = T::kLanes, NR = NV * L, G = T::kGroup;
  using a_t = typename T::a_t;
  using ivec = typename T::ivec;
  using fvec = typename T::fvec;
  using Act = Activations<T>;

  static constexpr Layout layout() {
    return Layout{T::kIsa, MR, NR, G, static_cast<int>(sizeof(a_t)), T::kShiftA};
  }

  // ---------------------------------------------------------------- A packing
  static a_t widen(std::int8_t v) {
    if constexpr (T::kShiftA)
      return static_cast<a_t>(static_cast<std::uint8_t>(v) ^ 0x80u);  // a + 128 as u8
    else
      return static_cast<a_t>(v);
  }

  // Rows [0, rows) of `a` into one panel [k group][MR][G]; pad k is 0 (with the shift too: a
  // zero u8 contributes nothing, the colsum correction covers real k only). Pad rows are left
  // unwritten: a short panel only ever runs through tile<rows>, which never reads them.
  static void pack_a_panel(const std::int8_t* a, std::int64_t lda, int rows, std::int64_t K,
                           a_t* out) {
    const std::int64_t full = K / G;
    for (int r = 0; r < rows; ++r) {
      a_t* dst = out + r * G;
      const std::int8_t* src = a + r * lda;
      for (std::int64_t g = 0; g < full; ++g)
        for (int i = 0; i < G; ++i) dst[g * MR * G + i] = widen(src[g * G + i]);
      if (full * G < K)
        for (int i = 0; i < G; ++i) {
          const std::int64_t k = full * G + i;
          dst[full * MR * G + i] = k < K ? widen(src[k]) : a_t(0);
        }
    }
  }

  // ---------------------------------------------------------------- epilogue
  struct TileOut {
    const Epilogue* e;
    const std::int32_t* colsum128;
    std::int64_t row0, col0;
    int n_valid;  // columns of this tile inside N
  };

  static int lanes_in(int n_valid, int v) {
    const int n = n_valid - v * L;
    return n < 0 ? 0 : (n > L ? L : n);
  }

  // One output row of a tile: exact int32, or float with scales, bias and activation, written
  // once as float32, float16 or requantized int8. Vectors past N are computed (B is
  // zero-padded) but never stored.
  static void finish_row(ivec* acc, std::int64_t row, const TileOut& o) {
    const Epilogue& e = *o.e;
    if constexpr (T::kShiftA) {
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[v] = T::sub_i(acc[v], T::load_i(o.colsum128 + o.col0 + v * L));
    }
    if (e.out == OutType::i32) {
      std::int32_t* p = static_cast<std::int32_t*>(e.out_ptr) + row * e.ldo + o.col0;
      for (int v = 0; v < NV; ++v)
        if (const int n = lanes_in(o.n_valid, v)) T::store_i_n(p + v * L, acc[v], n);
      return;
    }
    fvec f[NV];
    for (int v = 0; v < NV; ++v) f[v] = T::to_f(acc[v]);
    // (acc·a_scale)·b_scale + bias, in this order on every ISA: separate roundings, no FMA.
    if (e.a_scale != nullptr) {
      const fvec s = T::set_f(e.a_scale[row]);
      for (int v = 0; v < NV; ++v) f[v] = T::mul(f[v], s);
    }
    if (e.b_scale != nullptr)
      for (int v = 0; v < NV; ++v) f[v] = T::mul(f[v], T::load_f(e.b_scale + o.col0 + v * L));
    if (e.bias != nullptr)
      for (int v = 0; v < NV; ++v) f[v] = T::add(f[v], T::load_f(e.bias + o.col0 + v * L));
    switch (e.act) {
      case Activation::none: break;
      case Activation::relu:
        for (int v = 0; v < NV; ++v) f[v] = Act::relu(f[v]);
        break;
      case Activation::gelu:
        for (int v = 0; v < NV; ++v) f[v] = Act::gelu(f[v]);
        break;
      case Activation::sigmoid:
        for (int v = 0; v < NV; ++v) f[v] = Act::sigmoid(f[v]);
        break;
    }
    store_row(f, row, o);
  }

  template <class Out, class Store>
  static void store_each(const fvec* f, std::int64_t row, const TileOut& o, Store store) {
    Out* p = static_cast<Out*>(o.e->out_ptr) + row * o.e->ldo + o.col0;
    for (int v = 0; v < NV; ++v)
      if (const int n = lanes_in(o.n_valid, v)) store(p + v * L, f[v], n);
  }

  // The float result of one row, written once in the output dtype.
  static void store_row(const fvec* f, std::int64_t row, const TileOut& o) {
    switch (o.e->out) {
      // (lambdas, not function pointers: each store inlines into its loop)
      case OutType::f32:
        store_each<float>(f, row, o, [](float* p, fvec v, int n) { T::store_f_n(p, v, n); });
        break;
      case OutType::f16:
        store_each<std::uint16_t>(f, row, o,
                                  [](std::uint16_t* p, fvec v, int n) { T::store_h_n(p, v, n); });
        break;
      case OutType::i8: {
        // A true division (requant.hpp): y / out_scale rounds once, like the numpy oracle.
        const fvec s = T::set_f(o.e->out_scale);
        store_each<std::int8_t>(f, row, o, [s](std::int8_t* p, fvec v, int n) {
          T::store_q_n(p, T::div(v, s), n);
        });
        break;
      }
      case OutType::i32: break;  // finish_row stores the exact accumulator before any float
    }
  }

  // ---------------------------------------------------------------- register tile
  // R rows (1..MR: the last A panel may be short) × NR columns over `groups` k groups.
  // acc_in: partial sums to continue from (null: start at 0). acc_out: where to leave them
  // (null: this is the last k block, run the epilogue).
  // Independent accumulator sets a short tile keeps so that R·NV·U chains hide the dot
  // instruction's latency (a GEMV row alone would wait on one chain per vector).
  static constexpr int sets_for(int r) { return r * NV >= 8 ? 1 : (r * NV >= 4 ? 2 : 4); }

  template <int R>
  static void tile(const a_t* a, const std::int8_t* b, std::int64_t groups,
                   const std::int32_t* acc_in, std::int32_t* acc_out, std::int64_t ld,
                   const TileOut& o) {
    constexpr int U = sets_for(R);
    ivec acc[U][R][NV];
#pragma GCC unroll 4
    for (int u = 0; u < U; ++u)
#pragma GCC unroll 16
      for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v)
          acc[u][r][v] = u == 0 && acc_in != nullptr ? T::load_i(acc_in + r * ld + v * L)
                                                     : T::zero_i();
    std::int64_t g = 0;
    for (; g + U <= groups; g += U) {
#pragma GCC unroll 4
      for (int u = 0; u < U; ++u) {
        ivec bv[NV];
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) bv[v] = T::load_b(b + u * NR * G + v * L * G);
#pragma GCC unroll 16
        for (int r = 0; r < R; ++r) {
          const auto av = T::bcast_a(a + u * MR * G + r * G);
#pragma GCC unroll 8
          for (int v = 0; v < NV; ++v) acc[u][r][v] = T::dot(acc[u][r][v], av, bv[v]);
        }
      }
      a += U * MR * G;
      b += U * NR * G;
    }
    if constexpr (U > 1) {
      for (; g < groups; ++g) {
        for (int r = 0; r < R; ++r) {
          const auto av = T::bcast_a(a + r * G);
          for (int v = 0; v < NV; ++v)
            acc[0][r][v] = T::dot(acc[0][r][v], av, T::load_b(b + v * L * G));
        }
        a += MR * G;
        b += NR * G;
      }
      for (int u = 1; u < U; ++u)
        for (int r = 0; r < R; ++r)
          for (int v = 0; v < NV; ++v) acc[0][r][v] = T::add_i(acc[0][r][v], acc[u][r][v]);
    }
    if (acc_out != nullptr) {
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < NV; ++v) T::store_i(acc_out + r * ld + v * L, acc[0][r][v]);
      return;
    }
    for (int r = 0; r < R; ++r) finish_row(acc[0][r], o.row0 + r, o);
  }

  using TileFn = void (*)(const a_t*, const std::int8_t*, std::int64_t, const std::int32_t*,
                          std::int32_t*, std::int64_t, const TileOut&);
  template <std::size_t... I>
  struct TileTable {
    static constexpr TileFn fns[sizeof...(I)] = {&tile<static_cast<int>(I) + 1>...};
  };
  template <std::size_t... I>
  static constexpr const TileFn* tiles(std::index_sequence<I...>) {
    return TileTable<I...>::fns;
  }

  // ---------------------------------------------------------------- blocked loops
  struct Region {
    std::int64_t i0, i1;  // A panels
    std::int64_t j0, j1;  // B panels
    std::int64_t g0, g1;  // k groups
  };

  // partial != null: leave raw int32 sums there (split-K; ld_partial per row), else finish.
  static void compute_region(const GemmCall& c, const a_t* ap, const Region& rg,
                             std::int32_t* scratch, std::int32_t* partial,
                             std::int64_t ld_partial) {
    const TileFn* fns = tiles(std::make_index_sequence<MR>{});
    const BlockPlan& p = c.plan;
    const std::int64_t groups = (c.b.K + G - 1) / G;
    const std::int64_t a_panel = std::int64_t{MR} * G * groups, b_panel = std::int64_t{NR} * G * groups;
    const std::int64_t ld_scratch = p.nc_panels * NR;
    for (std::int64_t ib = rg.i0; ib < rg.i1; ib += p.mc_panels) {
      const std::int64_t ie = min64(ib + p.mc_panels, rg.i1);
      for (std::int64_t jb = rg.j0; jb < rg.j1; jb += p.nc_panels) {
        const std::int64_t je = min64(jb + p.nc_panels, rg.j1);
        for (std::int64_t gb = rg.g0; gb < rg.g1; gb += p.kc_groups) {
          const std::int64_t ge = min64(gb + p.kc_groups, rg.g1);
          const bool first = gb == rg.g0, last = ge == rg.g1;
          for (std::int64_t j = jb; j < je; ++j) {
            const std::int8_t* bp = c.b.data + j * b_panel + gb * NR * G;
            for (std::int64_t i = ib; i < ie; ++i) {
              const a_t* apn = ap + i * a_panel + gb * MR * G;
              const int rows = static_cast<int>(min64(MR, c.M - i * MR));
              std::int32_t* t;
              const std::int32_t* in;
              std::int32_t* out;
              std::int64_t ld;
              if (partial != nullptr) {
                t = partial + i * MR * ld_partial + j * NR;
                ld = ld_partial;
                in = first ? nullptr : t;
                out = t;
              } else {
                t = scratch + (i - ib) * MR * ld_scratch + (j - jb) * NR;
                ld = ld_scratch;
                in = first ? nullptr : t;
                out = last ? nullptr : t;
              }
              const TileOut o{&c.epi, c.b.colsum128, i * MR, j * NR,
                              static_cast<int>(min64(NR, c.b.N - j * NR))};
              fns[rows - 1](apn, bp, ge - gb, in, out, ld, o);
            }
          }
        }
      }
    }
  }

  // Work unit u of the plan: units_n strips of unit_n B panels per row of units.
  static Region unit_region(const BlockPlan& p, std::int64_t u, std::int64_t m_panels,
                            std::int64_t n_panels, std::int64_t g0, std::int64_t g1) {
    const std::int64_t i = u / p.units_n, j = u % p.units_n;
    return Region{i * p.unit_m, min64((i + 1) * p.unit_m, m_panels), j * p.unit_n,
                  min64((j + 1) * p.unit_n, n_panels), g0, g1};
  }

  // Split-K: unit u = (slice u % S, column strip u / S); each writes raw sums of its k range
  // into that slice's partial buffer; then the rows are summed and finished.
  static void run_split_k(const GemmCall& c, const a_t* ap, std::int64_t m_panels,
                          std::int64_t n_panels, std::int64_t groups) {
    const BlockPlan& p = c.plan;
    const int S = p.k_split;
    const std::int64_t np = n_panels * NR, slice_ints = m_panels * MR * np;
    auto* partial = reinterpret_cast<std::int32_t*>(c.workspace + p.off_partial);
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t u = 0; u < S * p.units_n; ++u) {
      const int s = static_cast<int>(u % S);
      const Region rg = unit_region(p, u / S, m_panels, n_panels, groups * s / S,
                                    groups * (s + 1) / S);
      compute_region(c, ap, rg, nullptr, partial + s * slice_ints, np);
    }
    // (the loop's implicit barrier: every slice is complete before the sums)
#pragma omp for schedule(static)
    for (std::int64_t m = 0; m < c.M; ++m) {
      for (std::int64_t j = 0; j < n_panels; ++j) {
        ivec acc[NV];
        for (int v = 0; v < NV; ++v) {
          const std::int32_t* src = partial + m * np + j * NR + v * L;
          acc[v] = T::load_i(src);
          for (int s = 1; s < S; ++s) acc[v] = T::add_i(acc[v], T::load_i(src + s * slice_ints));
        }
        const TileOut o{&c.epi, c.b.colsum128, 0, j * NR,
                        static_cast<int>(min64(NR, c.b.N - j * NR))};
        finish_row(acc, m, o);
      }
    }
  }

  // Float A: quantize the rows of A panel i (scales to a_scale_out) into this thread's int8
  // scratch rows, still in L1/L2, and pack them: quantization fused into the packing pass.
  // With a per-column map, each row is first mapped into the thread's float scratch row (after
  // the int8 rows; plan.cpp), also cache-resident, and that row is quantized.
  template <class X>
  static void quantize_panel(GemmCall& c, std::int64_t i, int rows, std::int8_t* qrows, a_t* dst) {
    const std::int64_t K = c.b.K;
    const X* x = static_cast<const X*>(c.a) + i * MR * c.lda;
    const X* center = static_cast<const X*>(c.col_center);
    const X* mul = static_cast<const X*>(c.col_mul);
    X* mapped = reinterpret_cast<X*>(qrows + round_up(std::int64_t{MR} * K, 64));
    for (int r = 0; r < rows; ++r) {
      float* scale = c.a_scale_out + i * MR + r;
      bool ok;
      if (center != nullptr) {
        ok = affine_row_scale(x + r * c.lda, center, mul, K, mapped, scale);
        if (ok) quantize_with_scale(mapped, K, *scale, qrows + r * K);
      } else {
        ok = quantize_row(x + r * c.lda, K, qrows + r * K, scale);
      }
      if (!ok) {
#pragma omp critical(lepton_gemm_bad_row)
        if (c.bad_row < 0 || i * MR + r < c.bad_row) c.bad_row = i * MR + r;
      }
    }
    pack_a_panel(qrows, K, rows, K, dst);
  }

  static void run(GemmCall& c) {
    const BlockPlan& p = c.plan;
    const std::int64_t K = c.b.K, groups = (K + G - 1) / G;
    const std::int64_t m_panels = (c.M + MR - 1) / MR, n_panels = (c.b.N + NR - 1) / NR;
    a_t* ap = reinterpret_cast<a_t*>(c.workspace + p.off_a);
#pragma omp parallel num_threads(p.threads)
    {
      const int t = thread_index();
      auto* qrows = reinterpret_cast<std::int8_t*>(c.workspace + p.off_qrow + t * p.qrow_stride);
#pragma omp for schedule(static)
      for (std::int64_t i = 0; i < m_panels; ++i) {
        const int rows = static_cast<int>(min64(MR, c.M - i * MR));
        a_t* dst = ap + i * MR * G * groups;
        if (c.a_kind == ASource::i8)
          pack_a_panel(static_cast<const std::int8_t*>(c.a) + i * MR * c.lda, c.lda, rows, K, dst);
        else if (c.a_kind == ASource::f32)
          quantize_panel<float>(c, i, rows, qrows, dst);
        else
          quantize_panel<double>(c, i, rows, qrows, dst);
      }
      // (the implicit barrier above makes every panel and c.bad_row visible to all threads)
      if (c.bad_row < 0) {
        if (p.k_split > 1) {
          run_split_k(c, ap, m_panels, n_panels, groups);
        } else {
          auto* scratch = reinterpret_cast<std::int32_t*>(c.workspace + p.off_scratch) +
                          t * p.scratch_stride;
#pragma omp for schedule(dynamic, 1) nowait
          for (std::int64_t u = 0; u < p.units_m * p.units_n; ++u)
            compute_region(c, ap, unit_region(p, u, m_panels, n_panels, 0, groups), scratch,
                           nullptr, 0);
        }
      }
    }
  }

  template <class X>
  static std::int64_t quantize_rows(const X* x, std::int64_t rows, std::int64_t K,
                                    std::int8_t* q, float* scale, int threads) {
    std::int64_t bad = -1;
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1 && rows * K >= (1 << 16))
    for (std::int64_t r = 0; r < rows; ++r) {
      if (!quantize_row(x + r * K, K, q + r * K, scale + r)) {
#pragma omp critical(lepton_quantize_bad_row)
        if (bad < 0 || r < bad) bad = r;
      }
    }
    return bad;
  }

  static KernelOps ops() {
    return KernelOps{layout(), &run, &quantize_rows<float>, &quantize_rows<double>};
  }
};

}  // namespace lepton::gemm::LEPTON_KERNEL_NS
