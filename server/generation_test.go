package server

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
	"github.com/jwtgate/jwtgate/server/config"
)

// TestGenerationClosedAfterLastRelease checks that a generation a reload
// replaced closes its key store only once the last request on it is done,
// and that a generation whose key store the next one took over leaves it
// open.
func TestGenerationClosedAfterLastRelease(t *testing.T) {
	k, err := sign.Generate(engine.ES256, "gen-1")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"a.json", "b.json"} {
		if err := os.WriteFile(filepath.Join(dir, name), sign.JWKS(k), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	yaml := func(file string) string {
		return "issuers:\n  - issuer: https://i.example\n    jwks_file: " + filepath.Join(dir, file) + "\n    audiences: [api]\n"
	}
	next := yaml("a.json")
	load := func() (*config.Config, error) { return config.Parse([]byte(next)) }
	cfg, _ := load()
	s, err := New(cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Load: load})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	g1 := s.Acquire()
	if err := s.Reload(context.Background()); err != nil { // same key source: store kept
		t.Fatal(err)
	}
	g2 := s.Acquire()
	if g2 == g1 || g2.store != g1.store {
		t.Fatal("a reload with the same key sources did not keep the key store in a new generation")
	}
	next = yaml("b.json")
	if err := s.Reload(context.Background()); err != nil { // new key store
		t.Fatal(err)
	}
	g1.Release()
	if !isClosed(g1.closed) {
		t.Error("generation 1 not closed after its last release")
	}
	if isClosed(g2.closed) {
		t.Fatal("generation 2 closed while a request uses it")
	}
	if !g2.store.Ready() || g2.store == s.gen.Load().store {
		t.Fatal("generation 3 did not start a key store of its own")
	}
	g2.Release()
	if !isClosed(g2.closed) {
		t.Fatal("generation 2 not closed after its last release")
	}
	// The closed store refuses a refresh; the current one is open.
	if err := g2.store.Refresh(context.Background(), "https://i.example"); err == nil {
		t.Error("generation 2's key store is still open")
	}
	if err := s.gen.Load().store.Refresh(context.Background(), "https://i.example"); err != nil {
		t.Errorf("current key store: %v", err)
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestGenerationStripedRefs: uses begun and ended on different shards of
// the striped count (other goroutines, other stack depths), racing with
// retirement, close a retired generation exactly when the last one ends.
func TestGenerationStripedRefs(t *testing.T) {
	var deep func(n int, fn func())
	deep = func(n int, fn func()) { // another stack depth, most likely another shard
		if n > 0 {
			deep(n-1, fn)
			return
		}
		fn()
	}
	for round := 0; round < 50; round++ {
		g := newGeneration(1, nil, nil, nil)
		const users = 8
		var started, others sync.WaitGroup
		releaseOthers, releaseLast := make(chan struct{}), make(chan struct{})
		lastDone := make(chan struct{})
		for u := 0; u < users; u++ {
			started.Add(1)
			if u > 0 {
				others.Add(1)
			}
			go func() {
				deep(u*40, func() { g.refs.add(1) })
				started.Done()
				if u == 0 {
					<-releaseLast
					deep(3, g.Release)
					close(lastDone)
					return
				}
				<-releaseOthers
				deep(u*7+round%5, g.Release)
				others.Done()
			}()
		}
		started.Wait()
		go g.retire(true) // keepStore: no store to close
		close(releaseOthers)
		others.Wait()
		if isClosed(g.closed) {
			t.Fatalf("round %d: closed while a use is still going on", round)
		}
		close(releaseLast)
		<-lastDone
		select {
		case <-g.closed:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: not closed after the last use ended", round)
		}
	}
}
