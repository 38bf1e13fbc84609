//! Unit behaviour of `SeqLock` and `SeqLatch`: every method, values of awkward sizes, writer
//! serialisation, readers not blocked by a held write guard, and panic safety.
#![cfg(not(loom))]

use freeway_check::drops::DropTracker;
use freeway_epoch::sync::atomic::{AtomicBool, Ordering};
use freeway_epoch::sync::thread;
use freeway_seqlock::{Plain, SeqLatch, SeqLatchWriteGuard, SeqLock, SeqLockWriteGuard};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

/// The operations both types share, so every test runs on both.
trait Cell<T: Plain>: Sync + Sized {
    fn make(v: T) -> Self;
    fn read(&self) -> T;
    fn try_read(&self) -> Option<T>;
    fn store(&self, v: T);
    fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R;
    fn edit(&self, f: impl FnOnce(&mut T));
    fn try_edit(&self, f: impl FnOnce(&mut T)) -> bool;
    fn get_mut(&mut self) -> &mut T;
    fn into_inner(self) -> T;
}

macro_rules! cell_impl {
    ($Lock:ident) => {
        impl<T: Plain + Send> Cell<T> for $Lock<T> {
            fn make(v: T) -> Self {
                $Lock::new(v)
            }
            fn read(&self) -> T {
                $Lock::read(self)
            }
            fn try_read(&self) -> Option<T> {
                $Lock::try_read(self)
            }
            fn store(&self, v: T) {
                $Lock::store(self, v)
            }
            fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
                $Lock::update(self, f)
            }
            fn edit(&self, f: impl FnOnce(&mut T)) {
                let mut g = self.write();
                f(&mut g);
            }
            fn try_edit(&self, f: impl FnOnce(&mut T)) -> bool {
                match self.try_write() {
                    Some(mut g) => {
                        f(&mut g);
                        true
                    }
                    None => false,
                }
            }
            fn get_mut(&mut self) -> &mut T {
                $Lock::get_mut(self)
            }
            fn into_inner(self) -> T {
                $Lock::into_inner(self)
            }
        }
    };
}
cell_impl!(SeqLock);
cell_impl!(SeqLatch);

/// Runs a generic test body on both types.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod lock {
            use super::*;
            $( #[test] fn $name() { super::$name::<SeqLock<_>>(); } )*
        }
        mod latch {
            use super::*;
            $( #[test] fn $name() { super::$name::<SeqLatch<_>>(); } )*
        }
    };
}

both!(
    every_method_round_trips,
    many_stores_then_get_mut,
    write_guard_publishes_on_drop_and_readers_see_old_until_then,
    try_write_fails_while_a_guard_lives,
    second_writer_waits_for_the_guard,
    reader_on_another_thread_is_not_blocked_by_a_held_guard,
    panic_in_update_publishes_nothing_and_releases_the_lock,
    panic_with_guard_alive_discards_the_edit,
    guard_taken_while_unwinding_still_publishes,
    panic_in_update_drops_captured_values_once,
);

fn every_method_round_trips<C: Cell<u64>>() {
    let mut c = C::make(7);
    assert_eq!(c.read(), 7);
    assert_eq!(c.try_read(), Some(7));
    c.store(9);
    assert_eq!(c.read(), 9);
    let r = c.update(|v| {
        *v += 1;
        "returned"
    });
    assert_eq!((r, c.read()), ("returned", 10));
    c.edit(|v| *v *= 3);
    assert_eq!(c.read(), 30);
    assert!(c.try_edit(|v| *v += 2));
    assert_eq!(c.read(), 32);
    *c.get_mut() = 100;
    assert_eq!(c.read(), 100);
    c.store(101);
    assert_eq!(c.into_inner(), 101);
}

fn round_trip<C: Cell<T>, T: Plain + Send + PartialEq + std::fmt::Debug>(a: T, b: T) {
    let c = C::make(a);
    assert_eq!(c.read(), a);
    c.store(b);
    assert_eq!(c.read(), b);
    c.update(|v| *v = a);
    assert_eq!(c.try_read(), Some(a));
    assert_eq!(c.into_inner(), a);
}

#[test]
fn awkward_sizes_round_trip() {
    macro_rules! each {
        ($($a:expr, $b:expr;)*) => {$(
            round_trip::<SeqLock<_>, _>($a, $b);
            round_trip::<SeqLatch<_>, _>($a, $b);
        )*};
    }
    each!(
        (), ();
        1u8, 255u8;
        true, false;
        'x', '\u{10FFFF}';
        [1u8, 2, 3], [4u8, 5, 6];
        [7u8; 9], [8u8; 9];
        u128::MAX - 1, 3u128;
        -1i16, i16::MIN;
        [1.5f32; 3], [-0.0f32; 3];
        [u64::MAX; 5], [0u64; 5];
        std::num::Wrapping(5u32), std::num::Wrapping(6u32);
        [[1u16; 3]; 3], [[2u16; 3]; 3];
    );
    // NaN payloads survive the copy bit for bit.
    let nan = f64::from_bits(0x7ff8_dead_beef_0001);
    assert_eq!(SeqLock::new(nan).read().to_bits(), nan.to_bits());
    assert_eq!(SeqLatch::new(nan).read().to_bits(), nan.to_bits());
}

fn many_stores_then_get_mut<C: Cell<[u32; 3]>>() {
    let mut c = C::make([0; 3]);
    for i in 0..1000u32 {
        c.store([i, i + 1, i + 2]);
        assert_eq!(c.read(), [i, i + 1, i + 2]);
    }
    c.get_mut()[1] = 5;
    assert_eq!(c.read(), [999, 5, 1001]);
    // A store after get_mut replaces the whole value (the latch writes its other copy whole).
    c.store([1, 2, 3]);
    assert_eq!(c.read(), [1, 2, 3]);
    c.get_mut()[0] = 9;
    c.update(|v| v[2] = 0);
    assert_eq!(c.into_inner(), [9, 2, 0]);
}

fn write_guard_publishes_on_drop_and_readers_see_old_until_then<C: Cell<[u64; 4]>>() {
    let c = C::make([1; 4]);
    c.edit(|v| {
        v[0] = 2;
        // Readers (even this thread) still see the published value.
        assert_eq!(c.read(), [1; 4]);
        v[3] = 2;
        assert_eq!(c.try_read(), Some([1; 4]));
    });
    assert_eq!(c.read(), [2, 1, 1, 2]);
}

fn try_write_fails_while_a_guard_lives<C: Cell<u8>>() {
    let c = C::make(1);
    c.edit(|v| {
        *v = 2;
        assert!(!c.try_edit(|w| *w = 3), "a second writer got in");
    });
    assert_eq!(c.read(), 2);
    assert!(c.try_edit(|w| *w = 3));
    assert_eq!(c.read(), 3);
}

fn second_writer_waits_for_the_guard<C: Cell<u32>>() {
    let c = C::make(0);
    let stored = AtomicBool::new(false);
    thread::scope(|s| {
        c.edit(|v| {
            *v = 1;
            s.spawn(|| {
                c.store(2);
                stored.store(true, Ordering::SeqCst);
            });
            thread::sleep(Duration::from_millis(50));
            assert!(
                !stored.load(Ordering::SeqCst),
                "store ran while a guard lived"
            );
            assert_eq!(c.read(), 0);
        });
    });
    // The guard published 1 first, then the waiting store published 2.
    assert!(stored.load(Ordering::SeqCst));
    assert_eq!(c.read(), 2);
}

fn reader_on_another_thread_is_not_blocked_by_a_held_guard<C: Cell<[u64; 2]>>() {
    let c = C::make([4, 4]);
    c.edit(|v| {
        *v = [5, 5];
        thread::scope(|s| {
            let h = s.spawn(|| (c.read(), c.try_read()));
            assert_eq!(h.join().unwrap(), ([4, 4], Some([4, 4])));
        });
    });
    assert_eq!(c.read(), [5, 5]);
}

fn panic_in_update_publishes_nothing_and_releases_the_lock<C: Cell<[u16; 2]>>() {
    let c = C::make([1, 1]);
    let r = catch_unwind(AssertUnwindSafe(|| {
        c.update(|v| {
            v[0] = 99;
            panic!("user closure fails");
        })
    }));
    assert!(r.is_err());
    assert_eq!(c.read(), [1, 1]);
    assert!(c.try_edit(|v| v[1] = 2), "lock left held after a panic");
    c.update(|v| v[0] = 3);
    assert_eq!(c.read(), [3, 2]);
}

fn panic_with_guard_alive_discards_the_edit<C: Cell<i32>>() {
    let c = C::make(5);
    let r = catch_unwind(AssertUnwindSafe(|| {
        c.edit(|v| {
            *v = -5;
            panic!("mid-edit");
        })
    }));
    assert!(r.is_err());
    assert_eq!(c.read(), 5);
    c.store(6);
    assert_eq!(c.read(), 6);
}

/// A guard created while the thread is already unwinding (in a destructor) is an ordinary
/// write: it publishes.
fn guard_taken_while_unwinding_still_publishes<C: Cell<u8>>() {
    struct OnDrop<'a, C: Cell<u8>>(&'a C);
    impl<C: Cell<u8>> Drop for OnDrop<'_, C> {
        fn drop(&mut self) {
            self.0.edit(|v| *v = 42);
        }
    }
    let c = C::make(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        let _d = OnDrop(&c);
        panic!("unwind through OnDrop");
    }));
    assert!(r.is_err());
    assert_eq!(c.read(), 42);
}

fn panic_in_update_drops_captured_values_once<C: Cell<u64>>() {
    let tracker = DropTracker::new();
    let c = C::make(1);
    let owned = tracker.track(String::from("captured"));
    let r = catch_unwind(AssertUnwindSafe(|| {
        c.update(move |v| {
            *v = owned.len() as u64;
            panic!("after using the captured value");
        })
    }));
    assert!(r.is_err());
    tracker.assert_all_dropped_once();
    assert_eq!(c.read(), 1);
    let owned = tracker.track(5u64);
    c.update(move |v| *v += *owned);
    assert_eq!(c.read(), 6);
    tracker.assert_all_dropped_once();
}

#[test]
fn debug_default_from() {
    let l: SeqLock<[u8; 2]> = SeqLock::default();
    assert_eq!(format!("{l:?}"), "SeqLock { value: [0, 0] }");
    let l: SeqLatch<u32> = 9.into();
    assert_eq!(format!("{l:?}"), "SeqLatch { value: 9 }");
    let l = SeqLock::from(1i8);
    let mut g: SeqLockWriteGuard<'_, i8> = l.write();
    *g = 2;
    assert_eq!(format!("{g:?}"), "SeqLockWriteGuard { value: 2 }");
    drop(g);
    let l = SeqLatch::<u16>::default();
    let g: SeqLatchWriteGuard<'_, u16> = l.write();
    assert_eq!(*g, 0);
    assert_eq!(format!("{g:?}"), "SeqLatchWriteGuard { value: 0 }");
}

#[test]
fn send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SeqLock<[u64; 4]>>();
    assert_send_sync::<SeqLatch<[u64; 4]>>();
    assert_send_sync::<SeqLockWriteGuard<'static, u8>>();
    assert_send_sync::<SeqLatchWriteGuard<'static, u8>>();
}

/// Many threads each add 1 through `update`, `write` and `try_write`: no increment is lost.
#[test]
fn concurrent_updates_lose_nothing() {
    fn run<C: Cell<[u64; 3]>>() {
        let c = C::make([0; 3]);
        const THREADS: u64 = 4;
        const EACH: u64 = 2000;
        thread::scope(|s| {
            for t in 0..THREADS {
                let c = &c;
                s.spawn(move || {
                    for i in 0..EACH {
                        match (t + i) % 3 {
                            0 => c.update(|v| v.iter_mut().for_each(|w| *w += 1)),
                            1 => c.edit(|v| v.iter_mut().for_each(|w| *w += 1)),
                            _ => {
                                while !c.try_edit(|v| v.iter_mut().for_each(|w| *w += 1)) {
                                    std::hint::spin_loop();
                                }
                            }
                        }
                        let r = c.read();
                        assert!(r[0] == r[1] && r[1] == r[2], "torn: {r:?}");
                    }
                });
            }
        });
        assert_eq!(c.into_inner(), [THREADS * EACH; 3]);
    }
    run::<SeqLock<_>>();
    run::<SeqLatch<_>>();
}
