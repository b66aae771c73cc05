package keystore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/jwtgate/jwtgate/engine"
)

const (
	acceptJWKS      = "application/jwk-set+json, application/json;q=0.9"
	acceptDiscovery = "application/json"
)

// refresh fetches the issuer's remote key set, sharing a fetch already in
// flight, and returns its error (nil when the keys are fresh).
func (is *issuer) refresh() error {
	_, err := is.sharedFetch()
	return err
}

// sharedFetch runs a fetch, or joins the one in flight, and returns its
// sequence number (see startFetch) and its error.
func (is *issuer) sharedFetch() (uint64, error) {
	v, err, _ := is.sf.Do("fetch", is.startFetch)
	seq, _ := v.(uint64)
	return seq, err
}

// startFetch is the function that a shared fetch runs: it numbers the fetch
// (fetchSeq counts the fetches started) and runs it. A caller that read
// fetchSeq before it asked for a fetch can tell from the number whether the
// fetch it got started after it asked, or was in flight already and may
// carry a key set older than its reason to ask.
func (is *issuer) startFetch() (any, error) {
	seq := is.fetchSeq.Add(1)
	return seq, is.fetchOnce()
}

// refetchAfter returns the outcome of a fetch that started after fetchSeq
// read asked. It shares the fetch in flight, if any; when that one started
// earlier it runs (or joins) the next one, unless enough, called after the
// earlier one, reports that its keys already answer the caller. A fetch that
// starts after an earlier one ended started after asked: it takes at most two.
func (is *issuer) refetchAfter(asked uint64, enough func() bool) error {
	for {
		seq, err := is.sharedFetch()
		if seq > asked || errors.Is(err, ErrClosed) || enough() {
			return err
		}
	}
}

// fetchOnce runs one fetch — discovery document if configured, then the
// JWKS — within FetchTimeout, installs the result and records the outcome.
// A failure never removes keys: the last good set stays published.
func (is *issuer) fetchOnce() error {
	s := is.store
	if !s.enter() {
		return ErrClosed
	}
	defer s.exit()
	ctx, cancel := context.WithTimeout(s.ctx, is.cfg.FetchTimeout)
	defer cancel()

	next, err := is.fetchAndInstall(ctx)
	now := s.clock.Now()
	if err != nil && s.ctx.Err() != nil {
		return ErrClosed // closing, not a failure of the issuer
	}
	if err == nil {
		is.fetchFail = 0
		is.mu.Lock()
		is.lastRefresh, is.lastError = now, ""
		is.mu.Unlock()
		is.scheduleRefresh(now.Add(jitter(next)))
		return nil
	}
	is.fetchFail++
	kind := KindNetwork
	var fe *FetchError
	if errors.As(err, &fe) {
		kind = fe.Kind
	}
	s.stats.fetchError(kind)
	is.mu.Lock()
	is.lastError = err.Error()
	keys := len(is.snap.Load().keys)
	is.mu.Unlock()
	is.scheduleRefresh(now.Add(jitter(refreshBackoff(is.fetchFail, &is.cfg))))
	s.logger.Warn("keystore: key set fetch failed; keeping the last good keys",
		"issuer", is.cfg.Issuer, "kind", kind, "keys", keys, "error", err.Error())
	return err
}

// fetchAndInstall fetches and installs the key set and returns the time
// until the next refresh.
func (is *issuer) fetchAndInstall(ctx context.Context) (time.Duration, error) {
	s := is.store
	if is.cfg.Discovery != "" {
		if err := is.discover(ctx); err != nil {
			return 0, err
		}
	}
	resp, err := is.get(ctx, is.jwksURL, acceptJWKS, is.jwksCond)
	if err != nil {
		return 0, err
	}
	now := s.clock.Now()
	next := refreshInterval(&is.cfg, resp.header, now)
	if resp.notModified {
		s.stats.notModified.Add(1)
		return next, nil
	}
	sum := xxhash.Sum64(resp.body)
	if is.haveBody && sum == is.lastBody {
		is.jwksCond = resp.validators
		s.stats.fetchOK.Add(1)
		return next, nil // same document: nothing to parse or install
	}
	keys, skipped, err := ParseJWKS(resp.body, ParseOptions{Algorithms: is.cfg.Algorithms, MaxSize: is.cfg.MaxBody, Fetched: true})
	is.logSkipped("jwks_uri "+redact(is.jwksURL), skipped)
	if err == nil {
		err = is.setRemote(keys)
	}
	if err != nil {
		return 0, &FetchError{Issuer: is.cfg.Issuer, URL: redact(is.jwksURL), Kind: KindInvalid, Err: err}
	}
	is.jwksCond = resp.validators
	is.lastBody, is.haveBody = sum, true
	s.stats.fetchOK.Add(1)
	return next, nil
}

// discover reads the OpenID discovery document and sets jwksURL from it.
// The document must name exactly the configured issuer (OIDC Discovery §4.3).
func (is *issuer) discover(ctx context.Context) error {
	resp, err := is.get(ctx, is.cfg.Discovery, acceptDiscovery, is.discCond)
	if err != nil {
		return err
	}
	if resp.notModified && is.jwksURL != "" {
		return nil
	}
	fail := func(err error) error {
		return &FetchError{Issuer: is.cfg.Issuer, URL: redact(is.cfg.Discovery), Kind: KindDiscovery, Err: err}
	}
	if resp.notModified {
		return fail(fmt.Errorf("%w: 304 Not Modified before any document was read", ErrDiscovery))
	}
	doc, err := readObject(resp.body)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", ErrDiscovery, err))
	}
	iss, present, err := doc.str("issuer")
	if err != nil || !present {
		return fail(fmt.Errorf("%w: member \"issuer\" must be a string", ErrDiscovery))
	}
	if iss != is.cfg.Issuer {
		return fail(fmt.Errorf("%w: the document says %q, the configuration %q", ErrIssuerMismatch, iss, is.cfg.Issuer))
	}
	jwksURI, present, err := doc.str("jwks_uri")
	if err != nil || !present {
		return fail(fmt.Errorf("%w: member \"jwks_uri\" must be a string", ErrDiscovery))
	}
	if err := CheckURL(jwksURI); err != nil {
		return fail(fmt.Errorf("%w: jwks_uri: %v", ErrDiscovery, err))
	}
	if u, _ := url.Parse(is.cfg.Discovery); u.Scheme == "https" && !isHTTPS(jwksURI) {
		return fail(fmt.Errorf("%w: jwks_uri %q leaves https", ErrDiscovery, jwksURI))
	}
	if jwksURI != is.jwksURL {
		is.jwksURL, is.jwksCond, is.haveBody = jwksURI, validators{}, false
	}
	is.discCond = resp.validators
	return nil
}

func isHTTPS(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https"
}

// setRemote installs a fetched key set next to the local keys.
func (is *issuer) setRemote(keys []*engine.Key) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.installLocked(is.files, keys)
}

// setFiles installs the keys read from the issuer's files.
func (is *issuer) setFiles(keys []*engine.Key) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.installLocked(keys, is.remoteKeys)
}

// installLocked publishes inline, files and remote keys as a new snapshot
// if the set changed. Keys equal to published ones keep their pointer (so
// cached verifications under them stay valid); published keys that are gone
// are retired. The union must not be ambiguous. The caller holds is.mu.
func (is *issuer) installLocked(files, remote []*engine.Key) error {
	all := make([]*engine.Key, 0, len(is.inline)+len(files)+len(remote))
	all = append(append(append(all, is.inline...), files...), remote...)
	source := func(i int) string {
		switch {
		case i < len(is.inline):
			return fmt.Sprintf("#%d of the inline keys", i)
		case i < len(is.inline)+len(files):
			return fmt.Sprintf("#%d of the key files", i-len(is.inline))
		}
		return fmt.Sprintf("#%d of the fetched set", i-len(is.inline)-len(files))
	}
	if err := checkKeySymmetry(all, source); err != nil {
		return err
	}
	if err := checkAmbiguous(all, source); err != nil {
		return err
	}
	old := is.snap.Load()
	all = reuse(all, old.keys)
	is.files = all[len(is.inline) : len(is.inline)+len(files) : len(is.inline)+len(files)]
	is.remoteKeys = all[len(is.inline)+len(files):]
	if old.sameKeys(all) {
		return nil
	}
	gone := dropped(old.keys, all)
	snap := newSnapshot(all)
	snap.removed = removedKids(old.removed, gone, all, is.store.clock.Now().UnixNano(), is.cfg.RemovedKidTTL)
	is.snap.Store(snap)
	for _, k := range gone {
		k.Retire()
	}
	is.store.logger.Info("keystore: key set updated", "issuer", is.cfg.Issuer,
		"keys", len(all), "removed", len(gone))
	return nil
}

// logSkipped logs each key of a set that was not used, with its reason.
func (is *issuer) logSkipped(source string, skipped []error) {
	for _, err := range skipped {
		is.store.logger.Warn("keystore: key skipped", "issuer", is.cfg.Issuer, "source", source, "error", err.Error())
	}
}

// scheduleRefresh sets the time of the next background refresh and wakes
// the refresh loop to re-arm its timer. It is the only writer of
// nextRefresh: whoever fetched (the loop, Refresh, an unknown-kid refetch),
// with whatever outcome (a new max-age, a retry after a failure), the loop
// sleeps until the time set last. The wake never blocks, and wakes sent
// before the loop reads nextRefresh coalesce into one.
func (is *issuer) scheduleRefresh(at time.Time) {
	is.mu.Lock()
	is.nextRefresh = at
	is.mu.Unlock()
	select {
	case is.wake <- struct{}{}:
	default:
	}
}

// loop refreshes the remote key set when it is due, until the store closes.
// It refreshes only when its timer fires and the refresh is still due then;
// a wake re-arms the timer for the time set last. The loop never decides
// from a clock reading alone, so with a fake clock and timers (timerHook) a
// test's clock moves never start a refresh: only the timers it fires do.
func (is *issuer) loop() {
	s := is.store
	defer s.wg.Done()
	for {
		// A wake sent before nextRefresh is read is answered by this read.
		select {
		case <-is.wake:
		default:
		}
		is.mu.Lock()
		at := is.nextRefresh
		is.mu.Unlock()
		c, stop := s.timer(at)
		select {
		case <-s.ctx.Done():
			stop()
			return
		case <-is.wake:
			stop()
			continue
		case <-c:
		}
		is.mu.Lock()
		due := !s.clock.Now().Before(is.nextRefresh)
		is.mu.Unlock()
		if !due {
			continue // rescheduled later since the timer was armed
		}
		err := is.refresh()
		if s.ctx.Err() != nil {
			return
		}
		if hook := s.refreshHook; hook != nil {
			hook(is.cfg.Issuer, err)
		}
	}
}
