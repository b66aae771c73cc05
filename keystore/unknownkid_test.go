package keystore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// storm sends n lookups with distinct random kids from g goroutines, while
// another goroutine keeps verifying a valid token; it returns how many
// unknown-kid lookups did not fail with ErrUnknownKid and how many valid
// verifications failed.
func storm(t *testing.T, f *remoteFixture, v *engine.Verifier, valid []byte, g, n int) (wrong, rejected int64) {
	var wg sync.WaitGroup
	var bad, rej atomic.Int64
	done := make(chan struct{})
	verified := make(chan struct{})
	go func() {
		defer close(verified)
		var tok engine.Token
		for i := 0; ; i++ {
			if err := v.Verify(valid, &tok); err != nil {
				rej.Add(1)
				t.Errorf("valid token rejected during the storm: %v", err)
			}
			select {
			case <-done:
				if i > 0 {
					return
				}
			default:
			}
		}
	}()
	for w := 0; w < g; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kid := make([]byte, 0, 32)
			for i := 0; i < n/g; i++ {
				kid = fmt.Appendf(kid[:0], "attacker-%016x", rand.Uint64())
				if _, err := f.s.LookupKey([]byte(testIssuer), kid, engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
					bad.Add(1)
				}
				if _, err := f.s.LookupKey([]byte(testIssuer), f.kid, engine.ES256); err != nil {
					rej.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	<-verified
	return bad.Load(), rej.Load()
}

func newVerifier(t testing.TB, s *Store, clock engine.Clock) *engine.Verifier {
	v, err := engine.New(engine.Config{Keys: s, Issuers: []string{testIssuer}, Audiences: []string{testAudience}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestUnknownKidStorm(t *testing.T) {
	f := newRemoteFixture(t, nil)
	if f.startErr != nil {
		t.Fatal(f.startErr)
	}
	v := newVerifier(t, f.s, f.clock)
	valid := token(t, f.signer, testIssuer)
	for window := 0; window < 3; window++ {
		before := f.srv.requests.Load()
		statsBefore := f.s.Stats()
		wrong, rejected := storm(t, f, v, valid, 50, 10000)
		if wrong != 0 || rejected != 0 {
			t.Fatalf("window %d: %d unknown kids not rejected as unknown, %d valid lookups failed", window, wrong, rejected)
		}
		fetches := f.srv.requests.Load() - before
		if fetches > 1 {
			t.Fatalf("window %d: %d fetches in one cooldown window", window, fetches)
		}
		st := f.s.Stats()
		outcomes := (st.UnknownKidRefetched - statsBefore.UnknownKidRefetched) +
			(st.UnknownKidCooledDown - statsBefore.UnknownKidCooledDown) +
			(st.UnknownKidNegativeHit - statsBefore.UnknownKidNegativeHit)
		if outcomes != 10000 {
			t.Fatalf("window %d: %d unknown-kid outcomes counted, want 10000 (%+v)", window, outcomes, st)
		}
		t.Logf("window %d: %d fetch, stats %+v", window, fetches, st)
		f.clock.Advance(DefaultCooldown)
	}
	// Repeating a kid is answered by the negative cache.
	kid := []byte("repeat-me")
	f.s.LookupKey(nil, kid, engine.ES256)
	neg := f.s.Stats().UnknownKidNegativeHit
	for i := 0; i < 100; i++ {
		f.s.LookupKey(nil, kid, engine.ES256)
	}
	if got := f.s.Stats().UnknownKidNegativeHit - neg; got != 100 {
		t.Fatalf("%d negative hits, want 100", got)
	}
}

func TestUnknownKidWaitsForTheFetchInFlight(t *testing.T) {
	f := newRemoteFixture(t, nil)
	k2 := signer(t, engine.ES256, "in-flight")
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	body := jwks(t, jwk(t, f.signer), jwk(t, k2))
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Write(body)
	})
	before := f.srv.requests.Load()
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, err := f.s.LookupKey(nil, []byte("in-flight"), engine.ES256)
			if err == nil && k.Kid() != "in-flight" {
				err = fmt.Errorf("wrong key %s", k.Kid())
			}
			errs <- err
		}()
	}
	<-arrived
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := f.srv.requests.Load() - before; n != 1 {
		t.Fatalf("%d fetches for 20 concurrent lookups of one new kid", n)
	}
	// Lookups that started after the fetch simply hit; the others waited for it.
	if got := f.s.Stats().UnknownKidRefetched; got < 1 || got > 20 {
		t.Fatalf("refetched %d", got)
	}
}

func TestUnknownKidBackoffAfterFailedRefetch(t *testing.T) {
	f := newRemoteFixture(t, nil)
	k2 := signer(t, engine.ES256, "rotated")
	failing := true
	var mu sync.Mutex
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if failing {
			http.Error(w, "blip", http.StatusServiceUnavailable)
			return
		}
		w.Write(jwks(t, jwk(t, f.signer), jwk(t, k2)))
	})
	fetches := func() int64 { return f.srv.requests.Load() }
	lookup := func(kid string) error {
		_, err := f.s.LookupKey(nil, []byte(kid), engine.ES256)
		return err
	}
	expect := func(step string, kid string, wantFetch bool, wantErr error) {
		t.Helper()
		before := fetches()
		err := lookup(kid)
		if (wantErr == nil) != (err == nil) || (wantErr != nil && !errors.Is(err, wantErr)) {
			t.Fatalf("%s: lookup %q: %v, want %v", step, kid, err, wantErr)
		}
		if got := fetches() - before; got != map[bool]int64{true: 1, false: 0}[wantFetch] {
			t.Fatalf("%s: lookup %q made %d fetches", step, kid, got)
		}
	}
	// The issuer blips while it rotates: the refetch fails.
	expect("first miss", "rotated", true, engine.ErrUnknownKid)
	expect("within the 1s backoff", "rotated", false, engine.ErrUnknownKid)
	expect("within the 1s backoff, another kid", "other", false, engine.ErrUnknownKid)
	f.clock.Advance(time.Second)
	expect("after 1s", "rotated", true, engine.ErrUnknownKid)
	f.clock.Advance(time.Second)
	expect("backoff grew to 2s", "rotated", false, engine.ErrUnknownKid)
	f.clock.Advance(time.Second)
	// The issuer is back: the rotated key is found well before a cooldown.
	mu.Lock()
	failing = false
	mu.Unlock()
	expect("after 2s", "rotated", true, nil)
	f.mustResolve(t)
	// A refetch that brought a new key is followed by the rotation gap; one
	// that brought nothing, by the full cooldown.
	expect("rotation gap", "unknown-1", false, engine.ErrUnknownKid)
	f.clock.Advance(DefaultRotationGap)
	expect("rotation gap over", "unknown-2", true, engine.ErrUnknownKid)
	f.clock.Advance(DefaultCooldown - time.Second)
	expect("still cooling down", "unknown-3", false, engine.ErrUnknownKid)
	f.clock.Advance(time.Second)
	expect("cooldown over", "unknown-4", true, engine.ErrUnknownKid)
	st := f.s.Stats()
	if st.FetchErrors[KindStatus] != 2 {
		t.Fatalf("%+v", st)
	}
	logContains(t, f.logs.String(), "unexpected HTTP status: 503 Service Unavailable")
}

func TestNoFetchBeforeStartOrAfterClose(t *testing.T) {
	srv := newJWKSServer(t, jwks(t, jwk(t, signer(t, engine.ES256, "x"))))
	s, err := New(Options{Clock: newFakeClock(), Logger: (&logBuffer{}).logger()}, Issuer{Issuer: testIssuer, JWKSURL: srv.URL + "/jwks"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LookupKey(nil, []byte("x"), engine.ES256); !errors.Is(err, engine.ErrKeysUnavailable) {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s.Close() // idempotent
	before := srv.requests.Load()
	if _, err := s.LookupKey(nil, []byte("y"), engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatal(err)
	}
	if _, err := s.LookupKey(nil, []byte("x"), engine.ES256); err != nil {
		t.Fatal("lookups keep answering after Close:", err)
	}
	if srv.requests.Load() != before || before != 1 {
		t.Fatalf("requests %d → %d", before, srv.requests.Load())
	}
	if err := s.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatal(err)
	}
}

func TestNegCache(t *testing.T) {
	c := newNegCache(epoch)
	h := kidHash([]byte("kid"), 1)
	if c.has(h, epoch) {
		t.Fatal("empty cache hit")
	}
	c.add(h, epoch.Add(30*time.Second))
	if !c.has(h, epoch.Add(29*time.Second)) {
		t.Fatal("miss before expiry")
	}
	if c.has(h, epoch.Add(30*time.Second)) {
		t.Fatal("hit at expiry")
	}
	if c.has(kidHash([]byte("kid"), 2), epoch) {
		t.Fatal("another issuer's kid hit")
	}
	if kidHash([]byte("kid"), 1) == kidHash([]byte("kie"), 1) {
		t.Fatal("hash collision")
	}
	// Sub-second expiries round down: the gate, not the cache, decides then.
	c.add(h, epoch.Add(1500*time.Millisecond))
	if c.has(h, epoch.Add(time.Second)) {
		t.Fatal("entry outlived its rounded expiry")
	}
	h2 := kidHash([]byte("short"), 1)
	c.add(h2, epoch.Add(500*time.Millisecond))
	if c.has(h2, epoch) {
		t.Fatal("an entry of less than a second must not be stored")
	}
}

// awaitBlockedIn waits until some goroutine's stack has every one of the
// frames (function names as runtime.Stack prints them) and fails the test
// after 10 s of real time.
func awaitBlockedIn(tb testing.TB, frames ...string) {
	tb.Helper()
	buf := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for {
		all := string(buf[:runtime.Stack(buf, true)])
		for _, g := range strings.Split(all, "\n\n") {
			found := true
			for _, fr := range frames {
				found = found && strings.Contains(g, fr)
			}
			if found {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no goroutine reached %q:\n%s", frames, all)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRefetchDoesNotSettleForAnOlderFetch: a background refresh is in flight
// and the issuer answered it before it published K2; K2 signs at once, and
// its first token arrives while that refresh is still running. The
// unknown-kid refetch waits for the refresh, whose keys lack K2, and then
// fetches itself: K2 is accepted on its first token and not locked out
// for a cooldown. When the refresh in flight already brought K2, nothing
// more is fetched. Refresh, called while a fetch is in flight, likewise
// answers with a fetch that started after it was called.
func TestRefetchDoesNotSettleForAnOlderFetch(t *testing.T) {
	k2 := signer(t, engine.ES256, "older-2")
	for _, c := range []struct {
		name    string
		early   bool // the refresh in flight already has K2
		refresh bool // Refresh, not an unknown-kid lookup, arrives during the refresh
		fetches int64
	}{
		{"refresh in flight predates the kid", false, false, 2},
		{"refresh in flight has the kid", true, false, 1},
		{"Refresh during a refresh in flight", false, true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newRemoteFixture(t, nil)
			old := jwks(t, jwk(t, f.signer))
			both := jwks(t, jwk(t, f.signer), jwk(t, k2))
			arrived := make(chan struct{})
			release := make(chan struct{})
			var n atomic.Int64
			f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) > 1 {
					w.Write(both) // the issuer has published K2 by now
					return
				}
				body := old
				if c.early {
					body = both
				}
				close(arrived)
				<-release // the answer was made before K2 was published, or after
				w.Write(body)
			})
			f.fireRefresh(t)
			<-arrived
			done := make(chan error, 1)
			if c.refresh {
				go func() { done <- f.s.Refresh(context.Background(), testIssuer) }()
				awaitBlockedIn(t, "keystore.(*Store).Refresh(", "[select")
			} else {
				go func() {
					k, err := f.s.LookupKey(nil, []byte("older-2"), engine.ES256)
					if err == nil && k.Kid() != "older-2" {
						err = fmt.Errorf("wrong key %s", k.Kid())
					}
					done <- err
				}()
				// The lookup has joined the refresh in flight.
				awaitBlockedIn(t, "keystore.(*issuer).awaitRefetch(", "singleflight.(*Group).Do(")
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("K2 while a refresh older than it was in flight: %v", err)
			}
			if err := f.awaitRefresh(t); err != nil {
				t.Fatal(err)
			}
			if got := n.Load(); got != c.fetches {
				t.Fatalf("%d fetches, want %d", got, c.fetches)
			}
			if _, err := f.s.LookupKey(nil, []byte("older-2"), engine.ES256); err != nil {
				t.Fatalf("K2 afterwards: %v", err)
			}
		})
	}
}
