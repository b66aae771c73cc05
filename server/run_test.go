package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// TestRunConcurrentRequestsAndShutdown drives a real listener from several
// goroutines — repeated tokens (cache hits racing on the identity
// attachment), distinct tokens (inserts) and bad ones — then stops the
// server through its context and checks that no goroutine is left behind.
func TestRunConcurrentRequestsAndShutdown(t *testing.T) {
	baseline := ourGoroutines()
	f := newFixture(t, engine.HS256, "")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx, ln) }()

	transport := &http.Transport{MaxIdleConnsPerHost: 8}
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	shared := f.token(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 150; i++ {
				tok, want, sub := shared, 200, "user-1234567890"
				switch i % 3 {
				case 1:
					sub = fmt.Sprintf("user-%d-%d", g, i)
					tok = f.token(t, func(c map[string]any) { c["sub"] = sub })
				case 2:
					tok, want = shared[:len(shared)-3]+"xyz", 401
				}
				req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/auth", nil)
				req.Header.Set("Authorization", "Bearer "+tok)
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != want || want == 200 && resp.Header.Get("X-Auth-Subject") != sub {
					errs <- fmt.Errorf("request %d: status %d subject %q, want %d %q", i, resp.StatusCode, resp.Header.Get("X-Auth-Subject"), want, sub)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// fasthttp counts a keep-alive connection as idle (closable by
	// Shutdown) only 5 s after it was opened: hang up first, as a proxy
	// would after its own idle timeout, to keep the test short.
	transport.CloseIdleConnections()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	deadline := time.Now().Add(10 * time.Second)
	for ourGoroutines() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, baseline %d:\n%s", ourGoroutines(), baseline, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}

// ourGoroutines counts goroutines, less fasthttp's process-wide date
// updater, which starts with the first server and never ends.
func ourGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.HasPrefix(g, "goroutine ") && !strings.Contains(g, "fasthttp.updateServerDate") {
			n++
		}
	}
	return n
}
