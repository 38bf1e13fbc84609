//! loom models of the reclamation core, written against the facade.
//!
//! Run with `cargo xtask loom epoch` (both `--cfg loom --cfg crossbeam_loom`, `--release`).
#![cfg(loom)]

use freeway_epoch::sync::atomic::Ordering;
use freeway_epoch::sync::cell::UnsafeCell;
use freeway_epoch::sync::{Arc, thread};
use freeway_epoch::{Atomic, Owned, pin, retire, unprotected};

struct Node {
    value: UnsafeCell<u64>,
}

fn node(v: u64) -> Owned<Node> {
    let n = Owned::new(Node {
        value: UnsafeCell::new(0),
    });
    // SAFETY: the node is not shared yet.
    n.value.with_mut(|p| unsafe { *p = v });
    n
}

/// A writer publishes a node, replaces it and retires the old one while a reader loads and reads
/// whichever node it finds. The Release publication must make the node's contents visible to the
/// Acquire load (loom reports a causality violation if either is weakened to Relaxed).
#[test]
fn publish_then_retire_while_reading() {
    loom::model(|| {
        let slot = Arc::new(Atomic::<Node>::null());
        let s2 = slot.clone();
        let reader = thread::spawn(move || {
            let guard = pin();
            // Acquire: pairs with the Release store and the AcqRel swap of the writer.
            let p = s2.load(Ordering::Acquire, &guard);
            // SAFETY: non-null nodes in the slot are live while we are pinned.
            if let Some(n) = unsafe { p.as_ref() } {
                // SAFETY: published nodes are never written again.
                let v = n.value.with(|p| unsafe { *p });
                assert!(v == 1 || v == 2, "read {v}");
            }
        });
        let guard = pin();
        // Release: publishes the node's contents to the reader's Acquire load.
        slot.store(node(1), Ordering::Release);
        let old = slot.swap(node(2), Ordering::AcqRel, &guard);
        // SAFETY: `old` was unlinked by the swap and is retired once.
        unsafe { retire(&guard, old) };
        drop(guard);
        reader.join().unwrap();
        // SAFETY: every other thread has finished; the slot holds the last node.
        unsafe { drop(slot.load(Ordering::Relaxed, unprotected()).into_owned()) };
    });
}

/// Two threads race to replace the same slot; each retires what it swapped out. Every node is
/// freed exactly once and the survivor is one of the two new nodes.
#[test]
fn racing_swaps_retire_each_node_once() {
    loom::model(|| {
        let slot = Arc::new(Atomic::new(Node {
            value: UnsafeCell::new(0),
        }));
        let handles: Vec<_> = (1..=2u64)
            .map(|v| {
                let slot = slot.clone();
                thread::spawn(move || {
                    let guard = pin();
                    let old = slot.swap(node(v), Ordering::AcqRel, &guard);
                    // SAFETY: pinned, and the swap gave us the only link to `old`.
                    let seen = unsafe { old.deref() }.value.with(|p| unsafe { *p });
                    assert!(seen <= 2 && seen != v);
                    // SAFETY: unlinked by our swap, retired once.
                    unsafe { retire(&guard, old) };
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        // SAFETY: all threads joined.
        let last = unsafe { slot.load(Ordering::Relaxed, unprotected()).into_owned() };
        // SAFETY: we own `last`; nobody else can reach its cell.
        let v = last.value.with(|p| unsafe { *p });
        assert!(v == 1 || v == 2);
    });
}
