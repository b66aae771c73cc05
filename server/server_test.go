package server_test

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// TestExampleConfigBuildsServer: the repository's example configuration
// builds a server (New does no I/O; its remote key sources would be fetched
// by Start).
func TestExampleConfigBuildsServer(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "examples", "jwtgate.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
}

// TestRequestLogs: per-request logs are off by default and one line per
// request with log.requests, never carrying the token.
func TestRequestLogs(t *testing.T) {
	for _, on := range []bool{false, true} {
		var buf bytes.Buffer
		f := &fixture{key: signer(t, engine.HS256, "k-HS256"), clock: newFakeClock(), dir: t.TempDir()}
		yaml := "issuers:\n  - issuer: " + testIssuer + "\n    jwks_file: " + jwksFile(t, f.dir, "j.json", f.key) + "\n    audiences: [" + testAudience + "]\n"
		if on {
			yaml += "log:\n  requests: true\n"
		}
		cfg, err := config.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		srv, err := server.New(cfg, server.Options{Clock: f.clock, Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		tok := f.token(t)
		buf.Reset()
		call(srv.Handler(), "GET", "/auth", "", "Authorization: Bearer "+tok)
		call(srv.Handler(), "GET", "/auth", "", "Authorization: Bearer "+tok+"x")
		lines := strings.Count(buf.String(), "\n")
		if on && lines != 2 || !on && lines != 0 {
			t.Errorf("requests=%v: %d log lines:\n%s", on, lines, buf.String())
		}
		if strings.Contains(buf.String(), tok[:20]) {
			t.Error("token in the request log")
		}
	}
}
