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
func reserveHuge(n uintptr) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		return
	}
	// no collection of its own while the reservation is live (GOGC=400
	// of a start's heap is a few MB): one, forced, frees it
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	b := make([]byte, n)
	AdviseHuge(unsafe.Pointer(unsafe.SliceData(b)), n)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC()
}
