package server

import "time"

// Deadlines applied lazily. fasthttp sets three deadlines on every request
// of a keep-alive connection: the idle timeout before it waits for the
// request's first byte, the read timeout once that byte has come, and the
// write timeout before it writes the answer. Each is a change to one of the
// runtime's timers, about a tenth of a microsecond on a loaded core, three
// times per request, and under load almost none of them ever matters: the
// whole request comes in the read that brings its first byte, so the read
// timeout guards no further read, and the deadlines of consecutive requests
// differ by microseconds.
//
// A connection of the server (see lingerConn) therefore only records the
// deadline it is asked for, and applies it just before its next Read or
// Write, and only then if the deadline the connection has is not already
// good enough: the same, or earlier by less than the connection's slack. A
// deadline is thus honoured as asked, or at most slack sooner, never later;
// a read deadline nothing reads under costs nothing.

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

// lazyDeadline is one direction's deadline: the one asked for, and the one
// the connection has.
type lazyDeadline struct {
	want    time.Time
	applied time.Time
}

// due reports whether want must be applied before the next Read (Write):
// it removes the deadline or sets the first one, it is earlier than the
// applied one, or it is later by slack or more.
func (d *lazyDeadline) due(slack time.Duration) bool {
	if d.want.Equal(d.applied) {
		return false
	}
	if d.want.IsZero() || d.applied.IsZero() {
		return true
	}
	return d.want.Before(d.applied) || d.want.Sub(d.applied) >= slack
}

// SetDeadline records t as the deadline of the next Read and Write (see
// lazyDeadline). Unlike a net.Conn's, it does not unblock a Read or Write
// in progress in another goroutine: fasthttp sets deadlines only from the
// goroutine that serves the connection, and no one else sets them.
func (c *lingerConn) SetDeadline(t time.Time) error {
	c.read.want, c.write.want = t, t
	return nil
}

// SetReadDeadline records t as the deadline of the next Read.
func (c *lingerConn) SetReadDeadline(t time.Time) error {
	c.read.want = t
	return nil
}

// SetWriteDeadline records t as the deadline of the next Write.
func (c *lingerConn) SetWriteDeadline(t time.Time) error {
	c.write.want = t
	return nil
}

// Read reads from the connection, under the read deadline last set.
func (c *lingerConn) Read(p []byte) (int, error) {
	if c.read.due(c.slack) {
		if err := c.Conn.SetReadDeadline(c.read.want); err != nil {
			return 0, err
		}
		c.read.applied = c.read.want
	}
	return c.Conn.Read(p)
}

// Write writes to the connection, under the write deadline last set.
func (c *lingerConn) Write(p []byte) (int, error) {
	if c.write.due(c.slack) {
		if err := c.Conn.SetWriteDeadline(c.write.want); err != nil {
			return 0, err
		}
		c.write.applied = c.write.want
	}
	return c.Conn.Write(p)
}
