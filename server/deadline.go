package server

import (
	"net"
	"time"

	"github.com/jwtgate/jwtgate/internal/ticks"
)

// Deadlines kept by the connection, applied lazily. A keep-alive
// connection has three deadlines per request: the idle timeout while it
// waits for the request's first byte (the read timeout for its first
// request), the read timeout from that byte until the request is read
// whole, and the write timeout for the answer. fasthttp would set each
// itself, reading the system clock for it (time.Now, two vDSO calls) and
// changing one of the runtime's timers, three times per request: 0.4–0.5 µs
// of CPU per request under wrk, and under load almost none of it ever
// matters: the whole request comes in the read that brings its first byte,
// and the deadlines of consecutive requests differ by microseconds.
//
// The server's fasthttp.Server therefore has no timeouts of its own; a
// connection of the server (lingerConn) keeps them (connLimits). It tells a
// wait for a request from a read inside one by its Reads (the first bytes
// end the wait) and by the handler (requestRead: the request is read whole),
// reads the time from the time-stamp counter (connClock), and applies a
// deadline just before the Read or Write it bounds, and only if the one the
// connection has is not already good enough: the same, or earlier by less
// than the slack. A deadline is thus honoured as due, or at most slack
// sooner (plus connClock's error, below 0.1 ms), never later.

// deadlineSlackDivisor: the slack of the server's connections is the
// shortest of limits.read_timeout, limits.write_timeout and
// limits.idle_timeout divided by this, so that every timeout is honoured to
// within 1% (100 ms with the defaults).
const deadlineSlackDivisor = 100

// deadlineSlack returns the slack for timeouts read, write and idle (a zero
// or negative one does not count; none: none).
func deadlineSlack(timeouts ...time.Duration) time.Duration {
	var least time.Duration
	for _, d := range timeouts {
		if d > 0 && (least == 0 || d < least) {
			least = d
		}
	}
	return least / deadlineSlackDivisor
}

// lazyDeadline is one direction's deadline: the one due, and the one the
// connection has, in ticks of the connection's clock (see connClock); 0 is
// none.
type lazyDeadline struct {
	want    int64
	applied int64
}

// due reports whether want must be applied before the next Read (Write):
// it removes the deadline or sets the first one, it is earlier than the
// applied one, or it is later by slack or more.
func (d *lazyDeadline) due(slack int64) bool {
	if d.want == d.applied {
		return false
	}
	if d.want == 0 || d.applied == 0 {
		return true
	}
	return d.want < d.applied || d.want-d.applied >= slack
}

// connLimits are the timeouts of a server's connections (zero: none) and
// the slack of their deadlines, shared by all of them, in ticks of clock.
type connLimits struct {
	clock             ticks.Clock
	read, write, idle int64
	slack             int64
	anchor            int64 // anchorPeriod
}

func newConnLimits(read, write, idle time.Duration) *connLimits {
	c := ticks.Counter()
	in := func(d time.Duration) int64 {
		if d <= 0 {
			return 0
		}
		return max(c.Ticks(d), 1)
	}
	return &connLimits{clock: c, read: in(read), write: in(write), idle: in(idle),
		slack: c.Ticks(deadlineSlack(read, write, idle)), anchor: c.Ticks(anchorPeriod)}
}

// anchorPeriod is how long a connClock converts ticks to times from one
// reading of the system clock before it reads it again: the counter's rate
// is known to 0.01% (ticks.Counter), so a time is off by at most 0.1 ms,
// far below any slack.
const anchorPeriod = time.Second

// connClock turns a connection's deadlines, kept in ticks of the
// time-stamp counter (about 8 ns a reading, where the system clock costs
// two vDSO calls), into the times a net.Conn takes, only when one is
// applied: from a reading of the system clock (the anchor) and the ticks
// since.
type connClock struct {
	wall time.Time // the anchor (zero: none yet)
	at   int64     // the counter at the anchor
}

// anchored re-reads the anchor when it is older than anchorPeriod.
func (c *connClock) anchored(l *connLimits) {
	if d := l.clock.Now() - c.at; c.wall.IsZero() || d < 0 || d >= l.anchor {
		c.wall, c.at = time.Now(), l.clock.Now()
	}
}

// time returns the time of deadline t (ticks; 0: none, the zero time).
func (c *connClock) time(l *connLimits, t int64) time.Time {
	if t == 0 {
		return time.Time{}
	}
	c.anchored(l)
	return c.wall.Add(l.clock.Duration(t - c.at))
}

// ticks returns the deadline of time t (the zero time: none, 0).
func (c *connClock) ticks(l *connLimits, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	c.anchored(l)
	return max(c.at+l.clock.Ticks(t.Sub(c.wall)), 1)
}

// after returns the deadline d ticks from now (0, none, when d is 0).
func (c *lingerConn) after(d int64) int64 {
	if d == 0 {
		return 0
	}
	return c.limits.clock.Now() + d
}

// requestRead tells c, if it is a connection of the server, that its
// request has been read whole: its next Read waits for another request.
// The handler calls it: a Write does not tell, as fasthttp may write
// "100 Continue" in the middle of a request.
func requestRead(c net.Conn) {
	if lc, ok := c.(*lingerConn); ok {
		lc.inRequest, lc.answered = false, true
	}
}

// Read reads under the deadline due: the wait's (the idle timeout, the read
// timeout before the first request) or, once the request's first bytes have
// come, the read timeout from them.
func (c *lingerConn) Read(p []byte) (int, error) {
	if c.inRequest {
		c.read.want = c.requestDeadline
	} else {
		wait := c.limits.read // fasthttp's rule: the first request's first byte under the read timeout
		if c.answered && c.limits.idle != 0 {
			wait = c.limits.idle
		}
		c.read.want = c.after(wait)
	}
	if c.read.due(c.limits.slack) {
		if err := c.Conn.SetReadDeadline(c.clock.time(c.limits, c.read.want)); err != nil {
			return 0, err
		}
		c.read.applied = c.read.want
	}
	n, err := c.Conn.Read(p)
	if n > 0 && !c.inRequest {
		c.inRequest = true
		c.requestDeadline = c.after(c.limits.read)
	}
	return n, err
}

// Write writes under the write timeout from now.
func (c *lingerConn) Write(p []byte) (int, error) {
	c.write.want = c.after(c.limits.write)
	if c.write.due(c.limits.slack) {
		if err := c.Conn.SetWriteDeadline(c.clock.time(c.limits, c.write.want)); err != nil {
			return 0, err
		}
		c.write.applied = c.write.want
	}
	return c.Conn.Write(p)
}

// SetDeadline sets both deadlines of the connection at once; they hold
// until its next Read or Write sets the one due (see Read).
func (c *lingerConn) SetDeadline(t time.Time) error {
	c.read.applied = c.clock.ticks(c.limits, t)
	c.write.applied = c.read.applied
	return c.Conn.SetDeadline(t)
}

// SetReadDeadline sets the read deadline at once, until the next Read.
func (c *lingerConn) SetReadDeadline(t time.Time) error {
	c.read.applied = c.clock.ticks(c.limits, t)
	return c.Conn.SetReadDeadline(t)
}

// SetWriteDeadline sets the write deadline at once, until the next Write.
func (c *lingerConn) SetWriteDeadline(t time.Time) error {
	c.write.applied = c.clock.ticks(c.limits, t)
	return c.Conn.SetWriteDeadline(t)
}
