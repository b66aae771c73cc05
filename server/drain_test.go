package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// running is a server's Run in the background.
type running struct {
	addr   string
	cancel context.CancelFunc
	done   chan error
}

func runServer(t *testing.T, f *fixture, ln net.Listener) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{addr: ln.Addr().String(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- f.srv.Run(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		f.srv.Stop()
		<-r.done
	})
	return r
}

// wait returns Run's error, failing if it does not return in 30 s.
func (r *running) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
		return nil
	}
}

func loopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// roundTrip sends one request on c and reads its response.
func roundTrip(c net.Conn, br *bufio.Reader, req string) (*http.Response, error) {
	if _, err := io.WriteString(c, req); err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// TestDrainLosesNoRequest: keep-alive clients that send requests back to
// back and never retry lose nothing when the server is told to stop: every
// request sent gets a complete answer, the answers during the drain period
// carry "Connection: close", and each client then moves off. /readyz is 503
// (reason draining) as soon as the drain starts.
func TestDrainLosesNoRequest(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  drain_period: 1s\n")
	r := runServer(t, f, loopback(t))
	req := "GET /auth HTTP/1.1\r\nHost: jwtgate\r\nAuthorization: Bearer " + f.token(t) + "\r\n\r\n"

	const clients = 4
	var sent, answered, closed atomic.Int64
	var started sync.WaitGroup
	started.Add(clients)
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		go func() {
			var once sync.Once
			defer once.Do(started.Done) // on every return
			c, err := net.Dial("tcp", r.addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			br := bufio.NewReader(c)
			for n := 0; ; n++ {
				sent.Add(1)
				resp, err := roundTrip(c, br, req)
				if n == 20 {
					once.Do(started.Done) // under way: signal once every client is
				}
				if err != nil {
					errs <- fmt.Errorf("request %d: %w", n, err)
					return
				}
				answered.Add(1)
				if resp.StatusCode != 200 {
					errs <- fmt.Errorf("request %d: status %d", n, resp.StatusCode)
					return
				}
				if resp.Close {
					closed.Add(1)
					errs <- nil
					return
				}
			}
		}()
	}
	started.Wait()
	r.cancel() // SIGTERM
	select {
	case <-f.srv.DrainStarted():
	case <-time.After(20 * time.Second):
		t.Fatal("draining did not start")
	}
	if !f.srv.Draining() || f.srv.Ready() {
		t.Errorf("Draining %t, Ready %t; want draining and not ready", f.srv.Draining(), f.srv.Ready())
	}
	resp, err := http.Get("http://" + r.addr + "/readyz")
	if err != nil {
		t.Fatalf("/readyz while draining: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 503 || !strings.Contains(string(body), `"reason":"draining"`) || !resp.Close {
		t.Errorf("/readyz while draining: %d close=%t %s; want 503 with reason draining and Connection: close", resp.StatusCode, resp.Close, body)
	}
	for i := 0; i < clients; i++ {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a client got no answer with Connection: close")
		}
	}
	if err := r.wait(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	t.Logf("%d requests sent on %d keep-alive connections, %d answered", sent.Load(), clients, answered.Load())
	if sent.Load() != answered.Load() || closed.Load() != clients {
		t.Errorf("sent %d, answered %d, told to close %d of %d clients", sent.Load(), answered.Load(), closed.Load(), clients)
	}
	if _, err := net.Dial("tcp", r.addr); err == nil {
		t.Error("the server still accepts connections after Run returned")
	}
}

// TestStopEndsDrain: Stop (a second signal) ends a long drain period at
// once.
func TestStopEndsDrain(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  drain_period: 1h\n")
	r := runServer(t, f, loopback(t))
	r.cancel()
	select {
	case <-f.srv.DrainStarted():
	case <-time.After(20 * time.Second):
		t.Fatal("draining did not start")
	}
	f.srv.Stop()
	if err := r.wait(t); err != nil {
		t.Errorf("Run after Stop: %v", err)
	}
	if _, err := net.Dial("tcp", r.addr); err == nil {
		t.Error("the server still accepts connections after Stop")
	}
}

// TestNoDrainPeriod: with drain_period 0s Run stops accepting at once, and
// the server is unready from the start of the shutdown all the same.
func TestNoDrainPeriod(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  drain_period: 0s\n")
	r := runServer(t, f, loopback(t))
	r.cancel()
	if err := r.wait(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if !f.srv.Draining() || f.srv.Ready() {
		t.Errorf("after shutdown: draining %t, ready %t; want unready", f.srv.Draining(), f.srv.Ready())
	}
	if _, err := net.Dial("tcp", r.addr); err == nil {
		t.Error("the server still accepts connections after Run returned")
	}
}

// emfileListener fails its first accepts with EMFILE, as a process out of
// descriptors does.
type emfileListener struct {
	net.Listener
	failures atomic.Int32
}

func (l *emfileListener) Accept() (net.Conn, error) {
	if l.failures.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// TestServeSurvivesEMFILE: running out of descriptors delays accepting and
// is counted; it never ends Serve.
func TestServeSurvivesEMFILE(t *testing.T) {
	f := newFixture(t, engine.HS256, "")
	ln := &emfileListener{Listener: loopback(t)}
	ln.failures.Store(5)
	r := runServer(t, f, ln)
	client := &http.Client{Timeout: 20 * time.Second}
	req, _ := http.NewRequest("GET", "http://"+r.addr+"/auth", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t))
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("request after EMFILE: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request after EMFILE: %d, want 200", resp.StatusCode)
	}
	select {
	case err := <-r.done:
		r.done <- err
		t.Fatalf("Run returned on EMFILE: %v", err)
	default:
	}
	m := call(f.srv.Handler(), "GET", "/metrics", "")
	if !strings.Contains(m.body, "jwtgate_accept_errors_total 5\n") {
		t.Errorf("metrics do not count the 5 accept errors:\n%s", grepLines(m.body, "jwtgate_accept_errors_total"))
	}
	for _, name := range []string{"jwtgate_connections_open ", "jwtgate_connections_limit ", "jwtgate_connections_refused_total 0", "jwtgate_draining 0"} {
		if !strings.Contains(m.body, name) {
			t.Errorf("metrics lack %q", name)
		}
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
