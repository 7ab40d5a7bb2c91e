package memlimit

import (
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"unsafe"
)

// hugePage is the size of a transparent huge page on linux/amd64 and arm64.
const hugePage = 2 << 20

// AdviseHuge asks the kernel to back the whole 2 MiB pages inside the n bytes
// at p with transparent huge pages (madvise MADV_HUGEPAGE), before they are
// first written. For a large slice a one-shot command fills once (check's
// rows: 44 MB at 100k workspaces), in a fresh process each 4 KiB page was a
// fault of its own (11k faults, ~150 ms of CPU at load 16–19), a huge page
// is one fault per 2 MiB. Pages already written, and systems without
// transparent huge pages (or with them "never"), are left as they are: the
// advice is best effort and its error ignored. The memory stays the Go
// heap's (the collector frees it as any).
func AdviseHuge(p unsafe.Pointer, n uintptr) {
	start := (uintptr(p) + hugePage - 1) &^ (hugePage - 1)
	end := (uintptr(p) + n) &^ (hugePage - 1)
	if end <= start {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, 14) // MADV_HUGEPAGE
}

// reserveHuge makes the next n bytes of heap the process grows into backed
// by transparent huge pages (AdviseHuge): it allocates them (fresh pages,
// never written, so neither zeroed nor resident), advises them, and frees
// them with one collection (of a heap that is small at a command's start;
// the only one: the collector is off meanwhile, so Apply's policy, which
// sets no limit before its second, sets none),
// so the allocations after it take their pages there. The runtime maps its
// heap in growing steps of fresh mappings (which carry no advice), so no
// advice given before an allocation reaches them would hold. Nothing is done
// when the kernel's transparent huge pages are "never".
//
// The heap below the reservation's first whole huge page, which the
// allocator hands out first (the free pages of the 4 MiB chunk the heap
// started in, and of the spans made at start), is made resident at once
// (populateBelow). It returns that range ([0, 0) when none).
func reserveHuge(n uintptr) (lo, hi uintptr) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		return 0, 0
	}
	// no collection of its own while the reservation is live (GOGC=400
	// of a start's heap is a few MB): one, forced, frees it
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	b := make([]byte, n)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	AdviseHuge(unsafe.Pointer(unsafe.SliceData(b)), n)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
	return populateBelow(start)
}

// heapMark is allocated at this package's init, among the first objects of
// the heap: the spans made before it lie below it.
var heapMark *[64]byte

func init() { heapMark = new([64]byte) }

// chunkSize is the runtime's palloc chunk: the heap is mapped in whole
// chunks of 4 MiB, the first one holding the objects made at start.
const chunkSize = 4 << 20

// populateBelow makes resident at once (MADV_POPULATE_WRITE, Linux 5.14;
// best effort, its error ignored) the heap from heapMark (at most from the
// start of the chunk holding start, the reservation's first byte, and at
// most 8 MiB) to the reservation's first whole huge page: the pages the
// allocator hands out before the huge ones, 4 KiB each. Written one by one
// they were a fault each (~300 of a check's ~1,500 at 10k workspaces; a
// fault costs ~10-20 µs on this VM); populated they are one system call,
// and the pages already in use are left as they are (the advice writes no
// byte). It returns the range populated ([0, 0) when none).
func populateBelow(start uintptr) (lo, hi uintptr) {
	hi = (start + hugePage - 1) &^ (hugePage - 1)
	lo = max(uintptr(unsafe.Pointer(heapMark)), start&^(chunkSize-1), hi-min(hi, 8<<20)) &^ (4<<10 - 1)
	if lo >= hi {
		return 0, 0
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, lo, hi-lo, 23) // MADV_POPULATE_WRITE
	return lo, hi
}
