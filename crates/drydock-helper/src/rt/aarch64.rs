//! The aarch64 entry point and memory functions.

use core::arch::global_asm;
use core::ptr::{read_volatile, write_volatile};

// The kernel starts us with sp at argc, then argv[], NULL, envp[], NULL (the same layout as on
// x86_64; sp is already 16-byte aligned, as the AAPCS64 requires, but aligning costs nothing).
// The frame pointer and link register are zeroed so that a backtrace stops here.
global_asm!(
    ".globl _start",
    "_start:",
    "mov x29, #0",
    "mov x30, #0",
    "mov x0, sp",
    "and sp, x0, #-16",
    "bl {entry}",
    "udf #0",
    entry = sym super::entry,
);

// The memory functions LLVM emits calls to. Byte loops over volatile accesses, so the compiler
// cannot turn them back into calls to themselves; the helper copies a few kilobytes at most.
#[no_mangle]
unsafe extern "C" fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller's contract is memcpy's.
        unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
    }
    dst
}

#[no_mangle]
unsafe extern "C" fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if (dst as usize) <= (src as usize) || (dst as usize) >= (src as usize) + n {
        // SAFETY: a forward copy is correct when dst does not start inside src.
        unsafe { memcpy(dst, src, n) };
    } else {
        for i in (0..n).rev() {
            // SAFETY: copy backwards from the last byte.
            unsafe { write_volatile(dst.add(i), read_volatile(src.add(i))) };
        }
    }
    dst
}

#[no_mangle]
unsafe extern "C" fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8 {
    for i in 0..n {
        // SAFETY: the caller's contract is memset's.
        unsafe { write_volatile(dst.add(i), c as u8) };
    }
    dst
}

// compiler-builtins' aarch64 CPU-feature code (which picks LSE atomics over LL/SC for the
// outlined atomics) asks the C library for the hardware capabilities, from a constructor.
// Nothing runs constructors here (no libc start code), so the atomics keep their LL/SC
// fallback, which every aarch64 CPU has; the symbol only has to exist. No capabilities.
#[no_mangle]
extern "C" fn getauxval(_type: usize) -> usize {
    0
}
