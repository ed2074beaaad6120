//go:build !unix

package offheap

// Without mmap the memory comes from the heap.

func alloc(n int) ([]byte, error) { return make([]byte, n), nil }

func free([]byte) error { return nil }
