//! Differential fuzzing of `freeway_stack::Stack` against freeway-check's LIFO model: the input
//! decodes to push/pop operations (`freeway_check::harness::stack_ops`), run step by step on the
//! plain stack and on one with elimination slots. The calls are in
//! `crates/stack/tests/support/stack.rs`, which the stack's corpus replay test runs too.
#![no_main]

#[path = "../../crates/stack/tests/support/stack.rs"]
mod stack;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = stack::replay(data) {
        panic!("{e}");
    }
});
