package server_test

import (
	"context"
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.srv.Run(ctx, ln) }()
	defer func() {
		cancel()
		<-done
	}()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	base := "http://" + ln.Addr().String()
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
	if code, ch := do("GET", "/auth", "Bearer "+strings.Repeat("a", 16<<10+1), ""); code != 401 || !strings.Contains(ch, "larger than") {
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
