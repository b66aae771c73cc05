package keystore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// Store is the key store: an engine.KeyLookup over the keys of its issuers.
// It is safe for concurrent use.
type Store struct {
	clock     engine.Clock
	logger    *slog.Logger
	client    *http.Client
	transport *http.Transport // the store's own; nil when the caller gave a client

	issuers []*issuer
	single  *issuer            // the only issuer, which every token routes to
	byIss   map[string]*issuer // exact "iss" → issuer, with several issuers
	tenants []*issuer          // tenant templates, with several issuers
	neg     *negCache
	stats   counters

	ctx     context.Context // ends at Close; bounds every fetch
	cancel  context.CancelFunc
	running atomic.Bool // between Start and Close: unknown kids may refetch

	mu      sync.Mutex // guards started, closed and wg.Add
	started bool
	closed  bool
	wg      sync.WaitGroup // refresh loops and fetches in progress
	once    sync.Once

	refreshHook func(issuer string, err error) // tests: after each background refresh
	// timerHook, when set, replaces time.NewTimer in the refresh loops: it
	// arms a timer for the deadline at (tests with a fake clock fire the
	// timers when they move the clock to them).
	timerHook func(at time.Time) (c <-chan time.Time, stop func() bool)
}

var _ engine.KeyLookup = (*Store)(nil)

// New checks the configuration and returns a Store; it parses inline JWKS
// and takes pre-built keys, but does no I/O: Start loads files and fetches
// remote key sets. Errors wrap ErrConfig and name the issuer and field.
func New(opts Options, issuers ...Issuer) (*Store, error) {
	if len(issuers) == 0 {
		return nil, fmt.Errorf("%w: no issuer configured", ErrConfig)
	}
	s := &Store{clock: opts.Clock, logger: opts.Logger}
	if s.clock == nil {
		s.clock = engine.SystemClock
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	s.client, s.transport = newHTTPClient(opts.HTTPClient)
	s.neg = newNegCache(s.clock.Now())
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if len(issuers) > 1 {
		s.byIss = make(map[string]*issuer, len(issuers))
	}
	for i, cfg := range issuers {
		if err := cfg.normalize(i, len(issuers)); err != nil {
			return nil, err
		}
		if s.byIss != nil {
			if _, dup := s.byIss[cfg.Issuer]; dup {
				return nil, fmt.Errorf("%w: %s is configured twice", ErrConfig, cfg.name(i))
			}
		}
		is := newIssuer(s, cfg, i)
		if err := is.loadInline(); err != nil {
			return nil, err
		}
		s.issuers = append(s.issuers, is)
		if s.byIss != nil {
			s.byIss[cfg.Issuer] = is
			if is.tmplPrefix != "" {
				s.tenants = append(s.tenants, is)
			}
		}
	}
	if len(s.issuers) == 1 {
		s.single = s.issuers[0]
	}
	return s, nil
}

// LookupKey implements engine.KeyLookup. It routes the token to its
// issuer's key set by iss — with a single issuer every token goes there;
// with several, iss must equal one exactly, or match a tenant template
// (engine.TenantPlaceholder) in its prefix and suffix, else
// engine.ErrUnknownIssuer — then chooses the key as KeySet's lookups do.
// A verifier of several issuers is better served by KeySet: a handle per
// issuer, which does not route by iss again.
//
// The key is chosen in the issuer's set:
//
//   - kid given: the key with that kid bound to alg, else another key with
//     that kid (the verifier reports the algorithm mismatch); an unknown kid
//     takes the unknown-kid path (at most one refetch of a remote issuer per
//     cooldown, shared by concurrent callers; otherwise engine.ErrUnknownKid
//     at once, remembered in the negative cache); a kid that left the
//     issuer's key set less than RemovedKidTTL ago is refused at once with
//     engine.ErrKeyRemoved, without a refetch and without a cooldown;
//   - no kid, or an issuer none of whose keys has a kid (PEM keys): the one
//     key bound to alg; several → engine.KidRequiredError (or ErrUnknownKid
//     when the token has a kid); none bound to alg → one of the others (the
//     verifier reports the mismatch); no keys at all →
//     engine.ErrKeysUnavailable naming the issuer.
//
// A hit takes no lock, allocates nothing and writes no shared memory; a hit
// in the negative cache allocates nothing and writes only a per-goroutine
// counter stripe.
func (s *Store) LookupKey(iss, kid []byte, alg engine.Alg) (*engine.Key, error) {
	is := s.single
	if is == nil {
		if is = s.byIss[string(iss)]; is == nil {
			if is = s.tenantOf(iss); is == nil {
				return nil, engine.ErrUnknownIssuer
			}
		}
	}
	return is.lookup(is.snap.Load(), kid, alg, true)
}

// tenantOf returns the tenant template issuer whose prefix and suffix iss
// has (the engine checks the tenant itself).
func (s *Store) tenantOf(iss []byte) *issuer {
	for _, is := range s.tenants {
		if len(iss) > len(is.tmplPrefix)+len(is.tmplSuffix) &&
			string(iss[:len(is.tmplPrefix)]) == is.tmplPrefix && string(iss[len(iss)-len(is.tmplSuffix):]) == is.tmplSuffix {
			return is
		}
	}
	return nil
}

// KeySet returns the key set of the named issuer (its configured Issuer,
// a tenant template as written) as an engine.KeyLookup that ignores the iss
// it is given: every lookup goes to that issuer's keys, with the rules of
// LookupKey. Give it to engine.IssuerPolicy.Keys, so that a token's kid is
// looked up only among its own issuer's keys. ok is false for an issuer
// that is not configured.
func (s *Store) KeySet(issuer string) (keys engine.KeyLookup, ok bool) {
	is := s.find(issuer)
	if is == nil {
		return nil, false
	}
	return (*keySet)(is), true
}

// keySet is one issuer's keys as an engine.KeyLookup.
type keySet issuer

// LookupKey implements engine.KeyLookup for one issuer: iss is not read.
func (ks *keySet) LookupKey(_, kid []byte, alg engine.Alg) (*engine.Key, error) {
	is := (*issuer)(ks)
	return is.lookup(is.snap.Load(), kid, alg, true)
}

// Start loads every source once — key files (any error is returned and is
// fatal), then every remote key set, in parallel, each bounded by its
// FetchTimeout — and starts the background refreshes. A remote source that
// fails is not fatal: its issuer is not ready yet and is retried with
// backoff; Start returns the joined fetch errors for logging. ctx bounds only
// this initial load; Close ends the background work.
func (s *Store) Start(ctx context.Context) error {
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return ErrClosed
	case s.started:
		s.mu.Unlock()
		return errors.New("keystore: Start called twice")
	}
	s.started = true
	s.mu.Unlock()

	var errs []error
	for _, is := range s.issuers {
		if err := is.loadFiles(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	s.running.Store(true)
	results := make(chan error, len(s.issuers))
	remote := 0
	for _, is := range s.issuers {
		if is.remote {
			remote++
			go func() { results <- is.refresh() }()
		}
	}
	for ; remote > 0; remote-- {
		select {
		case err := <-results:
			if err != nil {
				errs = append(errs, err)
			}
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("keystore: initial fetches interrupted: %w", ctx.Err()))
			remote = 1
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.Join(append(errs, ErrClosed)...)
	}
	for _, is := range s.issuers {
		if is.remote {
			s.wg.Add(1)
			go is.loop()
		}
	}
	return errors.Join(errs...)
}

// Close stops the background refreshes and waits for them and for fetches
// in progress to end. Lookups keep answering from the last keys.
func (s *Store) Close() {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.running.Store(false)
		s.cancel()
		s.wg.Wait()
		if s.transport != nil {
			s.transport.CloseIdleConnections()
		}
	})
}

// enter registers a fetch in progress; false once the store is closed.
func (s *Store) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *Store) exit() { s.wg.Done() }

// Ready reports whether every issuer has at least one usable key.
func (s *Store) Ready() bool {
	for _, is := range s.issuers {
		if len(is.snap.Load().keys) == 0 {
			return false
		}
	}
	return true
}

// Issuers reports each issuer's state, in configuration order.
func (s *Store) Issuers() []IssuerStatus {
	out := make([]IssuerStatus, len(s.issuers))
	for i, is := range s.issuers {
		out[i] = is.status()
	}
	return out
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats { return s.stats.snapshot() }

// Keys returns the keys of the named issuer now (nil for an unknown issuer).
func (s *Store) Keys(issuer string) []*engine.Key {
	is := s.find(issuer)
	if is == nil {
		return nil
	}
	return append([]*engine.Key(nil), is.snap.Load().keys...)
}

func (s *Store) find(name string) *issuer {
	for _, is := range s.issuers {
		if is.cfg.Issuer == name {
			return is
		}
	}
	return nil
}

// Refresh reloads the issuer's key files and refetches its remote key set
// now: its outcome is that of a fetch that started after the call (it shares
// one that other callers start at the same time; one already in flight when
// it is called is waited for, then followed by another). It returns the
// first error; the last good keys stay published either way. ctx bounds the
// wait: the fetch itself is bounded by FetchTimeout and ends in the
// background if ctx ends first. It must be called after Start.
func (s *Store) Refresh(ctx context.Context, issuer string) error {
	is := s.find(issuer)
	if is == nil {
		return fmt.Errorf("%w: no issuer %q is configured", ErrConfig, issuer)
	}
	if !s.running.Load() {
		return errors.New("keystore: Refresh needs a started, open store")
	}
	if err := is.loadFiles(); err != nil {
		return err
	}
	if !is.remote {
		return nil
	}
	asked := is.fetchSeq.Load()
	for {
		ch := is.sf.DoChan("fetch", is.startFetch)
		select {
		case r := <-ch:
			if seq, _ := r.Val.(uint64); seq > asked || errors.Is(r.Err, ErrClosed) {
				return r.Err
			}
			// That fetch was in flight before Refresh was called: its
			// answer may predate the call. The next one cannot.
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// timer returns a timer channel that fires when the store's clock reaches
// at (at once if it has), and its stop function.
func (s *Store) timer(at time.Time) (<-chan time.Time, func() bool) {
	if s.timerHook != nil {
		return s.timerHook(at)
	}
	t := time.NewTimer(at.Sub(s.clock.Now()))
	return t.C, t.Stop
}
