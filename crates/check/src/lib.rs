//! Freeway's test kit, shared by every structure's tests, the fuzz targets and the benches.
//!
//! - [`drops`]: a drop-counting value type that proves each element is dropped exactly once.
//! - [`spec`] and [`models`]: sequential specifications (FIFO, bounded FIFO, LIFO, map, cell).
//! - [`lin`]: history recording and a linearizability checker (Wing & Gong / Lowe, with
//!   memoisation; P-compositional for maps).
//! - [`stress`]: rounds of random concurrent operations, every history checked.
//! - [`harness`]: the sequential differential runner and fuzz-input decoders, shared by the fuzz
//!   targets and the corpus-replay tests.
//! - [`strategies`]: proptest strategies for operation sequences.
//! - [`alloc`]: a counting global allocator, for tests and benches that measure memory.
//!
//! `docs/testing.md` says what the checker proves and what it does not.
//!
//! # Examples
//!
//! ```
//! use freeway_check::drops::DropTracker;
//!
//! let tracker = DropTracker::new();
//! let v: Vec<_> = (0..3).map(|i| tracker.track(i)).collect();
//! assert_eq!(tracker.alive(), 3);
//! drop(v);
//! tracker.assert_all_dropped_once();
//! ```

#![deny(unsafe_code)]

#[cfg(not(loom))]
pub mod alloc;
pub mod drops;
pub mod harness;
pub mod lin;
pub mod models;
pub mod spec;
// The one module allowed `unsafe`: the counting allocator's forwarding to the system's.
#[cfg(not(loom))]
#[allow(unsafe_code)]
mod raw;
#[cfg(not(loom))]
pub mod strategies;
#[cfg(not(loom))]
pub mod stress;
