package server

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/VictoriaMetrics/metrics"

	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// Reload metric families; see metricsmeta.go for how to add one.
var (
	// jwtgate_config_reloads_total{result="success|failure"}
	metricReloads = family("jwtgate_config_reloads_total", typeCounter,
		`Configuration reloads (SIGHUP, a watched file that changed, or Server.Reload) by result: "success", or "failure" (the previous configuration kept serving).`)
	// jwtgate_config_generation: the number of the configuration serving now.
	metricGeneration = family("jwtgate_config_generation", typeGauge,
		"Number of the configuration serving now: 1 at start, one more after each successful reload.")
)

// ConfigError is returned by New and Reload when the configuration itself
// is invalid (the YAML, a setting, or the issuers' key settings). Err holds
// the problems, each a *config.Error naming its file and line where it has
// one. jwtgate serve and serve --check-config exit 2 for it.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return "invalid configuration: " + e.Err.Error() }

// Unwrap returns the problems.
func (e *ConfigError) Unwrap() error { return e.Err }

// KeySourceError is returned by Start, Reload and CheckKeys when a key
// source cannot be used: a key file missing, unreadable or without a usable
// key (or, for CheckKeys with online set, a remote key set that could not be
// fetched). jwtgate serve and serve --check-config exit 1 for it.
type KeySourceError struct{ Err error }

func (e *KeySourceError) Error() string { return "unusable key source: " + e.Err.Error() }

// Unwrap returns the cause.
func (e *KeySourceError) Unwrap() error { return e.Err }

// ErrNoLoader is returned by Reload when Options.Load is nil: the server
// does not know where its configuration comes from.
var ErrNoLoader = errors.New("server: Reload needs Options.Load, the function that reads the configuration again")

// ErrServerClosed is returned by Reload after Close.
var ErrServerClosed = errors.New("server: Reload after Close")

// Generation is one loaded configuration: the handler built from it and
// the key store its verifiers look keys up in. A request is answered by the
// generation that was current when it arrived, to its end; Reload publishes
// a new one with one atomic store, and the old one's key store is closed
// once the last request on it is done (unless the new generation took the
// key store over).
type Generation struct {
	n     uint64
	cfg   *config.Config
	h     *handler
	store *keystore.Store

	refs      stripedInt  // requests using the generation now: the sum of the shards
	retired   atomic.Bool // a newer generation is current
	keepStore bool        // the next generation took the store over; set before retired
	closeOnce sync.Once
	closed    chan struct{} // closed once retired and unused (its store closed if it owned it)
}

func newGeneration(n uint64, cfg *config.Config, h *handler, store *keystore.Store) *Generation {
	return &Generation{n: n, cfg: cfg, h: h, store: store, refs: newStripedInt(), closed: make(chan struct{})}
}

// Number is the generation's number: 1 for the configuration the server
// started with, one more for each successful reload.
func (g *Generation) Number() uint64 { return g.n }

// Config returns the generation's configuration, validated. It must not be
// modified.
func (g *Generation) Config() *config.Config { return g.cfg }

// Keys returns the generation's key store.
func (g *Generation) Keys() *keystore.Store { return g.store }

// Release ends a use of the generation begun by Server.Acquire.
//
// The count is striped, so no one shard says when the last use ends; once
// the generation is retired each Release sums the shards. With sequentially
// consistent atomics the last decrement (in their total order) sees every
// other add, so it finds the sum zero: no use is missed, and the generation
// is closed by whoever ends the last one (or by retire, if none is left).
func (g *Generation) Release() { g.release(shard()) }

// release is Release for a use begun by acquire(s).
func (g *Generation) release(s int) {
	g.refs.addAt(s, -1)
	if g.retired.Load() && g.refs.sum() == 0 {
		g.close()
	}
}

// retire marks the generation as replaced; it is closed now if no request
// uses it, else by the last Release.
func (g *Generation) retire(keepStore bool) {
	g.keepStore = keepStore
	g.retired.Store(true)
	if g.refs.sum() == 0 {
		g.close()
	}
}

func (g *Generation) close() {
	g.closeOnce.Do(func() {
		if !g.keepStore {
			g.store.Close()
		}
		close(g.closed)
	})
}

// Acquire returns the current generation for one request (or one gRPC
// call, or one batch of work); call Release on it when done. A reload meanwhile
// does not change what the caller sees, and the generation's key store stays
// open until every Acquire is released. It takes no lock and allocates
// nothing.
func (s *Server) Acquire() *Generation { return s.acquire(shard()) }

// acquire is Acquire counting the use on shard sh (see newShard); end it
// with release(sh).
func (s *Server) acquire(sh int) *Generation {
	for {
		g := s.gen.Load()
		g.refs.addAt(sh, 1)
		if s.gen.Load() == g {
			return g
		}
		// Replaced between the load and the count: the new one serves.
		g.release(sh)
	}
}

// Generation returns the number of the configuration serving now.
func (s *Server) Generation() uint64 { return s.gen.Load().n }

// Reload reads the configuration again with Options.Load, together with
// every local key file (jwks_file, pem_files), and, if all of it is valid,
// swaps the server over to it at once: verifiers, key store, rules, token
// sources and identity headers. Requests in flight finish on the
// configuration they started with. An invalid configuration or an unusable
// key file changes nothing: the error (a *ConfigError or *KeySourceError,
// config problems naming their file and line) is logged and returned, and
// the previous configuration keeps serving. Each call is counted in
// jwtgate_config_reloads_total; jwtgate_config_generation tells which
// configuration serves.
//
// The key store, and with it the remote key sets already fetched, is kept
// when no issuer's key source changed: the key files are read again, keys
// that left them retired (tokens verified with them are refused, cached or
// not). With a changed key source a new key store is started (remote key
// sets fetched once before the swap, bounded by ctx and their fetch
// timeout); if an issuer is left without usable keys while the serving
// configuration has keys for every issuer, the reload fails (a
// *KeySourceError) and the serving configuration stays.
//
// An issuer's verified-token cache is kept when its policy is unchanged:
// the key store is kept and the issuer's engine policy (issuer, audiences,
// algorithms, leeway, typ, required claims and scopes, max age,
// require_kid, max token size, its share of the cache budget) compares
// equal, and so do the identity headers, token sources and rules, whose
// results a cached token may carry. Otherwise its cache starts empty.
//
// Front ends that decide through Acquire (the gRPC ext_authz service)
// follow the reload with their next call. Listen addresses (listen,
// grpc_listen), connection limits, timeouts, header and body caps, the gRPC
// TLS files and limits and log settings take effect only at a restart; a
// reload that changes them logs which ones. Reloads are serialized.
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if s.closed {
		return ErrServerClosed
	}
	old := s.gen.Load()
	next, err := s.reload(ctx, old)
	if err != nil {
		s.reloadFailures.Inc()
		s.logger.Error("reload failed: the previous configuration keeps serving", "generation", old.n, "error", oneLineError(err))
		return err
	}
	s.gen.Store(next)
	old.retire(next.store == old.store)
	s.reloads.Inc()
	s.logger.Info("configuration reloaded", "generation", next.n, "issuers", len(next.cfg.Issuers),
		"key_store_kept", next.store == old.store, "ready", next.store.Ready())
	if restart := restartSettings(old.cfg, next.cfg); len(restart) > 0 {
		s.logger.Warn("reload: these settings changed but take effect only at a restart", "settings", strings.Join(restart, ", "))
	}
	return nil
}

// reload builds the next generation from a fresh configuration.
func (s *Server) reload(ctx context.Context, old *Generation) (*Generation, error) {
	if s.opts.Load == nil {
		return nil, ErrNoLoader
	}
	cfg, err := s.opts.Load()
	if err != nil {
		return nil, asConfigError(err)
	}
	if err := cfg.Validate(); err != nil {
		return nil, &ConfigError{err}
	}
	if sameKeySources(old.cfg, cfg) {
		// Every key file is read before any issuer's keys change, so that
		// a broken second file cannot leave the first one swapped.
		if _, err := CheckKeys(ctx, cfg, false, Options{Clock: s.clock, HTTPClient: s.opts.HTTPClient}); err != nil {
			return nil, err
		}
		var keep *engine.Verifier
		if samePolicyContext(old.cfg, cfg) && sameIssuerPolicies(old.cfg, cfg) {
			keep = old.h.verifier
		}
		h, err := s.newHandler(cfg, old.store, keep)
		if err != nil {
			return nil, &ConfigError{err}
		}
		for i := range cfg.Issuers {
			if is := &cfg.Issuers[i]; is.JWKSFile != "" || len(is.PEMFiles) > 0 {
				if err := old.store.Refresh(ctx, is.Issuer); err != nil {
					return nil, &KeySourceError{err}
				}
			}
		}
		return newGeneration(old.n+1, cfg, h, old.store), nil
	}
	store, err := s.newStore(cfg)
	if err != nil {
		return nil, err
	}
	h, err := s.newHandler(cfg, store, nil)
	if err != nil {
		store.Close()
		return nil, &ConfigError{err}
	}
	if err := startStore(ctx, store); err != nil {
		store.Close()
		return nil, err
	}
	if old.store.Ready() && !store.Ready() {
		// Serving without keys would refuse every token of the issuer:
		// keep the configuration that has them.
		err := unreadyIssuers(store)
		store.Close()
		return nil, err
	}
	return newGeneration(old.n+1, cfg, h, store), nil
}

// unreadyIssuers is the *KeySourceError naming the issuers of store that
// have no usable keys, with their last errors.
func unreadyIssuers(store *keystore.Store) error {
	var errs []error
	for _, st := range store.Issuers() {
		if !st.Ready {
			msg := "no usable key"
			if st.LastError != "" {
				msg = st.LastError
			}
			errs = append(errs, errors.New("issuer "+st.Issuer+": "+msg+" (the previous configuration has keys: it keeps serving until the new key sources can be loaded)"))
		}
	}
	return &KeySourceError{errors.Join(errs...)}
}

// newStore builds the key store of cfg's issuers.
func (s *Server) newStore(cfg *config.Config) (*keystore.Store, error) {
	issuers := make([]keystore.Issuer, len(cfg.Issuers))
	for i := range cfg.Issuers {
		issuers[i] = cfg.KeystoreIssuer(i)
	}
	store, err := keystore.New(keystore.Options{Clock: s.clock, Logger: s.logger, HTTPClient: s.opts.HTTPClient}, issuers...)
	if err != nil {
		return nil, &ConfigError{err}
	}
	return store, nil
}

// startStore loads the store's keys: an unusable key file is a
// *KeySourceError; a remote key set that cannot be fetched yet is not an
// error (the store logs it and retries).
func startStore(ctx context.Context, store *keystore.Store) error {
	err := store.Start(ctx)
	if err == nil || !errors.Is(err, keystore.ErrConfig) && !errors.Is(err, keystore.ErrClosed) {
		return nil
	}
	return &KeySourceError{err}
}

// newHandler builds a generation's handler on the server's metrics. keep,
// if not nil, is the previous generation's verifier (and its token cache),
// reused when no issuer's policy changed.
func (s *Server) newHandler(cfg *config.Config, store *keystore.Store, keep *engine.Verifier) (*handler, error) {
	v := keep
	if v == nil {
		var err error
		if v, err = newVerifier(cfg, store, s.clock); err != nil {
			return nil, err
		}
	}
	h, err := newHandler(cfg, handlerDeps{verifier: v, ready: s.Ready, clock: s.clock, logger: s.logger, metrics: s.metrics})
	if err != nil {
		return nil, err
	}
	h.jwks = s.opts.PublishJWKS
	// /readyz: {"ready":false,"issuers":[...],"reason":"draining"} while
	// draining, whatever the issuers' state.
	h.readyDetail = func(dst []byte) []byte {
		dst = appendIssuerStates(dst, store.Issuers())
		if s.draining.Load() {
			dst = append(dst, `,"reason":"draining"`...)
		}
		return dst
	}
	return h, nil
}

// registerServerMetrics registers the metrics that outlive a generation:
// the current generation's key store and caches, reloads, connections.
func (s *Server) registerServerMetrics() {
	s.metrics.sealed = true
	set := s.metrics.set
	set.RegisterMetricsWriter(func(w io.Writer) {
		g := s.Acquire()
		defer g.Release()
		writeKeystoreMetrics(w, g.store, s.clock.Now())
		writeCacheMetrics(w, g.h.verifier.Cache())
		metrics.WriteGaugeUint64(w, metricGeneration, g.n)
	})
	s.reloads = set.NewCounter(metricReloads + `{result="success"}`)
	s.reloadFailures = set.NewCounter(metricReloads + `{result="failure"}`)
	s.acceptErrors = set.NewCounter(metricAcceptErrors)
	set.RegisterMetricsWriter(s.writeConnMetrics)
}

// sameKeySources reports whether a and b configure the same issuers, in the
// same order, with the same key sources and key store settings: then the
// key store can be kept.
func sameKeySources(a, b *config.Config) bool {
	if len(a.Issuers) != len(b.Issuers) {
		return false
	}
	for i := range a.Issuers {
		if !reflect.DeepEqual(a.KeystoreIssuer(i), b.KeystoreIssuer(i)) {
			return false
		}
	}
	return true
}

// samePolicyContext reports whether the settings outside the issuers'
// engine policy that a cached token's results depend on — the authorization
// settings (token sources, routes, identity headers: what the policy
// attaches to cache entries), rules, forward-auth headers, cache budget and
// token size cap — are equal in a and b.
func samePolicyContext(a, b *config.Config) bool {
	return reflect.DeepEqual(a.Config, b.Config) &&
		reflect.DeepEqual(a.Rules, b.Rules) &&
		reflect.DeepEqual(a.ForwardAuth, b.ForwardAuth) &&
		reflect.DeepEqual(a.Cache, b.Cache) &&
		a.Limits.MaxTokenBytes == b.Limits.MaxTokenBytes &&
		a.Realm == b.Realm
}

// sameIssuerPolicies reports whether a and b give every issuer the same
// engine policy (apart from its key set handle: the key store is the same
// when this is asked), in the same order: then the verifier and its token
// cache serve on.
func sameIssuerPolicies(a, b *config.Config) bool {
	if len(a.Issuers) != len(b.Issuers) {
		return false
	}
	for i := range a.Issuers {
		if !reflect.DeepEqual(a.IssuerPolicy(i, nil), b.IssuerPolicy(i, nil)) {
			return false
		}
	}
	return true
}

// restartSettings lists the settings that differ between a and b but are
// fixed while the server runs.
func restartSettings(a, b *config.Config) []string {
	var out []string
	if a.Listen != b.Listen {
		out = append(out, "listen")
	}
	la, lb := a.Limits, b.Limits
	la.MaxTokenBytes, lb.MaxTokenBytes = 0, 0 // applied per generation
	la.DrainPeriod, lb.DrainPeriod = nil, nil // read at shutdown
	la.ShutdownTimeout, lb.ShutdownTimeout = 0, 0
	if la != lb {
		out = append(out, "limits (connections, timeouts, header and body caps)")
	}
	if a.Log.Format != b.Log.Format || a.Log.Level != b.Log.Level {
		out = append(out, "log.format, log.level")
	}
	if a.Reload.Watch != b.Reload.Watch {
		out = append(out, "reload.watch")
	}
	// The gRPC service's listener and transport; its decision (policy,
	// verifier, realm) and grpc.payload_in_metadata, grpc.metadata_namespace
	// follow each generation.
	if a.GRPCListen != b.GRPCListen {
		out = append(out, "grpc_listen")
	}
	ga, gb := a.GRPC, b.GRPC
	if ga.TLSCertFile != gb.TLSCertFile || ga.TLSKeyFile != gb.TLSKeyFile {
		out = append(out, "grpc.tls_cert_file, grpc.tls_key_file")
	}
	if ga.MaxRecvBytes != gb.MaxRecvBytes || ga.MaxConcurrentStreams != gb.MaxConcurrentStreams || ga.KeepaliveMinTime != gb.KeepaliveMinTime {
		out = append(out, "grpc limits (max_recv_bytes, max_concurrent_streams, keepalive_min_time)")
	}
	return out
}

// asConfigError wraps a configuration loading error as a *ConfigError
// unless it already is one (or a *KeySourceError).
func asConfigError(err error) error {
	var ce *ConfigError
	var ke *KeySourceError
	if errors.As(err, &ce) || errors.As(err, &ke) {
		return err
	}
	return &ConfigError{err}
}

// oneLineError joins the lines of a (joined) error with "; ".
func oneLineError(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}
