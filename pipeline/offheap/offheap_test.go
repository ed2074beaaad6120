package offheap

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

type pair struct {
	a uint64
	b uint32
}

func TestMakeGrowFree(t *testing.T) {
	s, err := Make[pair](3)
	require.NoError(t, err)
	require.Equal(t, []pair{{}, {}, {}}, s, "zeroed")
	s[2] = pair{7, 8}
	s = s[:0]
	for i := range 5000 {
		s, err = Grow(s, 1)
		require.NoError(t, err)
		s = append(s, pair{uint64(i), uint32(i)})
	}
	runtime.GC()
	for i, p := range s {
		require.Equal(t, pair{uint64(i), uint32(i)}, p)
	}
	require.NoError(t, Free(s))
	require.NoError(t, Free[pair](nil))

	empty, err := Make[byte](0)
	require.NoError(t, err)
	require.Nil(t, empty)
	_, err = Make[pair](1 << 62)
	require.Error(t, err)
}

func TestGrowKeepsRoom(t *testing.T) {
	s, err := Make[byte](100)
	require.NoError(t, err)
	s = s[:10]
	same, err := Grow(s, 90)
	require.NoError(t, err)
	require.Equal(t, &s[0], &same[0], "no new mapping while there is room")
	bigger, err := Grow(same, 91)
	require.NoError(t, err)
	require.Len(t, bigger, 10)
	require.GreaterOrEqual(t, cap(bigger), 200)
	require.NoError(t, Free(bigger))
}
