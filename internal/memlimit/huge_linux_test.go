package memlimit

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestAdviseHugeMarksTheRange: after AdviseHuge the mapping holding the
// whole 2 MiB pages of a fresh 16 MiB slice carries the kernel's "hg" flag
// (VM_HUGEPAGE, /proc/self/smaps), which a no-op advice leaves off.
func TestAdviseHugeMarksTheRange(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skip("no transparent huge pages here")
	}
	buf := make([]byte, 16<<20)
	AdviseHuge(unsafe.Pointer(unsafe.SliceData(buf)), uintptr(len(buf)))
	at := (uintptr(unsafe.Pointer(unsafe.SliceData(buf))) + hugePage - 1) &^ (hugePage - 1)
	flags, ok := vmFlags(t, at)
	if !ok {
		t.Fatalf("no mapping holds %#x", at)
	}
	if !slicesContains(strings.Fields(flags), "hg") {
		t.Fatalf("mapping of %#x: VmFlags %q, want hg (MADV_HUGEPAGE)", at, flags)
	}
	buf[len(buf)-1] = 1 // kept alive until here
}

// TestReserveHugeBacksTheHeapAfterIt: after reserveHuge the heap's next
// large allocation lies in a mapping carrying "hg" (MADV_HUGEPAGE): the
// runtime maps its heap in fresh mappings, which no advice given before they
// exist reaches, so only the reservation (allocated, advised, freed) puts
// the advice where the next allocations go.
func TestReserveHugeBacksTheHeapAfterIt(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skip("no transparent huge pages here")
	}
	reserveHuge(128 << 20)
	buf := make([]byte, 64<<20) // larger than any gap a test's small heap has
	at := (uintptr(unsafe.Pointer(unsafe.SliceData(buf))) + hugePage - 1) &^ (hugePage - 1)
	flags, ok := vmFlags(t, at)
	if !ok {
		t.Fatalf("no mapping holds %#x", at)
	}
	if !slicesContains(strings.Fields(flags), "hg") {
		t.Fatalf("mapping of %#x: VmFlags %q, want hg (MADV_HUGEPAGE)", at, flags)
	}
	buf[len(buf)-1] = 1 // kept alive until here
}

// TestReserveHugePopulatesTheHeapBelowIt: after reserveHuge the heap the
// allocator hands out before the first whole huge page of the reservation
// (the rest of the chunk the heap started in, the reservation's head) is
// resident, every 4 KiB page of it (mincore): written one by one, each was
// a fault of its own in a fresh process, most of check's faults at 10k
// workspaces.
func TestReserveHugePopulatesTheHeapBelowIt(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skip("no transparent huge pages here")
	}
	lo, hi := reserveHuge(64 << 20)
	if lo >= hi {
		t.Skip("the reservation began on a huge page: nothing below it to populate")
	}
	if hi%hugePage != 0 || hi-lo > 8<<20 {
		t.Fatalf("populated [%#x, %#x): want it to end on a huge page and span at most 8 MiB", lo, hi)
	}
	pages := (hi - lo) / 4096
	vec := make([]byte, pages)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, lo, hi-lo, uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		t.Skip("mincore:", e)
	}
	absent := 0
	for _, v := range vec {
		if v&1 == 0 {
			absent++
		}
	}
	if absent > 0 {
		t.Fatalf("%d of the %d pages of [%#x, %#x) are not resident", absent, pages, lo, hi)
	}
}

// vmFlags returns the VmFlags line of the mapping of /proc/self/smaps that
// holds addr.
func vmFlags(t *testing.T, addr uintptr) (string, bool) {
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		if lo, hi, ok := strings.Cut(strings.Fields(line + " ")[0], "-"); ok && !strings.HasSuffix(lo, ":") {
			l, err1 := strconv.ParseUint(lo, 16, 64)
			h, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				in = uint64(addr) >= l && uint64(addr) < h
				continue
			}
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.TrimPrefix(line, "VmFlags:"), true
		}
	}
	return "", false
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
