package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// TestRequestLogFields checks what a request log line says: the original
// request's method and URI as the proxy forwarded them, the status and
// reason, the latency, whether the cache answered, and the issuer.
func TestRequestLogFields(t *testing.T) {
	var buf bytes.Buffer
	f := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock(), dir: t.TempDir()}
	yaml := "issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + jwksFile(t, f.dir, "j.json", f.key) +
		"\n    audiences: [" + testAudience + "]\nlog:\n  requests: true\n"
	cfg, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Clock: f.clock, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if err := srv.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	h := srv.Handler()
	tok := f.token(t)
	buf.Reset()
	call(h, "GET", "/auth", "", "Authorization: Bearer "+tok, "X-Forwarded-Method: DELETE", "X-Forwarded-Uri: /api/orders/7?x=1")
	call(h, "GET", "/auth", "", "Authorization: Bearer "+tok, "X-Original-Method: PUT", "X-Original-URI: /api/cached")
	call(h, "GET", "/auth", "", "Authorization: Bearer "+tok+"x", "X-Forwarded-Uri: /api/bad")
	call(h, "GET", "/auth/direct?q=1", "")
	call(h, "POST", "/verify", tok)

	type line struct {
		Msg, Endpoint, Method, URI, Reason, Issuer, Sub string
		Status                                          int
		Latency                                         *int64
		Cached                                          *bool
	}
	want := []line{
		{Endpoint: "auth", Method: "DELETE", URI: "/api/orders/7?x=1", Status: 200, Reason: "ok", Issuer: testIssuer, Sub: "user-1234567890"},
		{Endpoint: "auth", Method: "PUT", URI: "/api/cached", Status: 200, Reason: "ok", Issuer: testIssuer, Sub: "user-1234567890"},
		{Endpoint: "auth", Method: "GET", URI: "/api/bad", Status: 401, Reason: "bad_signature", Issuer: testIssuer},
		{Endpoint: "auth", Method: "GET", URI: "/auth/direct?q=1", Status: 401, Reason: "no_token"},
		{Endpoint: "verify", Method: "POST", URI: "/verify", Status: 200, Reason: "ok", Issuer: testIssuer},
	}
	wantCached := []bool{false, true, false, false, true}
	got := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(got) != len(want) {
		t.Fatalf("%d log lines, want %d:\n%s", len(got), len(want), buf.String())
	}
	for i, raw := range got {
		var l line
		if err := json.Unmarshal([]byte(raw), &l); err != nil {
			t.Fatalf("line %d: %v: %s", i, err, raw)
		}
		if l.Latency == nil || *l.Latency < 0 || l.Cached == nil {
			t.Errorf("line %d lacks latency or cached: %s", i, raw)
			continue
		}
		if *l.Cached != wantCached[i] {
			t.Errorf("line %d: cached %v, want %v: %s", i, *l.Cached, wantCached[i], raw)
		}
		l.Msg, l.Latency, l.Cached = "", nil, nil
		if w := want[i]; l != w {
			t.Errorf("line %d:\n got %+v\nwant %+v", i, l, w)
		}
	}
}
