//go:build unix

package offheap

import (
	"fmt"
	"syscall"
)

func alloc(n int) ([]byte, error) {
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("offheap: mapping %d bytes: %w", n, err)
	}
	return b, nil
}

func free(b []byte) error {
	if err := syscall.Munmap(b); err != nil {
		return fmt.Errorf("offheap: unmapping %d bytes: %w", len(b), err)
	}
	return nil
}
