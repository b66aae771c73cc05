package bench

import (
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestGolangJWTServer checks the net/http comparison server over real HTTP
// on loopback, and that it leaves nothing running after Close.
func TestGolangJWTServer(t *testing.T) {
	f := mustFixture(t)
	before := goroutines()
	h, err := NewGolangJWTHandler(f)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := StartHTTP(h)
	if err != nil {
		t.Fatal(err)
	}
	checkForwardAuth(t, f, srv.URL+"/auth")
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	checkGoroutines(t, before)
}

// TestJWTGateServer checks jwtgate's own server as the HTTP comparison
// starts it, with the cache on and off: the same answers as the peer (a
// wrong audience included: 401 invalid_token, RFC 9068 §4); and nothing left
// running after Close.
func TestJWTGateServer(t *testing.T) {
	f := mustFixture(t)
	before := goroutines()
	for _, entries := range []int{0, -1} {
		srv, err := StartJWTGate(f, entries)
		if err != nil {
			t.Fatal(err)
		}
		checkForwardAuth(t, f, srv.URL+"/auth")
		checkForwardAuth(t, f, srv.URL+"/auth") // again: answered from the cache when on
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
	}
	checkGoroutines(t, before)
}

// checkForwardAuth sends every case of every algorithm to a forward-auth
// endpoint: 200 with the identity headers for the valid tokens, 401 with an
// invalid_token challenge for the hostile ones (a wrong audience included),
// and 401 without an error code when there is no bearer token.
func checkForwardAuth(t *testing.T, f *Fixture, url string) {
	t.Helper()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	get := func(auth string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	for _, alg := range Algs {
		want := f.Claims(alg)
		for _, c := range f.Cases(alg) {
			resp := get("Bearer " + c.Token)
			challenge := resp.Header.Get("WWW-Authenticate")
			switch {
			case c.Valid:
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s %s: status %d (%s), want 200", alg, c.Name, resp.StatusCode, challenge)
				}
				for h, v := range map[string]string{HeaderSubject: want.Subject, HeaderIssuer: want.Issuer, HeaderScope: want.Scope} {
					if got := resp.Header.Get(h); got != v {
						t.Errorf("%s: %s %q, want %q", alg, h, got, v)
					}
				}
				continue
			default:
				if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(challenge, `error="invalid_token"`) {
					t.Errorf("%s %s: status %d, WWW-Authenticate %q; want 401 invalid_token", alg, c.Name, resp.StatusCode, challenge)
				}
			}
			if resp.Header.Get(HeaderSubject) != "" {
				t.Errorf("%s %s: identity header on a rejected token", alg, c.Name)
			}
		}
	}
	for _, auth := range []string{"", "Basic dXNlcjpwYXNz"} {
		resp := get(auth)
		challenge := resp.Header.Get("WWW-Authenticate")
		if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(challenge, "Bearer realm=") || strings.Contains(challenge, "error=") {
			t.Errorf("Authorization %q: status %d, WWW-Authenticate %q; want 401 without an error code", auth, resp.StatusCode, challenge)
		}
	}
}

// checkGoroutines waits, bounded, for the goroutine count to return to
// before (as counted by goroutines).
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for goroutines() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // polling for goroutines to exit, not waiting on a clock
	}
	if n := goroutines(); n > before {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after Close, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}

// goroutines counts the running goroutines except fasthttp's clock for the
// Date header, which the first fasthttp server starts for the whole process.
func goroutines() int {
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	// Each goroutine's trace starts with a "goroutine N [state]:" line.
	return 1 + strings.Count(stacks, "\n\ngoroutine ") - strings.Count(stacks, "fasthttp.updateServerDate")
}

// TestValidTokens checks that load-run tokens are distinct and all valid.
func TestValidTokens(t *testing.T) {
	f := mustFixture(t)
	toks, err := f.ValidTokens(Algs[0], 16)
	if err != nil {
		t.Fatal(err)
	}
	lib := Libs[0]
	bind, err := lib.New(f, f.Set(Algs[0]))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tok := range toks {
		if seen[string(tok)] {
			t.Fatal("duplicate token")
		}
		seen[string(tok)] = true
		if err := bind(string(tok))(); err != nil {
			t.Errorf("%s rejects a load token: %v", lib.Name, err)
		}
	}
	if f.CaseToken(Algs[0], "expired") == nil || f.CaseToken(Algs[0], "no-such-case") != nil {
		t.Error("CaseToken does not find cases by name")
	}
}
