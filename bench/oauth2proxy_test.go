package bench

import (
	"bytes"
	"context"
	"net/http"
	"os/exec"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/engine"
)

// oauth2ProxyBinary builds oauth2-proxy once per machine (it stays in the
// user's cache directory) and returns its path.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	var out bytes.Buffer
	bin, err := OAuth2ProxyBinary(context.Background(), &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	return bin
}

// TestOAuth2Proxy runs the real oauth2-proxy as the HTTP comparison does and
// checks, over loopback, that it verifies: the valid token gets 202 with its
// subject, every hostile one 401 (but for the documented
// OAuth2ProxyAccepts), for the comparison's algorithm and another; and that
// Close leaves no process and no goroutine behind.
func TestOAuth2Proxy(t *testing.T) {
	f := mustFixture(t)
	bin := oauth2ProxyBinary(t)
	before := goroutines()
	for _, alg := range []engine.Alg{engine.RS256, engine.ES256} {
		s, err := StartOAuth2Proxy(f, bin, alg)
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckOAuth2Proxy(f, alg, s.AuthURL); err != nil {
			t.Error(err)
		}
		if s.JWKSFetches() < 1 {
			t.Errorf("%s: oauth2-proxy verified without fetching the JWKS", alg)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		select {
		case <-s.exited:
		default:
			t.Errorf("%s: oauth2-proxy (pid %d) still running after Close", alg, s.PID())
		}
	}
	checkGoroutines(t, before)
}

// TestOAuth2ProxyRefusesHMAC checks that asking for an algorithm
// oauth2-proxy cannot verify fails before anything starts.
func TestOAuth2ProxyRefusesHMAC(t *testing.T) {
	f := mustFixture(t)
	_, err := StartOAuth2Proxy(f, "/nonexistent/oauth2-proxy", engine.HS256)
	if err == nil || !strings.Contains(err.Error(), "public key set") {
		t.Fatalf("StartOAuth2Proxy(HS256) = %v, want the refusal naming the public key set", err)
	}
}

// TestCheckOAuth2ProxyCatchesWrongAnswers checks that the correctness check
// fails a server that does not verify: one that accepts everything, and one
// that answers 200 rather than oauth2-proxy's 202.
func TestCheckOAuth2ProxyCatchesWrongAnswers(t *testing.T) {
	f := mustFixture(t)
	sub := f.Claims(engine.RS256).Subject
	for name, status := range map[string]int{"accepts everything": http.StatusAccepted, "answers 200": http.StatusOK} {
		srv, err := StartHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(OAuth2ProxyUserHeader, sub)
			w.WriteHeader(status)
		}))
		if err != nil {
			t.Fatal(err)
		}
		err = CheckOAuth2Proxy(f, engine.RS256, srv.URL+OAuth2ProxyAuthPath)
		if err == nil || !strings.Contains(err.Error(), "answers wrongly") {
			t.Errorf("%s: CheckOAuth2Proxy = %v, want an error", name, err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOAuth2ProxyStartFailure checks that a binary that exits at start is
// reported with how to see why, and leaves nothing running.
func TestOAuth2ProxyStartFailure(t *testing.T) {
	f := mustFixture(t)
	falseBin, err := exec.LookPath("false")
	if err != nil {
		t.Fatalf("this test runs false(1) as a binary that exits at once: %v", err)
	}
	before := goroutines()
	_, err = StartOAuth2Proxy(f, falseBin, engine.RS256)
	if err == nil || !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "--standard-logging=true") {
		t.Fatalf("StartOAuth2Proxy(false) = %v, want the exit reported with how to see why", err)
	}
	checkGoroutines(t, before)
}
