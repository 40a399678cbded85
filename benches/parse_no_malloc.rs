//! How close to the `IgnoredAny` floor the typed parse gets when allocating costs nothing:
//! the most that storing strings differently (inline small strings, slices of the response
//! body) could gain, measured before anyone changes the public types for it.
//!
//!     cargo bench --bench parse_no_malloc
//!
//! The binary's global allocator hands out memory from one pre-touched arena by bumping a
//! pointer and never frees; the arena is rewound after each parse, once the page is dropped, so
//! every parse writes into the same warm memory, as a real allocator's free lists give it.
//! Each run times, back to back, the floor, the typed parse with the system allocator, and
//! the typed parse from the arena (each without dropping the page); the ratios are medians of
//! the per-run ratios.
//!
//! This is the one place in the project with `unsafe` code: a `GlobalAlloc` cannot be written
//! without it. It is a bench binary, not part of the library, which forbids `unsafe`.

mod support;

use plaid_sdk::types::TransactionsSyncResponse;
use plaid_sdk::RawResponse;
use serde::de::IgnoredAny;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use support::{median, sync_page_body, time_ms, PAGE};

/// Bytes in the arena: one parse of the page takes about 2 MB.
const ARENA: usize = 64 << 20;

/// The system allocator, or a bump arena while [`Arena::on`] is set.
struct Arena {
    on: AtomicBool,
    base: AtomicUsize,
    next: AtomicUsize,
}

#[global_allocator]
static ALLOC: Arena = Arena {
    on: AtomicBool::new(false),
    base: AtomicUsize::new(0),
    next: AtomicUsize::new(0),
};

impl Arena {
    fn contains(&self, ptr: *mut u8) -> bool {
        let (base, p) = (self.base.load(Ordering::Relaxed), ptr as usize);
        base != 0 && p >= base && p < base + ARENA
    }

    /// Allocates the arena from the system allocator and touches every page of it.
    fn init(&self) {
        let layout = Layout::from_size_align(ARENA, 4096).expect("arena layout");
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { System.alloc(layout) };
        assert!(!base.is_null(), "no memory for the arena");
        // SAFETY: `base` points to `ARENA` writable bytes just allocated.
        unsafe { std::ptr::write_bytes(base, 1, ARENA) };
        self.next.store(base as usize, Ordering::Relaxed);
        self.base.store(base as usize, Ordering::Relaxed);
    }

    /// Time of `f` in ms, with allocations from the arena; what it returns is dropped after
    /// the clock stops, then the arena is rewound: nothing it handed out outlives this call.
    fn time_ms<T>(&self, f: impl FnOnce() -> T) -> f64 {
        self.on.store(true, Ordering::Relaxed);
        let elapsed = time_ms(f);
        self.on.store(false, Ordering::Relaxed);
        self.next
            .store(self.base.load(Ordering::Relaxed), Ordering::Relaxed);
        elapsed
    }
}

// SAFETY: arena blocks are aligned as asked, lie inside the arena and never overlap: the bump
// pointer only moves forward until `Arena::time_ms` rewinds it, after everything it handed out
// was dropped, and the bench has one thread, so nothing else allocates while the arena is on.
// A full arena falls back to the system allocator; `dealloc` sends every pointer back where
// it came from.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.on.load(Ordering::Relaxed) {
            let base = self.base.load(Ordering::Relaxed);
            let mut next = self.next.load(Ordering::Relaxed);
            loop {
                let start = (next + layout.align() - 1) & !(layout.align() - 1);
                let end = start + layout.size();
                if end > base + ARENA {
                    break;
                }
                match self.next.compare_exchange_weak(
                    next,
                    end,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return start as *mut u8,
                    Err(now) => next = now,
                }
            }
        }
        // SAFETY: the caller's layout, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !self.contains(ptr) {
            // SAFETY: not from the arena, so from `System.alloc` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}

fn main() {
    ALLOC.init();
    let body = sync_page_body();
    let parse = || {
        RawResponse::new("transactions_sync", 200, body.clone())
            .json::<TransactionsSyncResponse>()
            .expect("typed")
    };
    // Once with the system allocator first, so that nothing initialized on first use lands in
    // the arena.
    assert_eq!(parse().added.len(), PAGE);
    ALLOC.time_ms(|| assert_eq!(parse().added.len(), PAGE));
    let runs = 201;
    let (mut floor, mut typed, mut free) = (Vec::new(), Vec::new(), Vec::new());
    let (mut system_ratio, mut free_ratio) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let f = time_ms(|| serde_json::from_slice::<IgnoredAny>(&body).expect("json"));
        let t = time_ms(parse);
        let a = ALLOC.time_ms(parse);
        system_ratio.push(f / t);
        free_ratio.push(f / a);
        floor.push(f);
        typed.push(t);
        free.push(a);
    }
    println!(
        "parse a {PAGE}-transaction /transactions/sync page ({:.2} MB), medians of {runs} runs:",
        body.len() as f64 / 1e6
    );
    println!(
        "  serde_json into IgnoredAny (floor)         {:6.2} ms",
        median(floor)
    );
    println!(
        "  plaid-sdk typed, system allocator          {:6.2} ms  = {:.0}% of the floor",
        median(typed),
        median(system_ratio) * 100.0
    );
    println!(
        "  plaid-sdk typed, allocation free           {:6.2} ms  = {:.0}% of the floor",
        median(free),
        median(free_ratio) * 100.0
    );
}
