package server

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// Accept backoff bounds: after a temporary accept error the listener waits
// acceptDelayMin, doubling on each further error up to acceptDelayMax, as
// net/http's Server.Serve does.
const (
	acceptDelayMin = 5 * time.Millisecond
	acceptDelayMax = time.Second
	// acceptLogEvery is the least time between two log lines about accept
	// errors; the errors in between are counted in the next line.
	acceptLogEvery = 10 * time.Second
)

// listener is the server's net.Listener: it wraps every accepted connection
// in a lingerConn with the server's timeouts, and it never reports a temporary accept error (out of
// descriptors, kernel memory or buffers, a connection aborted before it was
// accepted) to fasthttp, which would end Serve on it: it backs off and
// accepts again, counting each error, until the error clears or the
// listener is closed.
type listener struct {
	net.Listener
	logger *slog.Logger
	errors *metrics.Counter // temporary accept errors
	limits *connLimits      // of every connection (see lingerConn)

	closeOnce sync.Once
	closed    chan struct{}

	// sleep waits d, or until closed is closed: then it reports false.
	sleep func(d time.Duration, closed <-chan struct{}) bool

	mu       sync.Mutex // guards the log state
	lastLog  time.Time
	unlogged int
	now      func() time.Time
}

func newListener(ln net.Listener, logger *slog.Logger, errs *metrics.Counter, limits *connLimits) *listener {
	return &listener{Listener: ln, logger: logger, errors: errs, limits: limits, closed: make(chan struct{}), sleep: sleepOrClosed, now: time.Now}
}

// Accept returns the next connection. A temporary error is retried after a
// growing delay; any other error is returned (net.ErrClosed once Close was
// called).
func (l *listener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err == nil {
			return &lingerConn{Conn: c, limits: l.limits}, nil
		}
		select {
		case <-l.closed:
			return nil, net.ErrClosed
		default:
		}
		if !temporaryAcceptError(err) {
			return nil, err
		}
		l.errors.Inc()
		if delay == 0 {
			delay = acceptDelayMin
		} else if delay *= 2; delay > acceptDelayMax {
			delay = acceptDelayMax
		}
		l.logAcceptError(err, delay)
		if !l.sleep(delay, l.closed) {
			return nil, net.ErrClosed
		}
	}
}

// Close closes the listener and ends a backoff in progress.
func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// logAcceptError logs err at most once per acceptLogEvery, with the number
// of errors since the last line.
func (l *listener) logAcceptError(err error, delay time.Duration) {
	l.mu.Lock()
	now := l.now()
	l.unlogged++
	if !l.lastLog.IsZero() && now.Sub(l.lastLog) < acceptLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.unlogged
	l.lastLog, l.unlogged = now, 0
	l.mu.Unlock()
	l.logger.Warn("accepting connections failed; retrying (raise the open-file limit with ulimit -n, or limits.fd_headroom to refuse connections sooner)",
		"error", err, "errors", n, "retry_in", delay)
}

// temporaryAcceptError reports whether err, from Accept, is a condition to
// wait out rather than a broken listener: the process or the system is out
// of descriptors (EMFILE, ENFILE), the kernel is out of memory or buffers
// (ENOMEM, ENOBUFS), a client reset its connection before it was accepted
// (ECONNABORTED), or a deadline passed.
func temporaryAcceptError(err error) bool {
	for _, errno := range temporaryAcceptErrnos {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

var temporaryAcceptErrnos = []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED}

// sleepOrClosed waits d, or until closed is closed: then it reports false.
func sleepOrClosed(d time.Duration, closed <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-closed:
		return false
	}
}
