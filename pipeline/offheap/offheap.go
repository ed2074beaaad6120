// Package offheap holds big slices of pointer-free values outside the Go
// heap, in memory mapped from the operating system and given back when
// freed.
//
// A re-load keeps an index of every published row (tens of bytes a row)
// for the whole load. On the heap, the collector lets the heap grow to
// twice what is live before it collects, so an index of 200 MB costs
// 400 MB; outside it, the index costs its size and the collector paces
// itself on the load's small working set. The idea is fastcache's and
// VictoriaMetrics': big, long-lived, pointer-free buffers do not belong to
// the collector.
//
// The element type must hold no pointers (no strings, slices, maps,
// interfaces or pointers): the collector does not see this memory, so a
// pointer stored in it would not keep its target alive.
package offheap

import (
	"fmt"
	"unsafe"
)

// Make returns a zeroed slice of length and capacity n. Free gives it
// back; a slice of length 0 comes from the heap and needs no Free.
func Make[T any](n int) ([]T, error) {
	if n <= 0 {
		return nil, nil
	}
	var zero T
	size := unsafe.Sizeof(zero)
	if size == 0 || uintptr(n) > maxBytes/size {
		return nil, fmt.Errorf("offheap: %d elements of %d bytes", n, size)
	}
	b, err := alloc(int(uintptr(n) * size))
	if err != nil {
		return nil, err
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n), nil
}

// Free gives back a slice from Make or Grow (any reslicing of it that
// keeps its start). It does nothing for a nil slice.
func Free[T any](s []T) error {
	if cap(s) == 0 {
		return nil
	}
	var zero T
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), uintptr(cap(s))*unsafe.Sizeof(zero))
	return free(b)
}

// Grow returns s with room for at least n more elements: s itself when it
// has it, else a copy in a mapping of twice the size (s is freed).
func Grow[T any](s []T, n int) ([]T, error) {
	if cap(s)-len(s) >= n {
		return s, nil
	}
	want := max(2*cap(s), len(s)+n, 1024)
	out, err := Make[T](want)
	if err != nil {
		return s, err
	}
	out = out[:copy(out, s)]
	if err := Free(s); err != nil {
		return out, err
	}
	return out, nil
}

// maxBytes bounds one mapping (1 TiB).
const maxBytes = 1 << 40
