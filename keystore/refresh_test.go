package keystore

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// awaitRefresh waits for the background refresh that the test's last
// timer firing started.
func (f *remoteFixture) awaitRefresh(t *testing.T) error {
	t.Helper()
	select {
	case err := <-f.refreshed:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no background refresh")
		return nil
	}
}

// TestRefetchRearmsTheRefreshLoop follows an issuer that shortens its
// max-age when it rotates: the refresh loop, asleep until the long max-age
// of the first fetch, must be re-armed by the unknown-kid refetch that
// brought the short one, so that the key removed next stops verifying at
// the new (earlier) refresh, not at the old one. A failed refetch's retry
// re-arms it the same way.
func TestRefetchRearmsTheRefreshLoop(t *testing.T) {
	k1 := signer(t, engine.ES256, "rearm-1")
	k2 := signer(t, engine.ES256, "rearm-2")
	f := newRemoteFixture(t, nil)
	long := http.Header{"Cache-Control": {"max-age=300"}}
	short := http.Header{"Cache-Control": {"max-age=5"}}
	f.srv.setHeader(long, "")
	f.srv.set(jwks(t, jwk(t, k1)))
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	start := f.clock.Now()
	oldAt := f.timers.awaitArmed(t, start.Add(270*time.Second), start.Add(300*time.Second))

	// K2 is published with max-age=5 (clamped to RefreshMin, 1 min) and
	// signs at once: its first token refetches.
	f.srv.setHeader(short, "")
	f.srv.set(jwks(t, jwk(t, k1), jwk(t, k2)))
	f.clock.Advance(10 * time.Second)
	before := f.srv.requests.Load()
	if _, err := f.s.LookupKey(nil, []byte("rearm-2"), engine.ES256); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.requests.Load() - before; n != 1 {
		t.Fatalf("%d fetches for the new kid", n)
	}
	refetched := f.clock.Now()
	newAt := f.timers.awaitArmed(t, refetched.Add(DefaultRefreshMin*9/10), refetched.Add(DefaultRefreshMin))

	// K1 is removed. Nothing is fetched before the new refresh time...
	f.srv.set(jwks(t, jwk(t, k2)))
	f.clock.Set(newAt.Add(-time.Second))
	if n := f.timers.fire(); n != 0 {
		t.Fatalf("%d timers fired before the refresh time", n)
	}
	if _, err := f.s.LookupKey(nil, []byte("rearm-1"), engine.ES256); err != nil {
		t.Fatalf("K1 before the refresh that removes it: %v", err)
	}
	// ...and at it, well before the old one, the refresh drops K1.
	f.clock.Set(newAt)
	before = f.srv.requests.Load()
	if n := f.timers.fire(); n != 1 {
		t.Fatalf("%d timers fired at the new refresh time, want 1", n)
	}
	if err := f.awaitRefresh(t); err != nil {
		t.Fatal(err)
	}
	if n := f.srv.requests.Load() - before; n != 1 {
		t.Fatalf("%d fetches at the refresh", n)
	}
	if _, err := f.s.LookupKey(nil, []byte("rearm-1"), engine.ES256); !errors.Is(err, engine.ErrUnknownKid) && !errors.Is(err, engine.ErrKeyRemoved) {
		t.Fatalf("K1 after the refresh that removed it: %v", err)
	}
	if !f.clock.Now().Before(oldAt) {
		t.Fatal("the refresh did not come before the old refresh time")
	}

	// A failed refetch schedules a retry about a second later: the loop is
	// re-armed for it too, and the retry picks up the key.
	k3 := signer(t, engine.ES256, "rearm-3")
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "blip", http.StatusServiceUnavailable) })
	f.clock.Advance(DefaultCooldown)
	if _, err := f.s.LookupKey(nil, []byte("rearm-3"), engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatal(err)
	}
	failed := f.clock.Now()
	retryAt := f.timers.awaitArmed(t, failed.Add(900*time.Millisecond), failed.Add(time.Second))
	f.srv.set(jwks(t, jwk(t, k2), jwk(t, k3)))
	f.clock.Set(retryAt)
	if n := f.timers.fire(); n != 1 {
		t.Fatalf("%d timers fired at the retry time, want 1", n)
	}
	if err := f.awaitRefresh(t); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.LookupKey(nil, []byte("rearm-3"), engine.ES256); err != nil {
		t.Fatalf("K3 after the retry: %v", err)
	}
}
