//! Freeway's test kit, shared by every structure's tests, the fuzz targets and the benches.
//!
//! - [`drops`]: a drop-counting value type that proves each element is dropped exactly once.
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

pub mod drops;
