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
// fasthttp does (idle deadline, read, read deadline, write deadline, write):
// the connection's deadlines change once per slack, not three times per
// request.
func TestDeadlinesOncePerSlack(t *testing.T) {
	const read, write, idle = 10 * time.Second, 10 * time.Second, 120 * time.Second
	fake := &deadlineConn{}
	c := &lingerConn{Conn: fake, slack: deadlineSlack(read, write, idle)}
	if c.slack != 100*time.Millisecond {
		t.Fatalf("slack %v, want 100ms (1%% of the shortest timeout)", c.slack)
	}
	buf := make([]byte, 1)
	now := time.Now()
	for range 1000 { // 10 ms of requests
		now = now.Add(10 * time.Microsecond)
		c.SetReadDeadline(now.Add(idle))   //nolint:errcheck // records only
		c.Read(buf)                        //nolint:errcheck // the fake's never fails
		c.SetReadDeadline(now.Add(read))   //nolint:errcheck
		c.SetWriteDeadline(now.Add(write)) //nolint:errcheck
		c.Write(buf)                       //nolint:errcheck
	}
	if len(fake.reads) != 1 || len(fake.writes) != 1 {
		t.Errorf("%d read and %d write deadlines set for 1000 requests, want 1 and 1", len(fake.reads), len(fake.writes))
	}
}

// TestDeadlinesHonoured sets random deadlines — none, earlier, later by less
// and by more than the slack — and checks that each Read and Write runs
// under a deadline at most slack sooner than the one last asked for, never
// later, and with none only when none was asked for.
func TestDeadlinesHonoured(t *testing.T) {
	const slack = 100 * time.Millisecond
	fake := &deadlineConn{}
	c := &lingerConn{Conn: fake, slack: slack}
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Now()
	pick := func() time.Time {
		if rng.IntN(8) == 0 {
			return time.Time{}
		}
		return base.Add(time.Duration(rng.Int64N(int64(4 * slack))))
	}
	last := func(ts []time.Time) time.Time {
		if len(ts) == 0 {
			return time.Time{}
		}
		return ts[len(ts)-1]
	}
	check := func(op string, want, got time.Time) {
		t.Helper()
		switch {
		case want.IsZero() != got.IsZero():
			t.Fatalf("%s under deadline %v, asked for %v", op, got, want)
		case !want.IsZero() && (got.After(want) || got.Before(want.Add(-slack))):
			t.Fatalf("%s under deadline %v, asked for %v: more than %v sooner or later", op, got, want, slack)
		}
	}
	buf := make([]byte, 1)
	for range 10000 {
		switch rng.IntN(4) {
		case 0:
			c.SetReadDeadline(pick()) //nolint:errcheck // records only
		case 1:
			c.SetWriteDeadline(pick()) //nolint:errcheck
		case 2:
			c.SetDeadline(pick()) //nolint:errcheck
		}
		base = base.Add(time.Duration(rng.Int64N(int64(slack))))
		c.Read(buf)  //nolint:errcheck // the fake's never fails
		c.Write(buf) //nolint:errcheck
		check("Read", c.read.want, last(fake.reads))
		check("Write", c.write.want, last(fake.writes))
	}
}

// TestDeadlineErrorReachesRead: a deadline that cannot be set fails the
// Read it was for, as it would have failed the set.
func TestDeadlineErrorReachesRead(t *testing.T) {
	_, server := tcpPair(t)
	c := &lingerConn{Conn: server, slack: time.Second}
	server.Close()
	c.SetReadDeadline(time.Now().Add(time.Minute)) //nolint:errcheck // records only
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read on a closed connection: %v, want net.ErrClosed", err)
	}
}
