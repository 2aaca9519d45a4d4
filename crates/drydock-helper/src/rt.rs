//! The runtime of a program without libc: the entry point, the process arguments and
//! environment, a heap, the panic handler, and the memory functions the compiler calls.
//! Only in the real binary; unit tests run on std.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

// The entry point `_start` (which calls `entry` with the stack pointer) and the memory
// functions: per architecture.
#[cfg(target_arch = "x86_64")]
#[path = "rt/x86_64.rs"]
mod arch;
#[cfg(target_arch = "aarch64")]
#[path = "rt/aarch64.rs"]
mod arch;

static mut ARGC: usize = 0;
static mut ARGV: *const *const u8 = core::ptr::null();
static mut ENVP: *const *const u8 = core::ptr::null();

unsafe extern "C" fn entry(sp: *const usize) -> ! {
    // SAFETY: the layout the kernel guarantees for a new process.
    unsafe {
        ARGC = *sp;
        ARGV = sp.add(1) as *const *const u8;
        ENVP = ARGV.add(ARGC + 1);
    }
    crate::sys::exit(crate::main())
}

fn c_len(p: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: p points to a NUL-terminated string from the kernel. Volatile, or LLVM turns
    // the loop into a call to strlen, which does not exist here.
    unsafe {
        while core::ptr::read_volatile(p.add(n)) != 0 {
            n += 1;
        }
    }
    n
}

/// The raw argv pointers (NUL-terminated strings), so they can be handed to execve as they are.
pub fn argv_ptrs() -> &'static [*const u8] {
    // SAFETY: set once in `entry` before anything else runs.
    unsafe { core::slice::from_raw_parts(ARGV, ARGC) }
}

pub fn arg(p: *const u8) -> &'static [u8] {
    // SAFETY: p comes from argv or envp.
    unsafe { core::slice::from_raw_parts(p, c_len(p)) }
}

pub fn env_ptrs() -> alloc::vec::Vec<*const u8> {
    let mut v = alloc::vec::Vec::new();
    // SAFETY: envp is NULL-terminated.
    unsafe {
        let mut p = ENVP;
        while !(*p).is_null() {
            v.push(*p);
            p = p.add(1);
        }
    }
    v
}

// A bump allocator over a region in .bss (no file size; untouched pages cost nothing). The
// helper allocates a few kilobytes while reading cgroup files and never frees in a loop.
const HEAP_SIZE: usize = 16 << 20;
#[repr(align(4096))]
#[allow(dead_code)] // only its address is used
struct Heap([u8; HEAP_SIZE]);
static mut HEAP: Heap = Heap([0; HEAP_SIZE]);
static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Bump;

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let base = core::ptr::addr_of_mut!(HEAP) as usize;
        let mut cur = NEXT.load(Ordering::Relaxed);
        loop {
            let start = (base + cur).next_multiple_of(l.align()) - base;
            let end = start + l.size();
            if end > HEAP_SIZE {
                return core::ptr::null_mut();
            }
            match NEXT.compare_exchange(cur, end, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => return (base + start) as *mut u8,
                Err(c) => cur = c,
            }
        }
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[global_allocator]
static ALLOC: Bump = Bump;

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    crate::sys::write_all(2, b"drydock-helper: internal error\n");
    crate::sys::exit(101)
}

#[no_mangle]
unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    for i in 0..n {
        // SAFETY: both regions are n bytes long; volatile keeps this a loop.
        let (x, y) = unsafe {
            (
                core::ptr::read_volatile(a.add(i)),
                core::ptr::read_volatile(b.add(i)),
            )
        };
        if x != y {
            return x as i32 - y as i32;
        }
    }
    0
}

#[no_mangle]
unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract as memcmp.
    unsafe { memcmp(a, b, n) }
}

// The prebuilt alloc library refers to the unwinder even when nothing can unwind (panics
// abort). Without optimisation those references survive to the link, so they need a target.
#[no_mangle]
extern "C" fn rust_eh_personality() {}

#[no_mangle]
extern "C" fn _Unwind_Resume() -> ! {
    crate::sys::exit(134)
}
