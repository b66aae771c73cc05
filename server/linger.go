package server

import (
	"io"
	"net"
	"sync/atomic"
	"time"
)

// Lingering close bounds: how long, and how many bytes, a connection closed
// after a refused request (see lingerConn) keeps reading what its client is
// still sending. nginx's lingering_close uses 5 s between reads and 30 s in
// all; a refused request on a verify endpoint deserves far less.
const (
	lingerTime  = time.Second
	lingerBytes = 256 << 10
)

// lingerConn closes, when asked to linger, the way nginx's lingering_close
// does. fasthttp refuses a request it cannot read (header block or body over
// the limits, malformed HTTP) by answering and closing at once, with the
// rest of the request still unread; the kernel then resets the connection,
// and a reset that reaches the client before it reads the answer destroys
// the answer: the client (nginx, Caddy) sees a broken connection, not 431 or
// 413. A lingering close sends the answer and FIN, then reads and discards
// what the client still sends until it closes too, for at most lingerTime
// and lingerBytes, and only then closes.
//
// It also keeps the server's timeouts itself, applying each deadline
// lazily (see deadline.go).
type lingerConn struct {
	net.Conn
	linger atomic.Bool
	limits *connLimits
	clock  connClock
	// inRequest: a request's first bytes have come and it is not read
	// whole yet (see requestRead); requestDeadline is then its read deadline.
	inRequest       bool
	answered        bool  // a request was read whole: a wait is the idle one
	requestDeadline int64 // ticks (see connClock)
	read, write     lazyDeadline
}

// lingerOnClose asks c, if it is a lingerConn, to linger when it is closed.
func lingerOnClose(c net.Conn) {
	if lc, ok := c.(*lingerConn); ok {
		lc.linger.Store(true)
	}
}

func (c *lingerConn) Close() error {
	if c.linger.Swap(false) {
		c.drain()
	}
	return c.Conn.Close()
}

// drain half-closes c and discards what its peer sends until the peer
// closes, or the bounds are reached.
func (c *lingerConn) drain() {
	hc, ok := c.Conn.(interface{ CloseWrite() error })
	if !ok || hc.CloseWrite() != nil {
		return
	}
	if c.Conn.SetReadDeadline(time.Now().Add(lingerTime)) != nil {
		return
	}
	io.CopyN(io.Discard, c.Conn, lingerBytes) //nolint:errcheck // EOF, deadline or reset: all end the linger
}
