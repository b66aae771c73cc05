package keystore

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/clocktest"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// fakeClock is a settable engine.Clock.
type fakeClock = clocktest.Clock

func newFakeClock() *fakeClock { return clocktest.New(epoch) }

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const (
	testIssuer   = "https://issuer.example"
	testAudience = "api://gateway"
)

// Signing keys are made once per test binary. RSA keys come from a pool of
// pre-generated test keys (testdata/rsa2048.pem): generating them under the
// race detector takes about a second each. Every distinct RSA signer gets
// its own key from the pool.
var (
	keyMu    sync.Mutex
	keyCache = map[string]*sign.Key{}
	rsaPool  []*rsa.PrivateKey
)

// signer returns a cached signing key for alg with the given kid.
func signer(tb testing.TB, alg engine.Alg, kid string) *sign.Key {
	tb.Helper()
	keyMu.Lock()
	defer keyMu.Unlock()
	name := alg.String() + "/" + kid
	if k, ok := keyCache[name]; ok {
		return k
	}
	var k *sign.Key
	if alg.Family() == engine.FamilyRSA {
		k = &sign.Key{Alg: alg, Kid: kid, Private: nextRSA(tb)}
	} else {
		var err error
		if k, err = sign.Generate(alg, kid); err != nil {
			tb.Fatal(err)
		}
	}
	keyCache[name] = k
	return k
}

// nextRSA hands out the next unused RSA key of the pool. The caller holds keyMu.
func nextRSA(tb testing.TB) *rsa.PrivateKey {
	if rsaPool == nil {
		data, err := os.ReadFile("testdata/rsa2048.pem")
		if err != nil {
			tb.Fatal(err)
		}
		for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				tb.Fatal(err)
			}
			rsaPool = append(rsaPool, k.(*rsa.PrivateKey))
		}
	}
	if len(rsaPool) == 0 {
		tb.Fatal("the RSA test key pool is exhausted: add keys to testdata/rsa2048.pem")
	}
	k := rsaPool[0]
	rsaPool = rsaPool[1:]
	return k
}

// jwk returns the public JWK of k as a generic map, to edit in tests.
func jwk(tb testing.TB, k *sign.Key) map[string]any {
	tb.Helper()
	b, err := json.Marshal(k.PublicJWK())
	if err != nil {
		tb.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		tb.Fatal(err)
	}
	return m
}

// jwks marshals {"keys": keys}.
func jwks(tb testing.TB, keys ...any) []byte {
	tb.Helper()
	if keys == nil {
		keys = []any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// selfSigned returns a DER certificate for the public key of k.
func selfSigned(tb testing.TB, k *sign.Key) []byte {
	tb.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "jwtgate test " + k.Kid},
		NotBefore:    epoch.Add(-time.Hour),
		NotAfter:     epoch.Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k.Private)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

// token signs a valid access token for testIssuer with k.
func token(tb testing.TB, k *sign.Key, iss string) []byte {
	tb.Helper()
	tok, err := k.Sign(map[string]any{
		"iss": iss,
		"sub": "user-1",
		"aud": testAudience,
		"exp": epoch.Add(time.Hour).Unix(),
		"iat": epoch.Add(-time.Minute).Unix(),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return []byte(tok)
}

// logBuffer collects slog output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// jwksServer is a loopback JWKS (and discovery) server whose answers the
// test changes as it goes.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64

	mu      sync.Mutex
	body    []byte
	header  http.Header
	handler http.HandlerFunc // when set, answers instead of the default
	etag    string
	lastReq *http.Request
}

func newJWKSServer(tb testing.TB, body []byte) *jwksServer {
	tb.Helper()
	js := &jwksServer{body: body}
	js.Server = httptest.NewServer(http.HandlerFunc(js.serve))
	tb.Cleanup(js.Close)
	return js
}

func (js *jwksServer) serve(w http.ResponseWriter, r *http.Request) {
	js.requests.Add(1)
	js.mu.Lock()
	js.lastReq = r.Clone(r.Context())
	h, body, hdr, etag := js.handler, js.body, js.header, js.etag
	js.mu.Unlock()
	if h != nil {
		h(w, r)
		return
	}
	if r.URL.Path != "/jwks" {
		http.NotFound(w, r)
		return
	}
	for k, v := range hdr {
		w.Header()[k] = v
	}
	if etag != "" {
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body)
}

func (js *jwksServer) set(body []byte) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.body, js.handler = body, nil
}

func (js *jwksServer) setHandler(h http.HandlerFunc) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.handler = h
}

func (js *jwksServer) setHeader(h http.Header, etag string) {
	js.mu.Lock()
	defer js.mu.Unlock()
	js.header, js.etag = h, etag
}

func (js *jwksServer) last() *http.Request {
	js.mu.Lock()
	defer js.mu.Unlock()
	return js.lastReq
}

// waitGoroutines waits until the goroutine count is back to at most base
// (connections and timers wind down asynchronously) and fails if it is not.
func waitGoroutines(tb testing.TB, base int) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("goroutines: %d, baseline %d\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(5 * time.Millisecond)
	}
}

// logContains fails unless the slog text output has s, raw or quoted.
func logContains(tb testing.TB, logs, s string) {
	tb.Helper()
	q := strconv.Quote(s)
	if !strings.Contains(logs, s) && !strings.Contains(logs, q[1:len(q)-1]) {
		tb.Fatalf("logs do not contain %q:\n%s", s, logs)
	}
}

// mustContain fails unless s contains every part.
func mustContain(tb testing.TB, s string, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			tb.Fatalf("%q does not contain %q", s, p)
		}
	}
}

// keyOf parses one JWK (as a set of one) and returns its key or error.
func keyOf(tb testing.TB, m map[string]any, algs ...engine.Alg) (*engine.Key, error) {
	tb.Helper()
	keys, skipped, err := ParseJWKS(jwks(tb, m), ParseOptions{Algorithms: algs})
	if err != nil {
		if len(skipped) == 1 {
			return nil, skipped[0]
		}
		return nil, err
	}
	return keys[0], nil
}

// fakeTimers stands in for time.NewTimer in the refresh loops: a timer
// fires when fire finds the fake clock at or past its deadline, never by
// itself, so moving the clock never starts a refresh: a test's timeline has
// exactly the background refreshes it fires. Every timer armed is reported
// on armed, with its deadline.
type fakeTimers struct {
	clock *fakeClock
	armed chan time.Time

	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

func newFakeTimers(clock *fakeClock) *fakeTimers {
	return &fakeTimers{clock: clock, armed: make(chan time.Time, 1024)}
}

// newTimer implements Store.timerHook.
func (ft *fakeTimers) newTimer(at time.Time) (<-chan time.Time, func() bool) {
	t := &fakeTimer{at: at, c: make(chan time.Time, 1)}
	ft.mu.Lock()
	ft.timers = append(ft.timers, t)
	ft.mu.Unlock()
	select {
	case ft.armed <- t.at:
	default:
	}
	return t.c, func() bool { return ft.remove(t) }
}

func (ft *fakeTimers) remove(t *fakeTimer) bool {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	for i, x := range ft.timers {
		if x == t {
			ft.timers = append(ft.timers[:i], ft.timers[i+1:]...)
			return true
		}
	}
	return false
}

// fire fires every timer whose deadline the clock has reached and reports
// how many it fired.
func (ft *fakeTimers) fire() int {
	now := ft.clock.Now()
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := 0
	kept := ft.timers[:0]
	for _, t := range ft.timers {
		if now.Before(t.at) {
			kept = append(kept, t)
			continue
		}
		t.c <- now
		n++
	}
	ft.timers = kept
	return n
}

// fireArmed waits until a timer is armed for the deadline at, which the
// clock has reached, and fires it; it fails the test after 10 s of real
// time. The refresh loop re-arms its timer asynchronously, after the wake
// that a fetch sends: a timer armed for an earlier deadline may still be
// pending, and firing it would race with that wake.
func (ft *fakeTimers) fireArmed(tb testing.TB, at time.Time) {
	tb.Helper()
	if ft.clock.Now().Before(at) {
		tb.Fatalf("fireArmed(%v) with the clock at %v", at, ft.clock.Now())
	}
	deadline := time.Now().Add(10 * time.Second)
	for !ft.fireIfArmed(at) {
		if time.Now().After(deadline) {
			tb.Fatalf("the refresh loop was not armed for %v", at)
		}
		time.Sleep(time.Millisecond)
	}
}

// fireIfArmed fires the timers that are due if one of them is armed for at.
func (ft *fakeTimers) fireIfArmed(at time.Time) bool {
	ft.mu.Lock()
	armed := false
	for _, t := range ft.timers {
		armed = armed || t.at.Equal(at)
	}
	ft.mu.Unlock()
	return armed && ft.fire() > 0
}

// awaitArmed waits until a timer is armed for a deadline within [from, by]
// and returns that deadline, skipping timers armed for other times; it
// fails the test after 10 s of real time.
func (ft *fakeTimers) awaitArmed(tb testing.TB, from, by time.Time) time.Time {
	tb.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case at := <-ft.armed:
			if !at.Before(from) && !at.After(by) {
				return at
			}
		case <-deadline:
			tb.Fatalf("the refresh loop was not armed for a refresh in [%v, %v]", from, by)
		}
	}
}
