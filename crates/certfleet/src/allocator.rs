//! The process's global memory allocator, chosen when the binary is built: jemalloc with
//! the `alloc-jemalloc` feature (the default), mimalloc with `alloc-mimalloc` (which wins
//! when both are on, so `--features alloc-mimalloc` needs no `--no-default-features`),
//! and the C library's malloc with neither. Every library crate allocates through the
//! one chosen here. docs/DESIGN.md ("The memory allocator") says why jemalloc is the
//! default, docs/BENCHMARKS.md ("The allocator") has the measurements.

#[cfg(feature = "alloc-mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(all(feature = "alloc-jemalloc", not(feature = "alloc-mimalloc")))]
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;
