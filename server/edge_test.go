package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// rawExchange writes request to a new connection to addr in one write and
// reads every response until the server closes the connection. It fails the
// test if the connection does not end in a clean EOF within the deadline.
func rawExchange(t *testing.T, addr, request string) []*http.Response {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatalf("writing the request: %v", err)
	}
	// Responses are read as answers to the first request's method: a
	// response to HEAD has no body.
	method, _, _ := strings.Cut(request, " ")
	br := bufio.NewReader(c)
	var out []*http.Response
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out
		} else if err != nil {
			t.Fatalf("after %d responses: %v", len(out), err)
		}
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Fatalf("reading response %d: %v", len(out)+1, err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading the body of response %d: %v", len(out)+1, err)
		}
		resp.Body = io.NopCloser(strings.NewReader(string(body)))
		out = append(out, resp)
	}
}

// TestRawTargetRouting sends request targets over a real socket, byte for
// byte (Go's HTTP clients would clean them), and checks the exact status:
// anything whose raw path is /auth or under /auth/ is forward-auth (401
// without a token) whatever it decodes or normalizes to, the other
// endpoints answer only their exact raw path, and the rest is 404 — or 400
// where fasthttp refuses the request line. No case is 200 without a token.
func TestRawTargetRouting(t *testing.T) {
	f, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	addr := f.serve(t)
	cases := []struct {
		method, target string
		status         int
	}{
		// Paths that normalize out of /auth are still forward-auth.
		{"GET", "/auth/../healthz", 401},
		{"GET", "/auth/..%2fhealthz", 401},
		{"GET", "/auth/..%2Fhealthz", 401},
		{"GET", "/auth/x/..%2f..%2fhealthz", 401},
		{"GET", "/auth/%2E%2E/healthz", 401},
		{"GET", "/auth/%2e%2e/healthz", 401},
		{"GET", "/auth/%2e%2e%2fhealthz", 401},
		{"GET", "/auth/../metrics", 401},
		{"GET", "/auth/../readyz", 401},
		{"GET", "/auth/../.well-known/jwks.json", 401},
		{"GET", "/auth/..\\healthz", 401},
		{"GET", "/auth/..%5chealthz", 401},
		{"GET", "/auth//../../healthz", 401},
		{"GET", "/auth/;/../healthz", 401},
		{"GET", "/auth/..;/healthz", 401},
		{"GET", "/auth/%00/../healthz", 401},
		{"GET", "/auth/%c0%ae%c0%ae/healthz", 401},
		{"GET", "/auth/%zz", 401},
		{"GET", "/auth/%4", 401},
		{"GET", "/auth?x", 401},
		{"GET", "/auth?/../healthz", 401},
		{"GET", "/auth/", 401},
		{"POST", "/auth/../verify", 401},
		{"DELETE", "/auth/x", 401},
		// Absolute form: the raw path after the authority, not normalized.
		{"GET", "http://h/auth/../healthz", 401},
		{"GET", "http://h/auth/..%2fhealthz", 401},
		{"GET", "HTTP://h:80/auth/../metrics", 401},
		{"GET", "http://h/healthz", 200},
		{"GET", "http://h/x/../healthz", 404},
		{"GET", "http://h", 404},
		{"GET", "http://h?/healthz", 404},
		// Not /auth: the prefix must end at '/', '?' or the end, exactly.
		{"GET", "/auth%2f..%2fhealthz", 404},
		{"GET", "/auth%2F..%2Fhealthz", 404},
		{"GET", "//auth/../healthz", 404},
		{"GET", "/AUTH", 404},
		{"GET", "/Auth/../healthz", 404},
		{"GET", "/auth..", 404},
		{"GET", "/authx", 404},
		{"GET", "/auth#x", 404},
		{"GET", "/auth;x/../healthz", 404},
		{"GET", "/auth\\..\\healthz", 404},
		{"GET", "/%61uth", 404},
		{"GET", "/./auth", 404},
		// Other endpoints: exact raw paths only.
		{"GET", "/healthz", 200},
		{"HEAD", "/healthz", 200},
		{"GET", "/healthz?probe=1", 200},
		{"GET", "/healthz/", 404},
		{"GET", "/healthz/.", 404},
		{"GET", "/HEALTHZ", 404},
		{"GET", "/%68ealthz", 404},
		{"GET", "/healthz%2f", 404},
		{"GET", "//healthz", 404},
		{"GET", "/./healthz", 404},
		{"GET", "/x/../healthz", 404},
		{"GET", "/healthz;x", 404},
		{"GET", "/healthz#x", 404},
		{"GET", "/readyz", 200},
		{"GET", "/metrics", 200},
		{"GET", "/metrics/../healthz", 404},
		{"GET", "/.well-known/jwks.json", 200},
		{"GET", "/.well-known/../.well-known/jwks.json", 404},
		{"GET", "/verify", 405},
		{"GET", "/verify/", 404},
		{"GET", "/verify/../healthz", 404},
		{"POST", "/healthz", 405},
		{"PUT", "/metrics", 405},
		{"DELETE", "/readyz", 405},
		{"POST", "/.well-known/jwks.json", 405},
		// Not origin form.
		{"OPTIONS", "*", 404},
		{"GET", "auth", 400},
		{"GET", "/auth/\x00/../healthz", 400},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			got := rawExchange(t, addr, tc.method+" "+tc.target+" HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
			if len(got) != 1 {
				t.Fatalf("%d responses, want 1", len(got))
			}
			if got[0].StatusCode != tc.status {
				t.Fatalf("status %d, want %d", got[0].StatusCode, tc.status)
			}
			if got[0].StatusCode == 405 && got[0].Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
		})
	}
	// With a valid token a path that leaves /auth is forward-auth too: 200
	// with the identity, never the body of /healthz.
	got := rawExchange(t, addr, "GET /auth/..%2fhealthz HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer "+f.tok+"\r\nConnection: close\r\n\r\n")
	if len(got) != 1 || got[0].StatusCode != 200 || got[0].Header.Get("X-Auth-Subject") == "" {
		t.Fatalf("valid token: %+v", got)
	}
}

// TestSmuggledRequestNeverAnswered sends, in one write, a request whose
// framing is ambiguous (RFC 9112 §6.1, §6.3) followed by a second request — a
// token-less one, or one with a valid token after a token-less first — that
// a proxy framing by the other rule would take for a body. The server must
// answer exactly once, 400 with Connection: close, and close: the request
// hidden in the body is never answered.
func TestSmuggledRequestNeverAnswered(t *testing.T) {
	f, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	addr := f.serve(t)
	const body = "0\r\n\r\n"
	cases := []struct{ name, proto, headers string }{
		{"content-length and chunked", "HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"},
		{"chunked and content-length", "HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"},
		{"lower-case names", "HTTP/1.1", "transfer-encoding: chunked\r\ncontent-length: 5\r\n"},
		{"upper-case coding", "HTTP/1.1", "Transfer-Encoding: CHUNKED\r\n"},
		{"mixed-case coding", "HTTP/1.1", "Transfer-Encoding: Chunked\r\n"},
		{"tab before chunked", "HTTP/1.1", "Transfer-Encoding:\tchunked\r\n"},
		{"space and tab before chunked", "HTTP/1.1", "Transfer-Encoding: \tchunked\r\n"},
		{"space after chunked", "HTTP/1.1", "Transfer-Encoding: chunked \r\n"},
		{"gzip, chunked", "HTTP/1.1", "Transfer-Encoding: gzip, chunked\r\n"},
		{"chunked, chunked", "HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n"},
		{"identity", "HTTP/1.1", "Transfer-Encoding: identity\r\nContent-Length: 5\r\n"},
		{"xchunked", "HTTP/1.1", "Transfer-Encoding: xchunked\r\n"},
		{"two transfer-encoding fields", "HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"},
		{"obs-fold of the coding", "HTTP/1.1", "Transfer-Encoding:\r\n chunked\r\n"},
		{"obs-fold with a tab", "HTTP/1.1", "Transfer-Encoding:\r\n\tchunked\r\n"},
		{"obs-fold of another field", "HTTP/1.1", "X-Note: a\r\n b\r\nContent-Length: 5\r\n"},
		{"content-length twice, different", "HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n"},
		{"content-length twice, same", "HTTP/1.1", "Content-Length: 5\r\nContent-Length: 5\r\n"},
		{"content-length list", "HTTP/1.1", "Content-Length: 5, 5\r\n"},
		{"content-length sign", "HTTP/1.1", "Content-Length: +5\r\n"},
		{"content-length tab", "HTTP/1.1", "Content-Length:\t5\r\n"},
		{"chunked in HTTP/1.0", "HTTP/1.0", "Transfer-Encoding: chunked\r\n"},
	}
	valid := "Authorization: Bearer " + f.tok + "\r\n"
	for _, tc := range cases {
		for _, smuggled := range []string{"", valid} {
			name := tc.name
			if smuggled != "" {
				name += ", valid token smuggled"
			}
			t.Run(name, func(t *testing.T) {
				req := "POST /auth " + tc.proto + "\r\nHost: h\r\n" + tc.headers + "\r\n" + body +
					"GET /auth HTTP/1.1\r\nHost: h\r\n" + smuggled + "\r\n"
				got := rawExchange(t, addr, req)
				if len(got) != 1 {
					t.Fatalf("%d responses, want exactly one", len(got))
				}
				if got[0].StatusCode != 400 || !got[0].Close {
					t.Fatalf("status %d, close %v: want 400 and Connection: close", got[0].StatusCode, got[0].Close)
				}
			})
		}
	}
}

// TestValidFramingStillServed: well-framed requests — Content-Length,
// exactly chunked, HTTP/1.0, several pipelined in one write — are answered,
// each once, on one connection.
func TestValidFramingStillServed(t *testing.T) {
	f, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	addr := f.serve(t)
	bearer := "Authorization: Bearer " + f.tok + "\r\n"
	statuses := func(rs []*http.Response) []int {
		var s []int
		for _, r := range rs {
			s = append(s, r.StatusCode)
		}
		return s
	}
	check := func(name, req string, want ...int) {
		t.Helper()
		got := statuses(rawExchange(t, addr, req))
		if len(got) != len(want) {
			t.Errorf("%s: statuses %v, want %v", name, got, want)
			return
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: statuses %v, want %v", name, got, want)
				return
			}
		}
	}
	check("HTTP/1.0", "GET /auth HTTP/1.0\r\n"+bearer+"\r\n", 200)
	check("HTTP/1.0 without a token", "GET /auth HTTP/1.0\r\n\r\n", 401)
	check("pipelined",
		"GET /auth HTTP/1.1\r\nHost: h\r\n"+bearer+"\r\n"+
			"GET /auth HTTP/1.1\r\nHost: h\r\n\r\n"+
			"POST /verify HTTP/1.1\r\nHost: h\r\nContent-Length: "+itoa(len(f.tok))+"\r\n\r\n"+f.tok+
			"POST /verify HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"+chunk(f.tok)+"0\r\n\r\n"+
			"GET /healthz HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
		200, 401, 200, 200, 200)
	check("lower-case names, no space",
		"POST /verify HTTP/1.1\r\nhost: h\r\ntransfer-encoding:chunked\r\nconnection: close\r\n\r\n"+chunk(f.tok)+"0\r\n\r\n", 200)
}

func itoa(n int) string { return strconv.Itoa(n) }

// chunk encodes s as one chunk.
func chunk(s string) string { return strconv.FormatInt(int64(len(s)), 16) + "\r\n" + s + "\r\n" }

// TestAmbiguousFramingRefusedBeforeTheBody: with HeaderReceived set, a
// request whose framing is ambiguous gets no "100 Continue" and its body is
// not awaited — an unfinished chunked body would otherwise hold the answer
// until the read timeout.
func TestAmbiguousFramingRefusedBeforeTheBody(t *testing.T) {
	f, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fs := &fasthttp.Server{Handler: f.srv.Handler(), HeaderReceived: f.srv.HeaderReceived(), ReadTimeout: time.Minute}
	done := make(chan error, 1)
	go func() { done <- fs.Serve(ln) }()
	t.Cleanup(func() {
		fs.Shutdown() //nolint:errcheck
		<-done
	})
	addr := ln.Addr().String()
	for name, req := range map[string]string{
		"expect 100-continue": "POST /auth HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		"unfinished chunked body": "POST /auth HTTP/1.1\r\nHost: h\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"40\r\nGET /auth HTTP/1.1\r\nHost: h\r\n\r\n",
		"tab before chunked, unfinished": "POST /auth HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\n\r\n5\r\nab",
	} {
		t.Run(name, func(t *testing.T) {
			got := rawExchange(t, addr, req)
			if len(got) != 1 || got[0].StatusCode != 400 || !got[0].Close {
				for _, r := range got {
					t.Logf("%d close=%v", r.StatusCode, r.Close)
				}
				t.Fatalf("%d responses, want exactly one 400 with Connection: close", len(got))
			}
		})
	}
}

// TestFramingRefusalCounted: /metrics counts the requests refused for
// ambiguous framing.
func TestFramingRefusalCounted(t *testing.T) {
	f, err := newDemoFixture(t)
	if err != nil {
		t.Fatal(err)
	}
	addr := f.serve(t)
	const metric = `jwtgate_http_refused_total{reason="ambiguous_framing"} `
	metrics := func() string {
		got := rawExchange(t, addr, "GET /metrics HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
		if len(got) != 1 || got[0].StatusCode != 200 {
			t.Fatalf("/metrics: %d responses", len(got))
		}
		b, _ := io.ReadAll(got[0].Body)
		return string(b)
	}
	if m := metrics(); !strings.Contains(m, metric+"0\n") {
		t.Fatalf("before: %s", m)
	}
	for range 2 {
		rawExchange(t, addr, "POST /auth HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
	}
	if m := metrics(); !strings.Contains(m, metric+"2\n") {
		t.Fatalf("after two refusals: %s", m)
	}
}
