package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// TestServeLogFlags checks --log-format, --log-level and --log-requests:
// they override the config file, and a request is logged as JSON.
func TestServeLogFlags(t *testing.T) {
	key := sign.MustGenerate(engine.ES256, "k1")
	cfg := writeConfig(t, key, "log:\n  format: text\n  level: error\n")
	r := startServe(t, "", "--config", cfg, "--log-format", "json", "--log-level", "info", "--log-requests")
	line := r.stderr.await(t, `"msg":"jwtgate serving"`)
	var started struct{ Listen string }
	if err := json.Unmarshal([]byte(line), &started); err != nil || started.Listen == "" {
		t.Fatalf("start line %q: %v", line, err)
	}
	tok, _ := key.Sign(map[string]any{"iss": "https://issuer.example", "aud": "api", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	req, _ := http.NewRequest("GET", "http://"+started.Listen+"/auth", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("X-Forwarded-Uri", "/orders/1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	line = r.stderr.await(t, `"msg":"request"`)
	for _, want := range []string{`"uri":"/orders/1"`, `"status":200`, `"issuer":"https://issuer.example"`, `"latency":`} {
		if !strings.Contains(line, want) {
			t.Errorf("request log %s lacks %s", line, want)
		}
	}

	var out, errw bytes.Buffer
	for _, c := range []struct{ args []string }{
		{[]string{"--log-level", "verbose"}},
		{[]string{"--log-format", "xml"}},
	} {
		errw.Reset()
		args := append([]string{"--check-config", "--config", cfg}, c.args...)
		if code := serve(context.Background(), args, "", &out, &errw); code == exitOK || !strings.Contains(errw.String(), c.args[0]) {
			t.Errorf("%v: exit %d, stderr %q: want a failure naming %s", c.args, code, errw.String(), c.args[0])
		}
	}
}

// TestServeListenHint checks that a bare port given as the listen address
// is answered with the host:port to write.
func TestServeListenHint(t *testing.T) {
	var out, errw bytes.Buffer
	code := serve(context.Background(), []string{"--check-config", "--listen", "18081", "--jwks-file", "/x.json", "--issuer", "i", "--audience", "a"}, "", &out, &errw)
	if code == exitOK || !strings.Contains(errw.String(), "127.0.0.1:18081") {
		t.Fatalf("--listen 18081: exit %d, stderr %q: want a failure suggesting 127.0.0.1:18081", code, errw.String())
	}
}

// discoveryServer serves an OpenID discovery document whose issuer is its
// own URL, and the JWKS it names.
func discoveryServer(t *testing.T, key *sign.Key) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks"})
		case "/jwks":
			w.Write(sign.JWKS(key))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDiscoveryDefaultsTheIssuer checks that --discovery without --issuer
// takes the discovery URL as the issuer (OpenID Connect Discovery §4), in
// serve and in verify.
func TestDiscoveryDefaultsTheIssuer(t *testing.T) {
	key := sign.MustGenerate(engine.ES256, "k1")
	idp := discoveryServer(t, key)
	tok, _ := key.Sign(map[string]any{"iss": idp.URL, "aud": "api", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})

	for _, disc := range []string{idp.URL, idp.URL + "/.well-known/openid-configuration"} {
		code, out, errOut := runCmd(t, "", "verify", "--discovery", disc, tok)
		if code != exitOK || !parseResults(t, out)[0].Valid {
			t.Errorf("verify --discovery %s: exit %d, %s%s", disc, code, out, errOut)
		}
	}
	other, _ := key.Sign(map[string]any{"iss": "https://elsewhere", "exp": time.Now().Add(time.Hour).Unix()})
	if code, out, _ := runCmd(t, "", "verify", "--discovery", idp.URL, other); code != exitFailure || parseResults(t, out)[0].Reason != "issuer" {
		t.Errorf("a token of another issuer: exit %d, %s: want reason issuer", code, out)
	}

	r := startServe(t, "", "--listen", "127.0.0.1:0", "--discovery", idp.URL, "--audience", "api")
	line := r.stderr.await(t, "jwtgate serving")
	addr := regexp.MustCompile(`listen=(\S+)`).FindStringSubmatch(line)[1]
	req, _ := http.NewRequest("GET", "http://"+addr+"/auth", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("serve --discovery without --issuer: %d, want 200", resp.StatusCode)
	}
}

// TestVerifyUnreachableJWKSOneError checks that an unreachable --jwks URL
// is one error line naming the flag, with no log line before it.
func TestVerifyUnreachableJWKSOneError(t *testing.T) {
	url := "http://" + closedLoopbackAddr(t) + "/jwks.json"
	code, out, errOut := runCmd(t, "", "verify", "--jwks", url, "x.y.z")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if code != exitUsage || out != "" || !strings.HasPrefix(lines[0], "jwtgate verify: --jwks URL "+url+": cannot fetch it (network)") {
		t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and the error first", code, errOut)
	}
	for _, bad := range []string{"level=", "keeping the last good keys", "keys=0", `issuer ""`} {
		if strings.Contains(errOut, bad) {
			t.Errorf("stderr has %q:\n%s", bad, errOut)
		}
	}
}

// closedLoopbackAddr returns a loopback address nothing listens on.
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
