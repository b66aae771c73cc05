package keystore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/internal/sign"
)

// fetchLog serves a key set chosen per fetch and records the fake-clock
// time of every fetch.
type fetchLog struct {
	mu    sync.Mutex
	times []time.Time
	body  func(n int) []byte // the set served to the n-th fetch (from 0)
}

func (l *fetchLog) install(t *testing.T, f *remoteFixture, body func(n int) []byte) {
	t.Helper()
	l.mu.Lock()
	l.body = body
	l.mu.Unlock()
	f.srv.setHandler(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		n := len(l.times)
		l.times = append(l.times, f.clock.Now())
		b := l.body(n)
		l.mu.Unlock()
		w.Write(b)
	})
}

func (l *fetchLog) set(body func(n int) []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.body = body
}

func (l *fetchLog) fetches() []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.times...)
}

// TestUnknownKidFloodAcrossWindows sends made-up kids every half second for
// four cooldowns: consecutive fetches are a full cooldown apart. Against an
// issuer whose set changes at every fetch (the worst case for the rotation
// gap), they are at least the rotation gap apart, and any two fetches apart
// are a full cooldown apart: a rotation costs at most one extra fetch.
func TestUnknownKidFloodAcrossWindows(t *testing.T) {
	for _, churn := range []bool{false, true} {
		t.Run(fmt.Sprintf("churn=%v", churn), func(t *testing.T) {
			f := newRemoteFixture(t, nil)
			base := jwk(t, f.signer)
			var log fetchLog
			log.install(t, f, func(n int) []byte {
				if !churn {
					return jwks(t, base)
				}
				k := signer(t, engine.ES256, fmt.Sprintf("churn-%d", n))
				return jwks(t, base, jwk(t, k))
			})
			f.clock.Advance(DefaultCooldown)
			start := f.clock.Now()
			for i := 0; f.clock.Now().Sub(start) < 4*DefaultCooldown; i++ {
				for j := 0; j < 20; j++ {
					kid := []byte(fmt.Sprintf("attacker-%d-%d", i, j))
					if _, err := f.s.LookupKey(nil, kid, engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
						t.Fatalf("made-up kid: %v", err)
					}
				}
				f.mustResolve(t)
				f.clock.Advance(500 * time.Millisecond)
			}
			times := log.fetches()
			if len(times) < 4 {
				t.Fatalf("%d fetches in four cooldowns of flood: the gate never opened", len(times))
			}
			for i := 1; i < len(times); i++ {
				gap := times[i].Sub(times[i-1])
				if !churn && gap < DefaultCooldown {
					t.Fatalf("fetches %d and %d are %v apart, less than the cooldown", i-1, i, gap)
				}
				if churn && gap < DefaultRotationGap {
					t.Fatalf("fetches %d and %d are %v apart, less than the rotation gap", i-1, i, gap)
				}
				if i >= 2 {
					if d := times[i].Sub(times[i-2]); d < DefaultCooldown {
						t.Fatalf("fetches %d to %d within %v: more than one extra fetch per cooldown", i-2, i, d)
					}
				}
			}
			t.Logf("%d fetches in %v", len(times), 4*DefaultCooldown)
		})
	}
}

// TestRotationsSecondsApart follows an issuer that rotates twice in a few
// seconds — K2 published and signing, then K3 published and signing a
// second later — with fresh tokens every half second. A K3 token is refused
// only within the rotation gap after the refetch that found K2, and the
// two rotations cost two fetches; the next made-up kid faces the full
// cooldown again. Ten minutes later the issuer does it again (K4, K5), with the
// same outcome: the rotation gap is rationed per cooldown, not once ever.
func TestRotationsSecondsApart(t *testing.T) {
	k := make([]*sign.Key, 6)
	for i := 1; i < len(k); i++ {
		k[i] = signer(t, engine.ES256, fmt.Sprintf("twice-%d", i))
	}
	f := newRemoteFixture(t, nil)
	var log fetchLog
	set := func(keys ...*sign.Key) func(int) []byte {
		var ms []any
		for _, k := range keys {
			ms = append(ms, jwk(t, k))
		}
		b := jwks(t, ms...)
		return func(int) []byte { return b }
	}
	log.install(t, f, set(k[1]))
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, f.s, f.clock)
	var tok engine.Token
	f.clock.Advance(DefaultCooldown)

	doubleRotation := func(old, next, last *sign.Key) {
		t.Helper()
		t0 := f.clock.Now()
		log.set(set(old, next)) // next published, signs at once
		before := len(log.fetches())
		var refetchNext time.Time
		refused := 0
		for step := 0; step < 20; step++ { // 10 s of traffic
			now := f.clock.Now()
			if now.Sub(t0) == time.Second {
				log.set(set(old, next, last)) // last published...
			}
			signing := next
			if now.Sub(t0) >= 1500*time.Millisecond {
				signing = last // ...and signs half a second later
			}
			err := v.Verify(token(t, signing, testIssuer), &tok)
			if signing == next && refetchNext.IsZero() {
				refetchNext = now
			}
			if err != nil {
				if signing != last || !errors.Is(err, engine.ErrUnknownKid) {
					t.Fatalf("at +%v: %s token refused: %v", now.Sub(t0), signing.Kid, err)
				}
				if now.Sub(refetchNext) >= DefaultRotationGap {
					t.Fatalf("at +%v: %s token refused after the rotation gap that followed %s's refetch: %v", now.Sub(t0), last.Kid, next.Kid, err)
				}
				refused++
			}
			f.clock.Advance(500 * time.Millisecond)
		}
		if n := len(log.fetches()) - before; n != 2 {
			t.Fatalf("%d fetches for two rotations, want 2", n)
		}
		t.Logf("%d %s tokens refused during the rotation gap", refused, last.Kid)
		// The rotation gap was spent: a made-up kid now finds the full
		// cooldown that the last refetch started.
		fetched := log.fetches()
		f.clock.Set(fetched[len(fetched)-1].Add(DefaultCooldown - time.Second))
		if _, err := f.s.LookupKey(nil, []byte("made-up"), engine.ES256); !errors.Is(err, engine.ErrUnknownKid) {
			t.Fatal(err)
		}
		if n := len(log.fetches()) - len(fetched); n != 0 {
			t.Fatalf("a made-up kid fetched %d times within the cooldown after two rotations", n)
		}
	}
	doubleRotation(k[1], k[2], k[3])
	f.clock.Advance(10 * time.Minute) // tokens live an hour from epoch
	doubleRotation(k[3], k[4], k[5])
}

// TestRemovedKidNeverCoolsDown: tokens of a key the issuer removed keep
// arriving every half second; they are refused at once as a removed key,
// fetch nothing and start no cooldown, so a key created later is accepted
// on its first token, by one refetch.
func TestRemovedKidNeverCoolsDown(t *testing.T) {
	k1 := signer(t, engine.ES256, "gone-1")
	k2 := signer(t, engine.ES256, "gone-2")
	k3 := signer(t, engine.ES256, "gone-3")
	f := newRemoteFixture(t, nil)
	var log fetchLog
	log.install(t, f, func(int) []byte { return jwks(t, jwk(t, k1), jwk(t, k2)) })
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, f.s, f.clock)
	var tok engine.Token
	old := token(t, k1, testIssuer)
	if err := v.Verify(old, &tok); err != nil {
		t.Fatal(err)
	}
	// The issuer removes K1 (K2 signs); the next refresh learns it.
	log.set(func(int) []byte { return jwks(t, jwk(t, k2)) })
	if err := f.backgroundRefresh(t); err != nil {
		t.Fatal(err)
	}
	before := len(log.fetches())
	removedBefore := f.s.Stats().KeyRemoved
	created := f.clock.Now().Add(2 * DefaultCooldown)
	accepted := false
	n := 0
	for f.clock.Now().Before(created.Add(10 * time.Second)) {
		for _, tk := range [][]byte{old, token(t, k1, testIssuer)} {
			err := v.Verify(tk, &tok)
			var ee *engine.Error
			if !errors.Is(err, engine.ErrKeyRemoved) || !errors.As(err, &ee) || ee.OAuthCode() != engine.OAuthInvalidToken || ee.Reason() != "key_removed" {
				t.Fatalf("token of the removed key: %v", err)
			}
			mustContain(t, err.Error(), "removed", testIssuer)
			n++
		}
		if !f.clock.Now().Before(created) {
			if f.clock.Now().Equal(created) {
				log.set(func(int) []byte { return jwks(t, jwk(t, k2), jwk(t, k3)) })
			}
			if err := v.Verify(token(t, k3, testIssuer), &tok); err != nil {
				t.Fatalf("at +%v after K3 was created: %v", f.clock.Now().Sub(created), err)
			}
			accepted = true
		}
		f.clock.Advance(500 * time.Millisecond)
	}
	if !accepted {
		t.Fatal("K3 was never presented")
	}
	if got := len(log.fetches()) - before; got != 1 {
		t.Fatalf("%d fetches, want the one refetch that found K3", got)
	}
	if got := f.s.Stats().KeyRemoved - removedBefore; got != uint64(n) {
		t.Fatalf("KeyRemoved counted %d, want %d", got, n)
	}
}

// TestRemovedKidMemoryIsBounded: the memory of removed kids forgets a kid
// after RemovedKidTTL (it is an unknown kid again), forgets a kid the
// issuer publishes again, and keeps at most maxRemovedKids, the newest.
func TestRemovedKidMemoryIsBounded(t *testing.T) {
	ttl := time.Hour
	f := newRemoteFixture(t, func(c *Issuer, _ *Options) { c.RemovedKidTTL = ttl })
	k1 := signer(t, engine.ES256, "ttl-1")
	ctx := context.Background()
	f.srv.set(jwks(t, jwk(t, f.signer), jwk(t, k1)))
	if err := f.s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	f.srv.set(jwks(t, jwk(t, f.signer)))
	if err := f.s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	lookup := func(kid string) error {
		_, err := f.s.LookupKey(nil, []byte(kid), engine.ES256)
		return err
	}
	if err := lookup("ttl-1"); !errors.Is(err, engine.ErrKeyRemoved) {
		t.Fatal(err)
	}
	f.clock.Advance(ttl - time.Second)
	if err := lookup("ttl-1"); !errors.Is(err, engine.ErrKeyRemoved) {
		t.Fatalf("before the TTL: %v", err)
	}
	f.clock.Advance(time.Second)
	if err := lookup("ttl-1"); !errors.Is(err, engine.ErrUnknownKid) {
		t.Fatalf("at the TTL: %v, want an unknown kid again", err)
	}
	// Published again: known again, and forgotten as removed.
	f.srv.set(jwks(t, jwk(t, f.signer), jwk(t, k1)))
	if err := f.s.Refresh(ctx, testIssuer); err != nil {
		t.Fatal(err)
	}
	if err := lookup("ttl-1"); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.s.issuers[0].snap.Load().removed["ttl-1"]; ok {
		t.Fatal("a kid published again is still remembered as removed")
	}

	// The count bound keeps the newest.
	now := epoch.UnixNano()
	prev := map[string]int64{}
	for i := 0; i < maxRemovedKids; i++ {
		prev[fmt.Sprintf("old-%d", i)] = now - int64(maxRemovedKids-i)
	}
	gone := []*engine.Key{f.s.Keys(testIssuer)[0]}
	got := removedKids(prev, gone, nil, now, ttl)
	if len(got) != maxRemovedKids {
		t.Fatalf("%d removed kids remembered, want %d", len(got), maxRemovedKids)
	}
	if _, ok := got[gone[0].Kid()]; !ok {
		t.Fatal("the newest removed kid was not kept")
	}
	if _, ok := got["old-0"]; ok {
		t.Fatal("the oldest removed kid was kept over the bound")
	}
	if got := removedKids(prev, nil, nil, now+int64(ttl), ttl); len(got) != 0 {
		t.Fatalf("%d removed kids outlived the TTL", len(got))
	}
}

func TestRotationGapDefaults(t *testing.T) {
	for _, c := range []struct {
		cfg      Issuer
		gap, ttl time.Duration
	}{
		{Issuer{}, DefaultRotationGap, DefaultRemovedKidTTL},
		{Issuer{Cooldown: time.Second}, time.Second, DefaultRemovedKidTTL},
		{Issuer{Cooldown: time.Minute, RotationGap: 5 * time.Second, RemovedKidTTL: time.Hour}, 5 * time.Second, time.Hour},
	} {
		c.cfg.JWKS = jwks(t, jwk(t, signer(t, engine.ES256, "defaults")))
		if err := c.cfg.normalize(0, 1); err != nil {
			t.Fatal(err)
		}
		if c.cfg.RotationGap != c.gap || c.cfg.RemovedKidTTL != c.ttl {
			t.Fatalf("RotationGap %v, RemovedKidTTL %v; want %v, %v", c.cfg.RotationGap, c.cfg.RemovedKidTTL, c.gap, c.ttl)
		}
	}
}
