package jwtgatecaddy_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// signer is one Ed25519 key with its kid.
type signer struct {
	kid  string
	priv ed25519.PrivateKey
}

func newSigner(t testing.TB, kid string) *signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &signer{kid: kid, priv: priv}
}

// jwk returns the public key as a JWK.
func (s *signer) jwk() map[string]any {
	pub := s.priv.Public().(ed25519.PublicKey)
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": s.kid,
		"x": base64.RawURLEncoding.EncodeToString(pub)}
}

// token signs claims; exp defaults to an hour from now.
func (s *signer) token(t testing.TB, claims map[string]any) string {
	t.Helper()
	c := map[string]any{"iss": testIssuer, "aud": "api", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}
	for k, v := range claims {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	hdr, _ := json.Marshal(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": s.kid})
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(payload)
	sig := ed25519.Sign(s.priv, []byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

const testIssuer = "https://id.example.com"

// jwksServer serves a JWKS on loopback that the test can change.
type jwksServer struct {
	*httptest.Server
	doc     atomic.Pointer[[]byte]
	fetches atomic.Int64
}

func newJWKSServer(t testing.TB, keys ...*signer) *jwksServer {
	js := &jwksServer{}
	js.set(t, keys...)
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(*js.doc.Load())
	}))
	t.Cleanup(js.Close)
	return js
}

// set replaces the served key set.
func (js *jwksServer) set(t testing.TB, keys ...*signer) {
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	for _, k := range keys {
		set.Keys = append(set.Keys, k.jwk())
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	js.doc.Store(&b)
}

// newUpstream returns a server that answers every request with the
// request's headers as JSON.
func newUpstream(t testing.TB) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(up.Close)
	return up
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

var (
	buildOnce sync.Once
	buildBin  string
	buildErr  error
)

// caddyBinary builds ./cmd/caddy once per test binary (the Go build cache
// makes later runs quick) and returns its path.
func caddyBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jwtgate-caddy-bin")
		if err != nil {
			buildErr = err
			return
		}
		buildBin = filepath.Join(dir, "caddy")
		cmd := exec.Command("go", "build", "-o", buildBin, "./cmd/caddy")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build ./cmd/caddy: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildBin != "" {
		os.RemoveAll(filepath.Dir(buildBin))
	}
	os.Exit(code)
}

// caddyEnv keeps Caddy's data, config and autosave in dir.
func caddyEnv(dir string) []string {
	return append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
}

// caddyProc is a running Caddy.
type caddyProc struct {
	cmd   *exec.Cmd
	admin string // http://127.0.0.1:port
	log   *bytes.Buffer
}

// startCaddy runs the built binary with caddyfile, waits until url answers
// (any status), and stops it when the test ends.
func startCaddy(t testing.TB, caddyfile, adminAddr, url string) *caddyProc {
	t.Helper()
	bin := caddyBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	cmd := exec.Command(bin, "run", "--config", path, "--adapter", "caddyfile")
	cmd.Env = caddyEnv(dir)
	cmd.Stdout, cmd.Stderr = &syncWriter{w: &log}, &syncWriter{w: &log}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &caddyProc{cmd: cmd, admin: "http://" + adminAddr, log: &log}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("caddy log:\n%s", p.logText())
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case <-exited:
			t.Fatalf("caddy exited: %s", p.logText())
		default:
		}
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("caddy did not answer %s: %v\n%s", url, err, p.logText())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var logMu sync.Mutex

func (p *caddyProc) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return p.log.String()
}

type syncWriter struct{ w io.Writer }

func (s *syncWriter) Write(b []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return s.w.Write(b)
}

// load replaces Caddy's configuration with caddyfile through the admin
// API's POST /load.
func (p *caddyProc) load(t testing.TB, caddyfile string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", p.admin+"/load", strings.NewReader(caddyfile))
	req.Header.Set("Content-Type", "text/caddyfile")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("POST /load: %d %s", resp.StatusCode, body)
	}
}

// adapt runs "caddy adapt" on caddyfile and returns its JSON, or the
// error with Caddy's output.
func adapt(t testing.TB, caddyfile string) ([]byte, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddyBinary(t), "adapt", "--config", path, "--adapter", "caddyfile")
	cmd.Env = caddyEnv(dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%v: %s", err, stderr.String())
	}
	return out, nil
}
