//go:build !linux

package memlimit

import "unsafe"

// AdviseHuge does nothing here: transparent huge pages are Linux's (see
// huge_linux.go).
func AdviseHuge(p unsafe.Pointer, n uintptr) {}

// reserveHuge does nothing here (see huge_linux.go).
func reserveHuge(n uintptr) (lo, hi uintptr) { return 0, 0 }
