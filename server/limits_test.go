package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// TestLimitsOverTheWire checks the request bounds on a real listener: an
// oversized token is a 401 like any bad token; a header block or a /verify
// body beyond its cap is refused by the HTTP layer (431, 413) before any
// handler runs; nothing is a 5xx.
func TestLimitsOverTheWire(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  max_header_bytes: 17408\n  max_verify_body_bytes: 16448\n")
	addr := f.serve(t)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + addr
	do := func(method, path, auth, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body) //nolint:errcheck
		return resp.StatusCode, resp.Header.Get("WWW-Authenticate")
	}
	// The refusal states the cap and the setting that raises it.
	const tooLarge = "token is over the 16384-byte cap (limits.max_token_bytes raises it)"
	if code, ch := do("GET", "/auth", "Bearer "+strings.Repeat("a", 16<<10+1), ""); code != 401 || !strings.Contains(ch, `error_description="`+tooLarge+`"`) {
		t.Errorf("token over max_token_bytes: %d %q", code, ch)
	}
	if code, _ := do("GET", "/auth", "Bearer "+strings.Repeat("a", 40<<10), ""); code != 431 {
		t.Errorf("header block over max_header_bytes: %d", code)
	}
	if code, _ := do("POST", "/verify", "", strings.Repeat("a", 16448+1)); code != 413 {
		t.Errorf("/verify body over max_verify_body_bytes: %d", code)
	}
	if code, _ := do("POST", "/verify", "", strings.Repeat("a", 16<<10+1)); code != 401 {
		t.Errorf("oversized token in /verify: %d", code)
	}
	if code, _ := do("GET", "/auth", "Bearer "+f.token(t), ""); code != 200 {
		t.Errorf("valid token after the refusals: %d", code)
	}
}

// TestRefusalReachesAClientStillSending sends requests the HTTP layer refuses
// before reading them whole — a header block over max_header_bytes, a /verify
// body over max_verify_body_bytes — and reads the answer only after the whole
// request is written and has had time to arrive. A server that closed with
// unread bytes in its socket would reset the connection and the client (an
// nginx, a Caddy) would see a broken connection instead of 431 or 413; the
// server must instead half-close and drain (lingering close) so the answer
// arrives.
func TestRefusalReachesAClientStillSending(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  max_header_bytes: 17408\n  max_verify_body_bytes: 16448\n")
	addr := f.serve(t)
	cases := []struct {
		name, request, status string
	}{
		{"header block over the cap",
			"GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + strings.Repeat("a", 40<<10) + "\r\n\r\n",
			"HTTP/1.1 431 "},
		{"verify body over the cap",
			"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 65536\r\n\r\n" + strings.Repeat("a", 64<<10),
			"HTTP/1.1 413 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
			if _, err := io.WriteString(c, tc.request); err != nil {
				t.Fatalf("writing the request: %v", err)
			}
			// Let the server read what it reads, answer and close: a reset
			// it sends now would arrive before the client reads.
			time.Sleep(100 * time.Millisecond)
			answer, err := io.ReadAll(c)
			if err != nil {
				t.Fatalf("reading the answer: %v (read %q)", err, answer)
			}
			if !strings.HasPrefix(string(answer), tc.status) {
				t.Fatalf("answer %q, want %q", answer, tc.status)
			}
		})
	}
}

// TestLingerIsBounded: a client that goes on sending after its request was
// refused gets the answer and FIN at once, and the server closes the
// connection for good within the linger bounds rather than reading forever.
func TestLingerIsBounded(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  max_header_bytes: 17408\n")
	addr := f.serve(t)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(c, "GET /auth HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 40<<10)); err != nil {
		t.Fatal(err)
	}
	answer, err := io.ReadAll(c) // ends at the server's FIN, sent before it lingers
	if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 431 ") {
		t.Fatalf("answer %q, %v", answer, err)
	}
	chunk := []byte(strings.Repeat("b", 32<<10))
	for sent := 0; ; sent += len(chunk) {
		if _, err := c.Write(chunk); err != nil {
			return // the server stopped lingering and closed: reset
		}
		if sent > 64<<20 {
			t.Fatalf("the server read %d bytes after refusing the request and still reads", sent)
		}
	}
}

// TestTimeoutsHold: with the timeouts kept by the connections (fasthttp's
// are off) and their deadlines applied lazily (only before the read or
// write they bound), a client that stalls halfway through its header block,
// on its first request or a later one, or sends nothing, still gets 408
// after limits.read_timeout, and a keep-alive connection left idle is still
// closed after limits.idle_timeout.
func TestTimeoutsHold(t *testing.T) {
	f := newFixture(t, engine.HS256, "limits:\n  read_timeout: 300ms\n  idle_timeout: 300ms\n")
	addr := f.serve(t)
	tok := f.token(t)
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(20 * time.Second)) //nolint:errcheck // the test's own bound, far above the server's
		return c
	}
	request := "GET /auth HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + tok + "\r\n\r\n"
	// timedOut sends stalled (if any) on c and reads the rest from r: 408,
	// then the connection closed.
	timedOut := func(t *testing.T, c net.Conn, r io.Reader, stalled string) {
		t.Helper()
		if _, err := io.WriteString(c, stalled); err != nil {
			t.Fatal(err)
		}
		answer, err := io.ReadAll(r)
		if err != nil || !strings.HasPrefix(string(answer), "HTTP/1.1 408 ") {
			t.Fatalf("answer %q, %v; want 408 and the connection closed", answer, err)
		}
	}
	t.Run("stalled header", func(t *testing.T) {
		c := dial(t)
		// A request answered first, so that the stalled one is a keep-alive
		// request whose read deadline replaces the idle one.
		if _, err := io.WriteString(c, request); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("first request: %v, %v", resp, err)
		}
		resp.Body.Close()
		timedOut(t, c, br, "GET /auth HTTP/1.1\r\nHost: x\r\n")
	})
	t.Run("stalled first request", func(t *testing.T) {
		c := dial(t)
		timedOut(t, c, c, "GET /auth HTTP/1.1\r\nHost: x\r\n")
	})
	t.Run("silent connection", func(t *testing.T) {
		c := dial(t)
		timedOut(t, c, c, "") // fasthttp answers a first request that never came 408
	})
	t.Run("idle", func(t *testing.T) {
		c := dial(t)
		for range 3 {
			if _, err := io.WriteString(c, request); err != nil {
				t.Fatal(err)
			}
		}
		br := bufio.NewReader(c)
		for i := range 3 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("request %d: %v, %v", i, resp, err)
			}
			resp.Body.Close()
		}
		rest, err := io.ReadAll(br)
		if err != nil || len(rest) != 0 {
			t.Fatalf("after the answers: %q, %v; want the connection closed", rest, err)
		}
	})
}
