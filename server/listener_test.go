package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// fakeListener returns its errors from Accept, in order, then conn, then
// net.ErrClosed.
type fakeListener struct {
	errs []error
	conn net.Conn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if l.conn != nil {
		c := l.conn
		l.conn = nil
		return c, nil
	}
	return nil, net.ErrClosed
}
func (l *fakeListener) Close() error   { return nil }
func (l *fakeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)} }

// acceptError is an accept error the way the net package reports one.
func acceptError(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

func TestListenerBacksOffTemporaryErrors(t *testing.T) {
	var errs []error
	for i := 0; i < 12; i++ {
		errs = append(errs, acceptError(syscall.EMFILE))
	}
	errs = append(errs, acceptError(syscall.ENFILE), acceptError(syscall.ENOBUFS), acceptError(syscall.ENOMEM), acceptError(syscall.ECONNABORTED))
	server, client := net.Pipe()
	defer client.Close()
	var logs strings.Builder
	set := metrics.NewSet()
	l := newListener(&fakeListener{errs: errs, conn: server}, slog.New(slog.NewTextHandler(&logs, nil)), set.NewCounter("accept_errors"), newConnLimits(0, 0, 0))
	var slept []time.Duration
	l.sleep = func(d time.Duration, _ <-chan struct{}) bool { slept = append(slept, d); return true }

	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after temporary errors: %v", err)
	}
	if _, ok := c.(*lingerConn); !ok {
		t.Errorf("accepted %T, want *lingerConn", c)
	}
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}
	if len(slept) != len(want) {
		t.Fatalf("slept %v, want %d sleeps", slept, len(want))
	}
	for i, d := range want {
		if slept[i] != d*time.Millisecond {
			t.Errorf("sleep %d: %v, want %v", i, slept[i], d*time.Millisecond)
		}
	}
	if got := l.errors.Get(); got != uint64(len(errs)) {
		t.Errorf("accept error counter %d, want %d", got, len(errs))
	}
	// One line for the first error; the rest come within acceptLogEvery.
	if n := strings.Count(logs.String(), "accepting connections failed"); n != 1 {
		t.Errorf("%d log lines, want 1:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "too many open files") {
		t.Errorf("log does not name the error:\n%s", logs.String())
	}

	// The backoff starts again at the minimum after a success.
	l.Listener = &fakeListener{errs: []error{acceptError(syscall.EMFILE)}, conn: server}
	slept = nil
	if _, err := l.Accept(); err != nil || len(slept) != 1 || slept[0] != acceptDelayMin {
		t.Errorf("after a success: err %v, slept %v, want one sleep of %v", err, slept, acceptDelayMin)
	}
}

func TestListenerLogIsRateLimited(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	var logs strings.Builder
	l := newListener(&fakeListener{}, slog.New(slog.NewTextHandler(&logs, nil)), metrics.NewSet().NewCounter("e"), newConnLimits(0, 0, 0))
	l.now = func() time.Time { return now }
	err := acceptError(syscall.EMFILE)
	for i := 0; i < 5; i++ {
		l.logAcceptError(err, acceptDelayMin)
		now = now.Add(time.Second)
	}
	now = now.Add(acceptLogEvery)
	l.logAcceptError(err, acceptDelayMax)
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "errors=1") || !strings.Contains(lines[1], "errors=5") {
		t.Errorf("log lines, want 2 (errors=1, then errors=5 for the 4 unlogged and this one):\n%s", logs.String())
	}
}

func TestListenerReturnsPermanentErrors(t *testing.T) {
	permanent := errors.New("listener broken")
	l := newListener(&fakeListener{errs: []error{permanent}}, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.NewSet().NewCounter("e"), newConnLimits(0, 0, 0))
	l.sleep = func(time.Duration, <-chan struct{}) bool { t.Error("slept on a permanent error"); return true }
	if _, err := l.Accept(); err != permanent {
		t.Errorf("Accept: %v, want %v", err, permanent)
	}
	if l.errors.Get() != 0 {
		t.Errorf("permanent error counted as temporary")
	}
}

// TestListenerCloseEndsBackoff: Close during a backoff makes Accept return
// net.ErrClosed (which fasthttp's Serve takes as its end) at once, with the
// real sleep.
func TestListenerCloseEndsBackoff(t *testing.T) {
	errs := make([]error, 100)
	for i := range errs {
		errs[i] = acceptError(syscall.EMFILE)
	}
	l := newListener(&fakeListener{errs: errs}, slog.New(slog.NewTextHandler(io.Discard, nil)), metrics.NewSet().NewCounter("e"), newConnLimits(0, 0, 0))
	sleeping := make(chan struct{}, 100)
	l.sleep = func(d time.Duration, closed <-chan struct{}) bool {
		sleeping <- struct{}{}
		return sleepOrClosed(time.Hour, closed)
	}
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	<-sleeping
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not end the backoff")
	}
}

func TestTemporaryAcceptError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{acceptError(syscall.EMFILE), true},
		{acceptError(syscall.ENFILE), true},
		{acceptError(syscall.ENOBUFS), true},
		{acceptError(syscall.ENOMEM), true},
		{acceptError(syscall.ECONNABORTED), true},
		{fmt.Errorf("wrapped: %w", syscall.EMFILE), true},
		{os.ErrDeadlineExceeded, true},
		{acceptError(syscall.EINVAL), false},
		{net.ErrClosed, false},
		{io.EOF, false},
	} {
		if got := temporaryAcceptError(tc.err); got != tc.want {
			t.Errorf("temporaryAcceptError(%v) = %t, want %t", tc.err, got, tc.want)
		}
	}
}

func TestConnectionCap(t *testing.T) {
	for _, tc := range []struct {
		concurrency, headroom int
		limit                 uint64
		want                  int
	}{
		{65536, 64, 1024, 960},
		{65536, 64, 0, 65536},       // limit unknown
		{500, 64, 1024, 500},        // configured below the limit
		{65536, 64, 1 << 62, 65536}, // unlimited
		{65536, 64, 100, 50},        // too low for the headroom: half
		{65536, 64, 1, 1},           // never 0
		{65536, 1000, 1048576, 65536},
	} {
		if got := connectionCap(tc.concurrency, tc.headroom, tc.limit); got != tc.want {
			t.Errorf("connectionCap(%d, %d, %d) = %d, want %d", tc.concurrency, tc.headroom, tc.limit, got, tc.want)
		}
	}
}
