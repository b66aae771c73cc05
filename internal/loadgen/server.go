package loadgen

import (
	"errors"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Server is a fasthttp server on a loopback port, for load runs in one
// process.
type Server struct {
	// Addr is the listening address, "127.0.0.1:PORT".
	Addr string
	// URL is "http://127.0.0.1:PORT".
	URL string

	srv  *fasthttp.Server
	ln   net.Listener
	done chan error
}

// Serve starts srv on 127.0.0.1 at a free port. The caller keeps srv's
// settings (handler, timeouts); Close shuts it down.
func Serve(srv *fasthttp.Server) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: ln.Addr().String(), srv: srv, ln: ln, done: make(chan error, 1)}
	s.URL = "http://" + s.Addr
	go func() { s.done <- srv.Serve(ln) }()
	return s, nil
}

// StartCeiling starts the ceiling server: a bare fasthttp handler that
// answers every request with an empty 200, the fastest any fasthttp server
// on this machine can be. Load runs compare other servers to it.
func StartCeiling() (*Server, error) {
	return Serve(&fasthttp.Server{
		Handler:               CeilingHandler,
		Name:                  "ceiling",
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           30 * time.Second,
		// The worker pool's cleaner notices Shutdown only when it wakes up:
		// keep that short so a closed server leaves no goroutine behind.
		MaxIdleWorkerDuration: time.Second,
	})
}

// CeilingHandler answers 200 with an empty body.
func CeilingHandler(ctx *fasthttp.RequestCtx) { ctx.SetStatusCode(fasthttp.StatusOK) }

// Close stops accepting, closes idle connections, waits for in-flight
// requests and for the serving goroutine to return.
func (s *Server) Close() error {
	err := s.srv.Shutdown()
	if serveErr := <-s.done; serveErr != nil && !errors.Is(serveErr, net.ErrClosed) {
		err = errors.Join(err, serveErr)
	}
	return err
}
