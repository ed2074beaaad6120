package portal

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v5"
)

// Answers of read APIs that depend only on the catalog registry (and on
// what the caller may see) are kept encoded, with their ETag, under the
// registry's generation (catalog.Store.Generation), which a trigger bumps
// at the commit of every change to catalogs, versions or dependencias.
// Every request reads the generation afresh — a change committed before
// the request is always seen, whichever instance or command made it — but
// the requests that arrive while one read is under way share the next one,
// so under load one tiny query serves many requests.

// freshGeneration hands each caller a generation read by a query that
// started after the caller asked.
type freshGeneration struct {
	read    func(context.Context) (int64, error)
	timeout time.Duration

	mu      sync.Mutex
	running bool             // a goroutine is reading rounds
	next    *generationRound // the round the next query answers; nil if nobody waits
}

type generationRound struct {
	done chan struct{}
	n    int64
	err  error
}

func newFreshGeneration(read func(context.Context) (int64, error)) *freshGeneration {
	return &freshGeneration{read: read, timeout: 5 * time.Second}
}

// Current returns the generation as of some instant after the call began.
func (g *freshGeneration) Current(ctx context.Context) (int64, error) {
	g.mu.Lock()
	if g.next == nil {
		g.next = &generationRound{done: make(chan struct{})}
	}
	r := g.next
	if !g.running {
		g.running = true
		go g.serve()
	}
	g.mu.Unlock()
	select {
	case <-r.done:
		return r.n, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// serve answers rounds one query at a time while anybody waits. The query
// of a round starts only after the round is taken from next, that is after
// every caller of the round joined it.
func (g *freshGeneration) serve() {
	for {
		g.mu.Lock()
		r := g.next
		g.next = nil
		if r == nil {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		// The round is shared: no caller's cancellation may end it.
		ctx, cancel := context.WithTimeout(context.Background(), g.timeout)
		r.n, r.err = g.read(ctx)
		cancel()
		close(r.done)
	}
}

// cachedAnswer is an encoded JSON answer and its strong ETag.
type cachedAnswer struct {
	body []byte
	etag string
}

func newCachedAnswer(body []byte) cachedAnswer {
	sum := sha256.Sum256(body)
	return cachedAnswer{body: body, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
}

// write sends the answer, or 304 Not Modified when the client already has
// it (If-None-Match). Clients and proxies must revalidate before reusing
// it, and it differs by who asks (the session cookie or the token).
func (a cachedAnswer) write(c *echo.Context) error {
	h := c.Response().Header()
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("Vary", "Authorization, Cookie")
	if etagMatches(c.Request().Header.Get("If-None-Match"), a.etag) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(a.body)))
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, a.body)
}

// etagMatches applies If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == etag {
			return true
		}
	}
	return false
}

// answerCache keeps the answers of one generation, up to maxBytes of
// bodies; a newer generation drops them all.
type answerCache struct {
	maxBytes int

	mu    sync.RWMutex
	gen   int64
	bytes int
	m     map[string]cachedAnswer
}

func newAnswerCache(maxBytes int) *answerCache {
	return &answerCache{maxBytes: maxBytes, m: map[string]cachedAnswer{}}
}

func (c *answerCache) get(gen int64, key string) (cachedAnswer, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if gen != c.gen {
		return cachedAnswer{}, false
	}
	a, ok := c.m[key]
	return a, ok
}

// put keeps a, built from the registry after it read generation gen (an
// answer may be newer than its generation, never older).
func (c *answerCache) put(gen int64, key string, a cachedAnswer) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen < c.gen || len(a.body) > c.maxBytes {
		return
	}
	if gen > c.gen || c.bytes+len(a.body) > c.maxBytes {
		c.gen, c.bytes, c.m = gen, 0, map[string]cachedAnswer{}
	}
	if old, ok := c.m[key]; ok {
		c.bytes -= len(old.body)
	}
	c.m[key] = a
	c.bytes += len(a.body)
}
