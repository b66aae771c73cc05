package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// OAuth2ProxyVersion is the oauth2-proxy release the HTTP comparison runs:
// the forward-auth server operators deploy for bearer JWTs.
const OAuth2ProxyVersion = "v7.15.6"

// oauth2ProxyModule is the module go install builds oauth2-proxy from.
const oauth2ProxyModule = "github.com/oauth2-proxy/oauth2-proxy/v7"

// OAuth2ProxyAuthPath is oauth2-proxy's forward-auth endpoint: 202 with an
// empty body for an authenticated request, 401 otherwise.
const OAuth2ProxyAuthPath = "/oauth2/auth"

// OAuth2ProxyUserHeader is the header oauth2-proxy's forward-auth endpoint
// answers with the token's subject (--set-xauthrequest), as jwtgate answers
// with HeaderSubject.
const OAuth2ProxyUserHeader = "X-Auth-Request-User"

// OAuth2ProxyBinary returns the path of the oauth2-proxy binary of
// OAuth2ProxyVersion, building it with `go install` into the user's cache
// directory (jwtgate-bench/oauth2-proxy-VERSION) the first time. It is not a
// dependency of this module: its dependency tree is large, and it runs as a
// separate process, as operators deploy it. The build's output goes to
// progress.
func OAuth2ProxyBinary(ctx context.Context, progress io.Writer) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("bench: locating the cache for oauth2-proxy: %w (set HOME or XDG_CACHE_HOME)", err)
	}
	dir := filepath.Join(cache, "jwtgate-bench", "oauth2-proxy-"+OAuth2ProxyVersion)
	bin := filepath.Join(dir, "oauth2-proxy")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("bench: oauth2-proxy cache: %w", err)
	}
	// Test binaries of several packages may ask at once: one builds, the
	// others wait and find the binary.
	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", fmt.Errorf("bench: oauth2-proxy cache: %w", err)
	}
	defer unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	// Build into a private folder and rename into place, so that a build
	// running in parallel or interrupted never leaves a partial binary at bin.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("bench: oauth2-proxy cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", oauth2ProxyModule+"@"+OAuth2ProxyVersion)
	cmd.Dir = tmp // outside any module: go install pkg@version ignores the caller's go.mod
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = progress, progress
	fmt.Fprintf(progress, "bench: building oauth2-proxy %s into %s (once; a few minutes on a fresh machine)\n", OAuth2ProxyVersion, dir)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("bench: go install %s@%s: %w (needs the Go module proxy, or the module in GOMODCACHE)", oauth2ProxyModule, OAuth2ProxyVersion, err)
	}
	if err := os.Rename(filepath.Join(tmp, "oauth2-proxy"), bin); err != nil {
		return "", fmt.Errorf("bench: oauth2-proxy cache: %w", err)
	}
	return bin, nil
}

// OAuth2ProxyServer is oauth2-proxy running as its own process on a
// loopback port, configured as operators configure it for bearer-JWT
// forward auth: an OIDC provider for the fixture's Issuer, its keys from a
// loopback JWKS endpoint serving the fixture's public key set, the client id
// the Audience, and --skip-jwt-bearer-tokens so that a valid bearer token
// authenticates a request without a login.
type OAuth2ProxyServer struct {
	// URL is "http://127.0.0.1:PORT".
	URL string
	// AuthURL is URL + OAuth2ProxyAuthPath, the endpoint to send load to.
	AuthURL string

	jwks    *HTTPServer
	fetches *atomic.Int64 // requests to jwks
	cmd     *exec.Cmd
	output  *boundedBuffer
	exited  chan struct{}
	err     error // the process's exit status, once exited is closed
}

// StartOAuth2Proxy runs the oauth2-proxy binary at bin with the fixture's
// public keys, accepting tokens signed with alg (one of the public-key
// algorithms: oauth2-proxy does not verify HMAC tokens), and returns once it
// answers on its loopback port.
func StartOAuth2Proxy(f *Fixture, bin string, alg engine.Alg) (*OAuth2ProxyServer, error) {
	if f.Set(alg) != &f.Public {
		return nil, fmt.Errorf("bench: oauth2-proxy verifies public-key signatures, not %s: pick one of the public key set's algorithms", alg)
	}
	fetches := new(atomic.Int64)
	jwks, err := StartHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(f.Public.JWKS)
	}))
	if err != nil {
		return nil, err
	}
	// A start can fail only because another process took the chosen port
	// (see startOAuth2Proxy): a fresh port is tried then. A configuration
	// error fails every attempt, within a second each.
	var errs []error
	for range 3 {
		s, err := startOAuth2Proxy(bin, jwks, alg)
		if err == nil {
			s.fetches = fetches
			return s, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(append(errs, jwks.Close())...)
}

func startOAuth2Proxy(bin string, jwks *HTTPServer, alg engine.Alg) (*OAuth2ProxyServer, error) {
	secret := make([]byte, 32)
	rand.Read(secret)
	clientSecret := make([]byte, 16)
	rand.Read(clientSecret)

	// oauth2-proxy binds the port itself: its fd: address takes systemd's
	// socket activation, which only a launcher that knows the child's pid
	// (LISTEN_PID) can set up. The port is free when chosen; if another
	// process takes it first, oauth2-proxy exits at start.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()

	args := []string{
		"--provider=oidc",
		"--oidc-issuer-url=" + Issuer,
		"--skip-oidc-discovery",
		"--oidc-jwks-url=" + jwks.URL + "/jwks.json",
		"--login-url=" + Issuer + "authorize",
		"--redeem-url=" + Issuer + "oauth/token",
		"--client-id=" + Audience,
		"--client-secret=" + base64.RawURLEncoding.EncodeToString(clientSecret),
		"--oidc-enabled-signing-alg=" + alg.String(),
		"--skip-jwt-bearer-tokens",
		"--set-xauthrequest",
		"--email-domain=*",
		"--cookie-secret=" + base64.RawURLEncoding.EncodeToString(secret), // the encoding it decodes
		"--upstream=static://200",
		"--http-address=" + addr,
		"--request-logging=false",
		"--auth-logging=false",
		"--standard-logging=false",
	}
	s := &OAuth2ProxyServer{
		URL:    "http://" + addr,
		jwks:   jwks,
		output: &boundedBuffer{max: 16 << 10},
		exited: make(chan struct{}),
	}
	s.AuthURL = s.URL + OAuth2ProxyAuthPath
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = []string{} // no OAUTH2_PROXY_* settings from the caller's environment
	s.cmd.Stdout, s.cmd.Stderr = s.output, s.output
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: starting oauth2-proxy: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	if err := s.waitReady(30 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// waitReady polls /ping until oauth2-proxy answers 200, it exits, or the
// time is up.
func (s *OAuth2ProxyServer) waitReady(limit time.Duration) error {
	client := &http.Client{Timeout: time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(s.URL + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.exited:
			return fmt.Errorf("bench: oauth2-proxy exited at start (%v; its logging is off: run %s with --standard-logging=true to see why):\n%s",
				s.err, strings.Join(s.cmd.Args, " "), s.output.String())
		case <-time.After(20 * time.Millisecond): // polling for the process to come up
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("bench: oauth2-proxy did not answer /ping within %s (last: %v):\n%s", limit, err, s.output.String())
		}
	}
}

// JWKSFetches is how many times oauth2-proxy has fetched the key set so far.
func (s *OAuth2ProxyServer) JWKSFetches() int64 { return s.fetches.Load() }

// PID is the process id of oauth2-proxy.
func (s *OAuth2ProxyServer) PID() int { return s.cmd.Process.Pid }

// Close stops oauth2-proxy (SIGTERM, then SIGKILL after ten seconds) and
// its JWKS endpoint.
func (s *OAuth2ProxyServer) Close() error {
	err := s.stop()
	return errors.Join(err, s.jwks.Close())
}

// stop ends the process and reports how it ended: nil when it stopped on
// SIGTERM as asked, the exit status and output when it had exited before.
func (s *OAuth2ProxyServer) stop() error {
	select {
	case <-s.exited:
		return fmt.Errorf("bench: oauth2-proxy had exited (%v):\n%s", s.err, s.output.String())
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
	return nil
}

// boundedBuffer keeps the first max bytes written to it, for error messages.
type boundedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *boundedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}

// OAuth2ProxyAccepts are the hostile cases oauth2-proxy accepts: go-oidc,
// its token verifier, does not check iat. CheckOAuth2Proxy requires it to
// answer every other case as jwtgate does, and these with 202 still, so that
// the list stays true.
var OAuth2ProxyAccepts = []string{"issued-in-future"}

// CheckOAuth2Proxy sends every case of alg to oauth2-proxy's forward-auth
// endpoint at authURL: 202 with the subject in OAuth2ProxyUserHeader for the
// valid token (and for the cases in OAuth2ProxyAccepts), 401 for every other
// hostile one and for a request without a bearer token. The error lists
// every wrong answer.
func CheckOAuth2Proxy(f *Fixture, alg engine.Alg, authURL string) error {
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}
	var wrong []error
	check := func(name, auth string, accept bool, sub string) {
		req, err := http.NewRequest(http.MethodGet, authURL, nil)
		if err != nil {
			wrong = append(wrong, err)
			return
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := client.Do(req)
		if err != nil {
			wrong = append(wrong, fmt.Errorf("%s: %w", name, err))
			return
		}
		resp.Body.Close()
		got := resp.Header.Get(OAuth2ProxyUserHeader)
		switch {
		case accept && (resp.StatusCode != http.StatusAccepted || got != sub):
			wrong = append(wrong, fmt.Errorf("%s: status %d, %s %q; want 202 and %q", name, resp.StatusCode, OAuth2ProxyUserHeader, got, sub))
		case !accept && resp.StatusCode != http.StatusUnauthorized:
			wrong = append(wrong, fmt.Errorf("%s: status %d, want 401", name, resp.StatusCode))
		}
	}
	sub := f.Claims(alg).Subject
	for _, c := range f.Cases(alg) {
		accepted := c.Valid || slices.Contains(OAuth2ProxyAccepts, c.Name)
		check(alg.String()+" "+c.Name, "Bearer "+c.Token, accepted, sub)
	}
	check("no Authorization", "", false, "")
	check("Basic credentials", "Basic dXNlcjpwYXNz", false, "")
	if len(wrong) > 0 {
		return fmt.Errorf("bench: oauth2-proxy at %s answers wrongly, so its figures would not be comparable:\n%w", authURL, errors.Join(wrong...))
	}
	return nil
}
