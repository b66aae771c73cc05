package server

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/jwtgate/jwtgate/authz"
)

// A typical forward-auth request from a proxy: its raw target and header
// block, as fasthttp keeps them.
var (
	edgeTarget = []byte("/auth")
	edgeHeader = []byte("Host: auth.internal\r\n" +
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMzQ1Njc4OTAiLCJpc3MiOiJodHRwczovL2lzc3Vlci5leGFtcGxlIn0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl\r\n" +
		"X-Forwarded-Uri: /orders/42?page=1\r\nX-Forwarded-Method: GET\r\nX-Forwarded-Proto: https\r\n" +
		"X-Forwarded-Host: api.example\r\nX-Forwarded-For: 192.0.2.1\r\nUser-Agent: Mozilla/5.0\r\n" +
		"Accept: */*\r\nContent-Length: 0\r\n\r\n")
	edgeOriginal = []byte("/orders/42")
)

// edgeChecks is what the front end adds to every /auth request: the framing
// check, the raw routing and the original path.
func edgeChecks(dst []byte) ([]byte, bool) {
	path, _, ok := rawPath(edgeTarget)
	if !framingOK(edgeHeader) || targetOf(path, ok, false) != targetAuth {
		return dst, false
	}
	return authz.NormalizePath(dst[:0], edgeOriginal)
}

func TestEdgeChecksZeroAllocs(t *testing.T) {
	dst := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		var ok bool
		if dst, ok = edgeChecks(dst); !ok {
			t.Fatal("refused")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocs per request, want 0", allocs)
	}
}

// BenchmarkEdgeChecks measures the per-request cost of deciding on the raw
// request (framingOK, targetOf, authz.NormalizePath) on a typical request.
func BenchmarkEdgeChecks(b *testing.B) {
	dst := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = edgeChecks(dst)
	}
}

func TestFramingOK(t *testing.T) {
	for _, c := range []struct {
		raw string
		ok  bool
	}{
		{"", true},
		{"\r\n", true},
		{"Host: h\r\n\r\n", true},
		{"Host: h\n\n", true},
		{"Content-Length: 5\r\n\r\n", true},
		{"Content-Length:5\r\n\r\n", true},
		{"content-length: 0\r\n\r\n", true},
		{"Transfer-Encoding: chunked\r\n\r\n", true},
		{"TRANSFER-ENCODING:chunked\r\n\r\n", true},
		{"X-Transfer-Encoding: gzip\r\nX-Content-Length: x\r\n\r\n", true},
		{"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"Transfer-Encoding: chunked\r\ncontent-length: 5\r\n\r\n", false},
		{"Transfer-Encoding: CHUNKED\r\n\r\n", false},
		{"Transfer-Encoding:\tchunked\r\n\r\n", false},
		{"Transfer-Encoding: chunked\t\r\n\r\n", false},
		{"Transfer-Encoding: chunked \r\n\r\n", false},
		{"Transfer-Encoding: gzip, chunked\r\n\r\n", false},
		{"Transfer-Encoding: chunked, chunked\r\n\r\n", false},
		{"Transfer-Encoding: identity\r\n\r\n", false},
		{"Transfer-Encoding: \r\n\r\n", false},
		{"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", false},
		{"Transfer-Encoding:\r\n chunked\r\n\r\n", false},
		{"X-A: 1\r\n\tx\r\n\r\n", false},
		{"Content-Length: 5\r\nContent-Length: 5\r\n\r\n", false},
		{"Content-Length: 5\r\nContent-Length: 6\r\n\r\n", false},
		{"Content-Length: 5, 5\r\n\r\n", false},
		{"Content-Length: +5\r\n\r\n", false},
		{"Content-Length: -1\r\n\r\n", false},
		{"Content-Length: 5 \r\n\r\n", false},
		{"Content-Length:\t5\r\n\r\n", false},
		{"Content-Length: 0x5\r\n\r\n", false},
		{"Content-Length: \r\n\r\n", false},
	} {
		if got := framingOK([]byte(c.raw)); got != c.ok {
			t.Errorf("%q: %v, want %v", c.raw, got, c.ok)
		}
	}
}

func TestTargetOf(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want target
	}{
		{"/auth", targetAuth},
		{"/auth/", targetAuth},
		{"/auth?x=1", targetAuth},
		{"/auth/../healthz", targetAuth},
		{"/auth/..%2fhealthz", targetAuth},
		{"http://h/auth/../metrics", targetAuth},
		{"https://u@h:8443/auth", targetAuth},
		{"/auth%2f..%2fhealthz", targetNone},
		{"/authx", targetNone},
		{"/auth..", targetNone},
		{"/auth#x", targetNone},
		{"/AUTH", targetNone},
		{"//auth", targetNone},
		{"/verify", targetVerify},
		{"/verify?x", targetVerify},
		{"/verify/", targetNone},
		{"/healthz", targetHealthz},
		{"/healthz?", targetHealthz},
		{"/readyz", targetReadyz},
		{"/metrics", targetMetrics},
		{"/.well-known/jwks.json", targetNone}, // no JWKS published
		{"http://h/healthz", targetHealthz},
		{"http://h", targetNone},
		{"http://h?x", targetNone},
		{"http:/healthz", targetNone},
		{"://h/healthz", targetNone},
		{"*", targetNone},
		{"h:443", targetNone},
		{"", targetNone},
	} {
		path, _, ok := rawPath([]byte(c.uri))
		if got := targetOf(path, ok, false); got != c.want {
			t.Errorf("%q: %v, want %v", c.uri, got, c.want)
		}
	}
	if targetOf([]byte("/.well-known/jwks.json"), true, true) != targetJWKS {
		t.Error("the published JWKS is not routed")
	}
}

// BenchmarkFramingCheck compares what the handler spends on framing per
// request: scan is serve's own scan of the raw header block (Handler on a
// fasthttp.Server of one's own), mark is serveHooked's lookup of the mark
// headerReceived leaves (the Server's own fasthttp.Server, whose hook has
// already scanned the block once).
func BenchmarkFramingCheck(b *testing.B) {
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if !framingOK(edgeHeader) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("mark", func(b *testing.B) {
		var h fasthttp.RequestHeader
		if err := h.Read(bufio.NewReader(strings.NewReader("GET /auth HTTP/1.1\r\n" + string(edgeHeader)))); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if h.PeekBytes(hdrFramingMark) != nil {
				b.Fatal("refused")
			}
		}
	})
}
