package keystore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// remoteFixture is a started store with one issuer fed by a loopback JWKS
// server, on a fake clock.
type remoteFixture struct {
	s         *Store
	srv       *jwksServer
	clock     *fakeClock
	logs      *logBuffer
	signer    *sign.Key
	kid       []byte
	startErr  error
	refreshed chan error // one value per background refresh
	timers    *fakeTimers
}

func newRemoteFixture(tb testing.TB, mod func(*Issuer, *Options)) *remoteFixture {
	tb.Helper()
	f := &remoteFixture{clock: newFakeClock(), logs: &logBuffer{}, refreshed: make(chan error, 64)}
	f.signer = signer(tb, engine.ES256, "remote-1")
	f.kid = []byte(f.signer.Kid)
	f.srv = newJWKSServer(tb, jwks(tb, jwk(tb, f.signer)))
	cfg := Issuer{Issuer: testIssuer, JWKSURL: f.srv.URL + "/jwks", FetchTimeout: 5 * time.Second}
	opts := Options{Clock: f.clock, Logger: f.logs.logger()}
	if mod != nil {
		mod(&cfg, &opts)
	}
	s, err := New(opts, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	s.refreshHook = func(_ string, err error) { f.refreshed <- err }
	f.timers = newFakeTimers(f.clock)
	s.timerHook = f.timers.newTimer
	f.s = s
	// Runs after Close (cleanups run last-in first-out): every background
	// refresh was one the test fired and waited for.
	tb.Cleanup(func() {
		if n := len(f.refreshed); n > 0 {
			tb.Errorf("%d background refreshes that the test did not fire or did not wait for", n)
		}
	})
	tb.Cleanup(s.Close)
	f.startErr = s.Start(context.Background())
	return f
}

// backgroundRefresh moves the clock past the next scheduled refresh, fires
// the refresh loop's timer and waits for the refresh it runs.
func (f *remoteFixture) backgroundRefresh(t *testing.T) error {
	t.Helper()
	f.fireRefresh(t)
	return f.awaitRefresh(t)
}

// fireRefresh moves the clock past the next scheduled refresh and fires the
// refresh loop's timer; awaitRefresh waits for the refresh it starts.
func (f *remoteFixture) fireRefresh(t *testing.T) {
	t.Helper()
	if n := len(f.refreshed); n > 0 {
		t.Fatalf("%d background refreshes ran that the test did not fire", n)
	}
	is := f.s.issuers[0]
	is.mu.Lock()
	at := is.nextRefresh
	is.mu.Unlock()
	f.clock.Advance(at.Sub(f.clock.Now()) + time.Second)
	f.timers.fireArmed(t, at)
}

func (f *remoteFixture) mustResolve(t *testing.T) {
	t.Helper()
	k, err := f.s.LookupKey(nil, f.kid, engine.ES256)
	if err != nil || k.Kid() != f.signer.Kid {
		t.Fatalf("the good key no longer resolves: %v", err)
	}
}

func TestRemoteLoadAndStatus(t *testing.T) {
	f := newRemoteFixture(t, nil)
	if f.startErr != nil {
		t.Fatal(f.startErr)
	}
	f.mustResolve(t)
	if !f.s.Ready() {
		t.Fatal("not ready")
	}
	st := f.s.Issuers()
	if len(st) != 1 || st[0].Issuer != testIssuer || st[0].Keys != 1 || !st[0].Ready || !st[0].LastRefresh.Equal(epoch) || st[0].LastError != "" {
		t.Fatalf("%+v", st)
	}
	if got := f.s.Stats(); got.FetchOK != 1 || len(got.FetchErrors) != len(fetchKinds) {
		t.Fatalf("%+v", got)
	}
	req := f.srv.last()
	mustContain(t, req.Header.Get("Accept"), "application/jwk-set+json")
	if req.Header.Get("User-Agent") != userAgent {
		t.Fatal(req.Header.Get("User-Agent"))
	}
}

func TestConditionalRequests(t *testing.T) {
	f := newRemoteFixture(t, func(*Issuer, *Options) {})
	f.srv.setHeader(http.Header{"Last-Modified": {"Wed, 25 Nov 2026 11:00:00 GMT"}}, `"v1"`)
	ctx := context.Background()
	if err := f.s.Refresh(ctx, testIssuer); err != nil { // same body, now with validators
		t.Fatal(err)
	}
	snap := f.s.issuers[0].snap.Load()
	if err := f.s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	req := f.srv.last()
	if req.Header.Get("If-None-Match") != `"v1"` || req.Header.Get("If-Modified-Since") != "Wed, 25 Nov 2026 11:00:00 GMT" {
		t.Fatalf("conditional headers: %v", req.Header)
	}
	st := f.s.Stats()
	if st.FetchNotModified != 1 || st.FetchOK != 2 {
		t.Fatalf("%+v", st)
	}
	if f.s.issuers[0].snap.Load() != snap {
		t.Fatal("a 304 or an unchanged body must not replace the snapshot")
	}
	if n := strings.Count(f.logs.String(), "key set updated"); n != 1 {
		t.Fatalf("%d updates logged", n)
	}
	// A 304 to a request that was not conditional is an error.
	f2 := newRemoteFixture(t, nil)
	f2.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) })
	var fe *FetchError
	if err := f2.s.Refresh(ctx, testIssuer); !errors.As(err, &fe) || fe.Kind != KindStatus || fe.Status != 304 {
		t.Fatal(err)
	}
}

func TestCacheLifetime(t *testing.T) {
	now := epoch
	date := now.Add(-10 * time.Second).UTC().Format(http.TimeFormat)
	cases := []struct {
		header http.Header
		want   time.Duration
		ok     bool
	}{
		{http.Header{}, 0, false},
		{http.Header{"Cache-Control": {"public, max-age=300"}}, 300 * time.Second, true},
		{http.Header{"Cache-Control": {"max-age=300"}, "Age": {"100"}}, 200 * time.Second, true},
		{http.Header{"Cache-Control": {`max-age="60"`}}, time.Minute, true},
		{http.Header{"Cache-Control": {"no-cache"}}, 0, true},
		{http.Header{"Cache-Control": {"public", "no-store"}}, 0, true},
		{http.Header{"Cache-Control": {"max-age=abc"}}, 0, false},
		{http.Header{"Cache-Control": {"max-age=60"}, "Expires": {now.Add(time.Hour).Format(http.TimeFormat)}}, time.Minute, true},
		{http.Header{"Expires": {now.Add(time.Hour).UTC().Format(http.TimeFormat)}}, time.Hour, true},
		{http.Header{"Expires": {now.Add(time.Hour).UTC().Format(http.TimeFormat)}, "Date": {date}}, time.Hour + 10*time.Second, true},
		{http.Header{"Expires": {"0"}}, 0, true},
		{http.Header{"Expires": {now.Add(-time.Hour).UTC().Format(http.TimeFormat)}}, 0, true},
	}
	for _, c := range cases {
		d, ok := cacheLifetime(c.header, now)
		if d != c.want || ok != c.ok {
			t.Fatalf("%v: %v %v, want %v %v", c.header, d, ok, c.want, c.ok)
		}
	}
	cfg := Issuer{RefreshDefault: 10 * time.Minute, RefreshMin: time.Minute, RefreshMax: 24 * time.Hour}
	for h, want := range map[string]time.Duration{
		"":               10 * time.Minute,
		"max-age=5":      time.Minute,
		"max-age=7200":   2 * time.Hour,
		"max-age=999999": 24 * time.Hour,
	} {
		hdr := http.Header{}
		if h != "" {
			hdr.Set("Cache-Control", h)
		}
		if got := refreshInterval(&cfg, hdr, now); got != want {
			t.Fatalf("%q: %v, want %v", h, got, want)
		}
	}
}

func TestRefreshScheduleFollowsCacheControl(t *testing.T) {
	f := newRemoteFixture(t, nil)
	for h, want := range map[string]time.Duration{
		"max-age=7200": 2 * time.Hour,
		"max-age=1":    DefaultRefreshMin,
		"no-store":     DefaultRefreshMin,
		"":             DefaultRefreshDefault,
	} {
		hdr := http.Header{}
		if h != "" {
			hdr.Set("Cache-Control", h)
		}
		f.srv.setHeader(hdr, "")
		if err := f.s.Refresh(context.Background(), testIssuer); err != nil {
			t.Fatal(err)
		}
		is := f.s.issuers[0]
		is.mu.Lock()
		got := is.nextRefresh.Sub(f.clock.Now())
		is.mu.Unlock()
		if got > want || got < want-want/10 {
			t.Fatalf("%q: next refresh in %v, want %v minus up to 10%% jitter", h, got, want)
		}
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range []time.Duration{time.Second, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		if n == 0 {
			continue
		}
		if got := backoff(n, 8*time.Second); got != want {
			t.Fatalf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
	for n := 1; n < 40; n++ {
		if d := kidBackoff(n, DefaultCooldown); d >= DefaultCooldown || d < time.Second {
			t.Fatalf("kidBackoff(%d) = %v", n, d)
		}
	}
	if d := jitter(time.Minute); d > time.Minute || d < 54*time.Second {
		t.Fatal(d)
	}
}

func TestBackgroundRefreshFollowsRotation(t *testing.T) {
	f := newRemoteFixture(t, nil)
	k2 := signer(t, engine.ES256, "remote-2")
	f.srv.set(jwks(t, jwk(t, f.signer), jwk(t, k2)))
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.LookupKey(nil, []byte("remote-2"), engine.ES256); err != nil {
		t.Fatal(err)
	}
	if f.srv.requests.Load() != 2 {
		t.Fatalf("%d requests", f.srv.requests.Load())
	}
}

func TestStartWithFailingRemoteRecovers(t *testing.T) {
	var f *remoteFixture
	f = newRemoteFixture(t, func(c *Issuer, _ *Options) {
		c.JWKSURL = strings.Replace(c.JWKSURL, "/jwks", "/down", 1)
	})
	var fe *FetchError
	if !errors.As(f.startErr, &fe) || fe.Kind != KindStatus || fe.Status != 404 {
		t.Fatalf("Start: %v", f.startErr)
	}
	if f.s.Ready() {
		t.Fatal("ready without keys")
	}
	// The retry comes after a backoff of about a second, not a refresh interval.
	is := f.s.issuers[0]
	is.mu.Lock()
	wait := is.nextRefresh.Sub(f.clock.Now())
	is.mu.Unlock()
	if wait != time.Second {
		t.Fatalf("retry in %v", wait)
	}
	// A lookup may try once more itself (the unknown-kid gate), then fails fast.
	before := f.srv.requests.Load()
	for i := 0; i < 3; i++ {
		_, err := f.s.LookupKey(nil, f.kid, engine.ES256)
		if !errors.Is(err, engine.ErrKeysUnavailable) {
			t.Fatal(err)
		}
		mustContain(t, err.Error(), `the signing keys of issuer "https://issuer.example" are unavailable`)
	}
	if n := f.srv.requests.Load() - before; n != 1 {
		t.Fatalf("%d fetches", n)
	}
	mustContain(t, f.s.Issuers()[0].LastError, "404 Not Found")
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { w.Write(jwks(t, jwk(t, f.signer))) })
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	if !f.s.Ready() {
		t.Fatal("not ready after recovery")
	}
	f.mustResolve(t)
}

// faultCase turns the loopback server hostile after good keys were loaded.
type faultCase struct {
	name  string
	cfg   func(*Issuer)
	fault func(t *testing.T, f *remoteFixture, stop <-chan struct{})
	kind  string
	is    error
	cause string
}

func faultCases() []faultCase {
	status := func(code int) func(*testing.T, *remoteFixture, <-chan struct{}) {
		return func(_ *testing.T, f *remoteFixture, _ <-chan struct{}) {
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", code) })
		}
	}
	body := func(b func(t *testing.T) []byte) func(*testing.T, *remoteFixture, <-chan struct{}) {
		return func(t *testing.T, f *remoteFixture, _ <-chan struct{}) { f.srv.set(b(t)) }
	}
	return []faultCase{
		{"slower than the timeout", func(c *Issuer) { c.FetchTimeout = 300 * time.Millisecond },
			func(_ *testing.T, f *remoteFixture, stop <-chan struct{}) {
				f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-stop:
					}
				})
			}, KindTimeout, context.DeadlineExceeded, "context deadline exceeded"},
		{"slow body", func(c *Issuer) { c.FetchTimeout = 300 * time.Millisecond },
			func(_ *testing.T, f *remoteFixture, stop <-chan struct{}) {
				f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte(`{"keys":[`))
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
					case <-stop:
					}
				})
			}, KindTimeout, context.DeadlineExceeded, "reading the body"},
		{"500", nil, status(500), KindStatus, ErrUnexpectedStatus, "unexpected HTTP status: 500 Internal Server Error"},
		{"404", nil, status(404), KindStatus, ErrUnexpectedStatus, "unexpected HTTP status: 404 Not Found"},
		{"200 garbage", nil, body(func(*testing.T) []byte { return []byte("<html>oops</html>") }), KindInvalid, ErrNotJWKS, "not a JWK Set: not valid JSON"},
		{"200 with 10 MiB", nil, func(_ *testing.T, f *remoteFixture, _ <-chan struct{}) {
			big := make([]byte, 10<<20)
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(big)))
				w.Write(big)
			})
		}, KindTooLarge, ErrBodyTooLarge, "Content-Length 10485760, the limit is 1048576"},
		{"200 with 10 MiB, chunked", nil, func(_ *testing.T, f *remoteFixture, _ <-chan struct{}) {
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
				chunk := make([]byte, 64<<10)
				for i := 0; i < 160; i++ {
					if _, err := w.Write(chunk); err != nil {
						return
					}
					w.(http.Flusher).Flush()
				}
			})
		}, KindTooLarge, ErrBodyTooLarge, "more than 1048576 bytes"},
		{"connection reset mid-body", nil, func(t *testing.T, f *remoteFixture, _ <-chan struct{}) {
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"keys\":[")
				buf.Flush()
				conn.(*net.TCPConn).SetLinger(0)
				conn.Close()
			})
		}, KindNetwork, nil, "reading the body"},
		{"connection refused", func(c *Issuer) {}, func(t *testing.T, f *remoteFixture, _ <-chan struct{}) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := l.Addr().String()
			l.Close()
			f.s.issuers[0].jwksURL = "http://" + addr + "/jwks"
		}, KindNetwork, nil, "connection refused"},
		{"redirect to another host", nil, func(_ *testing.T, f *remoteFixture, _ <-chan struct{}) {
			other := strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1) + "/jwks"
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, other, http.StatusFound) })
		}, KindRedirect, ErrRedirectRefused, "redirects to another host (localhost:"},
		{"redirect loop", nil, func(_ *testing.T, f *remoteFixture, _ <-chan struct{}) {
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/jwks", http.StatusFound) })
		}, KindRedirect, ErrRedirectRefused, "more than 5 redirects"},
		{"empty keys", nil, body(func(t *testing.T) []byte { return jwks(t) }), KindInvalid, ErrNoUsableKeys, "the set has no keys"},
		{"only enc keys", nil, body(func(t *testing.T) []byte {
			m := jwk(t, signer(t, engine.RS256, "enc"))
			m["use"] = "enc"
			return jwks(t, m)
		}), KindInvalid, ErrNotForVerification, `use is "enc", not "sig"`},
		{"ambiguous set", nil, body(func(t *testing.T) []byte {
			m := jwk(t, signer(t, engine.ES256, "remote-1"))
			return jwks(t, m, m)
		}), KindInvalid, ErrAmbiguousKid, `kid "remote-1" with alg ES256`},
	}
}

func TestFetchFaultsKeepLastGoodKeys(t *testing.T) {
	for _, c := range faultCases() {
		t.Run(c.name, func(t *testing.T) {
			base := runtime.NumGoroutine()
			stop := make(chan struct{})
			f := newRemoteFixture(t, func(cfg *Issuer, _ *Options) {
				if c.cfg != nil {
					c.cfg(cfg)
				}
			})
			if f.startErr != nil {
				t.Fatal(f.startErr)
			}
			c.fault(t, f, stop)
			err := f.s.Refresh(context.Background(), testIssuer)
			var fe *FetchError
			if !errors.As(err, &fe) || fe.Kind != c.kind || fe.Issuer != testIssuer {
				t.Fatalf("err %v, want a %s FetchError", err, c.kind)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Fatalf("err %v does not wrap %v", err, c.is)
			}
			mustContain(t, err.Error(), c.cause)
			f.mustResolve(t)
			if !f.s.Ready() {
				t.Fatal("a failed fetch made the issuer unready")
			}
			st := f.s.Stats()
			if st.FetchErrors[c.kind] != 1 || st.FetchOK != 1 {
				t.Fatalf("%+v", st)
			}
			logs := f.logs.String()
			mustContain(t, logs, "key set fetch failed", "kind="+c.kind)
			logContains(t, logs, c.cause)
			mustContain(t, f.s.Issuers()[0].LastError, c.cause)
			// The next attempt comes after a backoff, not a full refresh interval.
			is := f.s.issuers[0]
			is.mu.Lock()
			wait := is.nextRefresh.Sub(f.clock.Now())
			is.mu.Unlock()
			if wait > time.Second {
				t.Fatalf("retry in %v", wait)
			}
			// Unknown kids keep failing fast with the good key still there.
			if _, err := f.s.LookupKey(nil, []byte("unknown"), engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
				t.Fatal(err)
			}
			f.mustResolve(t)
			close(stop)
			f.s.Close()
			f.srv.Close()
			waitGoroutines(t, base)
		})
	}
}

func TestRedirectWithinTheHostIsFollowed(t *testing.T) {
	f := newRemoteFixture(t, func(c *Issuer, _ *Options) { c.JWKSURL = strings.Replace(c.JWKSURL, "/jwks", "/old", 1) })
	good := jwks(t, jwk(t, f.signer))
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/jwks", http.StatusMovedPermanently)
			return
		}
		w.Write(good)
	})
	if err := f.s.Refresh(context.Background(), testIssuer); err != nil {
		t.Fatal(err)
	}
	f.mustResolve(t)
}

// discoveryServer serves a discovery document naming issuer and a JWKS.
func discoveryServer(t *testing.T, f *remoteFixture, issuer string) {
	jwksBody := jwks(t, jwk(t, f.signer))
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/tenant" + wellKnown:
			fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q,"response_types_supported":["code"]}`, issuer, f.srv.URL+"/keys")
		case "/keys":
			w.Write(jwksBody)
		default:
			http.NotFound(w, r)
		}
	})
}

func TestDiscovery(t *testing.T) {
	var srvURL string
	f := newRemoteFixture(t, func(c *Issuer, _ *Options) {
		srvURL = strings.TrimSuffix(c.JWKSURL, "/jwks")
		c.JWKSURL = ""
		c.Issuer = srvURL + "/tenant"
		c.Discovery = srvURL + "/tenant"
	})
	// Start ran against the default handler (no document): not ready.
	if !errors.Is(f.startErr, ErrUnexpectedStatus) {
		t.Fatal(f.startErr)
	}
	discoveryServer(t, f, srvURL+"/tenant")
	ctx := context.Background()
	if err := f.s.Refresh(ctx, srvURL+"/tenant"); err != nil {
		t.Fatal(err)
	}
	f.mustResolve(t)
	if got := f.srv.last().URL.Path; got != "/keys" {
		t.Fatal(got)
	}
	// A document naming another issuer (even by a trailing slash) is refused;
	// the keys stay.
	discoveryServer(t, f, srvURL+"/tenant/")
	err := f.s.Refresh(ctx, srvURL+"/tenant")
	var fe *FetchError
	if !errors.As(err, &fe) || fe.Kind != KindDiscovery || !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("%v", err)
	}
	mustContain(t, err.Error(), fmt.Sprintf("the document says %q, the configuration %q", srvURL+"/tenant/", srvURL+"/tenant"))
	mustContain(t, f.logs.String(), "kind=discovery")
	f.mustResolve(t)
	if f.s.Stats().FetchErrors[KindDiscovery] != 1 {
		t.Fatal(f.s.Stats())
	}
	// Malformed documents.
	for doc, text := range map[string]string{
		`{"issuer":"x"`: "not valid JSON",
		`{"issuer":` + fmt.Sprintf("%q", srvURL+"/tenant") + `}`:                        `member "jwks_uri" must be a string`,
		`{"issuer":` + fmt.Sprintf("%q", srvURL+"/tenant") + `,"jwks_uri":"file:///x"}`: "is not an http or https URL",
		`{"issuer":1}`: `member "issuer" must be a string`,
	} {
		f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(doc)) })
		err := f.s.Refresh(ctx, srvURL+"/tenant")
		if !errors.As(err, &fe) || fe.Kind != KindDiscovery || !errors.Is(err, ErrDiscovery) {
			t.Fatalf("%s: %v", doc, err)
		}
		mustContain(t, err.Error(), text)
		f.mustResolve(t)
	}
}

func TestDiscoveryOverTLSRefusesPlainJWKS(t *testing.T) {
	var tlsURL string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":"http://127.0.0.1:1/keys"}`, tlsURL)
	}))
	defer srv.Close()
	tlsURL = srv.URL
	s, err := New(Options{Clock: newFakeClock(), HTTPClient: srv.Client(), Logger: (&logBuffer{}).logger()},
		Issuer{Issuer: tlsURL, Discovery: tlsURL})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Start(context.Background())
	if !errors.Is(err, ErrDiscovery) {
		t.Fatal(err)
	}
	mustContain(t, err.Error(), `jwks_uri "http://127.0.0.1:1/keys" leaves https`)
}
