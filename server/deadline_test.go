package server

import (
	"errors"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// tcpPair returns the two ends of a loopback TCP connection, closed when tb
// ends.
func tcpPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { client.Close() })
	server, err = ln.Accept()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { server.Close() })
	return client, server
}

// deadlineConn records the deadlines set on it; its Read and Write succeed
// at once.
type deadlineConn struct {
	net.Conn      // nil: only the methods below are called
	reads, writes []time.Time
}

func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.reads = append(c.reads, t)
	return nil
}

func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.writes = append(c.writes, t)
	return nil
}

func (c *deadlineConn) Read(p []byte) (int, error)  { return len(p), nil }
func (c *deadlineConn) Write(p []byte) (int, error) { return len(p), nil }

// TestDeadlinesOncePerSlack serves keep-alive requests back to back the way
// fasthttp does (read, the handler, write): the connection's deadlines
// change once per slack, not three times per request. The read deadline is
// set twice: the first request waits under the read timeout, the later ones
// under the idle timeout.
func TestDeadlinesOncePerSlack(t *testing.T) {
	fake := &deadlineConn{}
	c := &lingerConn{Conn: fake, limits: newConnLimits(10*time.Second, 10*time.Second, 120*time.Second)}
	if slack := c.limits.clock.Duration(c.limits.slack); slack < 99*time.Millisecond || slack > 101*time.Millisecond {
		t.Fatalf("slack %v, want 100ms (1%% of the shortest timeout)", slack)
	}
	buf := make([]byte, 1)
	for range 1000 {
		c.Read(buf) //nolint:errcheck // the fake's never fails
		requestRead(c)
		c.Write(buf) //nolint:errcheck
	}
	if len(fake.reads) != 2 || len(fake.writes) != 1 {
		t.Errorf("%d read and %d write deadlines set for 1000 requests, want 2 and 1", len(fake.reads), len(fake.writes))
	}
}

// TestDeadlinesHonoured runs random sequences of reads (the first bytes of
// a request, more of it), requests read whole, writes and deadlines set
// directly, and checks that each Read and Write runs under the deadline
// due — the wait's timeout from the wait's start (the read timeout before
// the first request, the idle timeout after), the read timeout from the
// request's first bytes, the write timeout from the write — or at most slack
// sooner, never later; none when that timeout is zero.
func TestDeadlinesHonoured(t *testing.T) {
	for _, lim := range []struct{ read, write, idle time.Duration }{
		{10 * time.Second, 10 * time.Second, 120 * time.Second},
		{time.Second, 0, 0},
		{0, time.Second, 5 * time.Second},
	} {
		fake := &deadlineConn{}
		limits := newConnLimits(lim.read, lim.write, lim.idle)
		c := &lingerConn{Conn: fake, limits: limits}
		rng := rand.New(rand.NewPCG(1, 2))
		last := func(ts []time.Time) time.Time {
			if len(ts) == 0 {
				return time.Time{}
			}
			return ts[len(ts)-1]
		}
		// within checks that deadline got is due after d from a moment in
		// [from, to] (zero for none when d is zero), or at most slack sooner.
		const clockError = time.Millisecond // connClock's, far above its 0.1 ms
		within := func(op string, got time.Time, d time.Duration, from, to time.Time) {
			t.Helper()
			if d == 0 {
				if !got.IsZero() {
					t.Fatalf("%v: %s under deadline %v, want none", lim, op, got)
				}
				return
			}
			lo, hi := from.Add(d-limits.clock.Duration(limits.slack)-clockError), to.Add(d+clockError)
			if got.Before(lo) || got.After(hi) {
				t.Fatalf("%v: %s under deadline %v, want one in [%v, %v]", lim, op, got, lo, hi)
			}
		}
		buf := make([]byte, 1)
		inRequest, answered := false, false
		var requestFrom, requestTo time.Time // when the request's first bytes came
		for range 5000 {
			switch rng.IntN(5) {
			case 0, 1:
				from := time.Now()
				c.Read(buf) //nolint:errcheck // the fake's never fails
				to := time.Now()
				if inRequest {
					within("a read in a request", last(fake.reads), lim.read, requestFrom, requestTo)
					break
				}
				wait := lim.read
				if answered && lim.idle > 0 {
					wait = lim.idle
				}
				within("a wait for a request", last(fake.reads), wait, from, to)
				inRequest, requestFrom, requestTo = true, from, to
			case 2:
				requestRead(c)
				inRequest, answered = false, true
			case 3:
				from := time.Now()
				c.Write(buf) //nolint:errcheck
				within("a write", last(fake.writes), lim.write, from, time.Now())
			case 4:
				c.SetReadDeadline(time.Now().Add(time.Duration(rng.Int64N(int64(time.Hour))))) //nolint:errcheck // the fake's never fails
			}
		}
	}
}

// TestConnClockFollowsSystemClock converts the counter's readings to
// times across several anchors, and times to ticks and back: within 1 ms
// of the system clock, and of the time.
func TestConnClockFollowsSystemClock(t *testing.T) {
	limits := newConnLimits(time.Second, 0, 0)
	limits.anchor = limits.clock.Ticks(3 * time.Millisecond)
	var c connClock
	for range 20 {
		before := time.Now()
		got := c.time(limits, limits.clock.Now())
		after := time.Now()
		if got.Before(before.Add(-time.Millisecond)) || got.After(after.Add(time.Millisecond)) {
			t.Fatalf("connection clock %v, system clock between %v and %v", got, before, after)
		}
		in := after.Add(7 * time.Second)
		if back := c.time(limits, c.ticks(limits, in)); back.Sub(in) > time.Millisecond || in.Sub(back) > time.Millisecond {
			t.Fatalf("%v to ticks and back: %v", in, back)
		}
		time.Sleep(time.Millisecond)
	}
	if c.time(limits, 0) != (time.Time{}) || c.ticks(limits, time.Time{}) != 0 {
		t.Error("no deadline does not convert to no deadline")
	}
}

// TestDeadlineErrorReachesRead: a deadline that cannot be set fails the
// Read it was for, as it would have failed the set.
func TestDeadlineErrorReachesRead(t *testing.T) {
	_, server := tcpPair(t)
	c := &lingerConn{Conn: server, limits: newConnLimits(time.Minute, 0, 0)}
	server.Close()
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on a closed connection: %v, want net.ErrClosed", err)
	}
}
