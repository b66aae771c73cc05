package server

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/jwtgate/jwtgate/keystore"
	"github.com/jwtgate/jwtgate/server/config"
)

// KeyReport is what CheckKeys found for one issuer.
type KeyReport struct {
	// Issuer is the issuer's "iss" ("" for any_issuer).
	Issuer string
	// Source names the key source: "jwks_file PATH", "pem_files PATH, ...",
	// "jwks_url URL", "discovery URL" or "inline JWKS".
	Source string
	// Remote is set for jwks_url and discovery.
	Remote bool
	// Loaded reports whether the keys were loaded: always for a local
	// source without Err, for a remote one only when checked online.
	Loaded bool
	// Keys are the usable keys found.
	Keys []KeyInfo
	// Err is why the source is unusable; nil when it is usable (or remote
	// and not checked).
	Err error
}

// KeyInfo describes one usable key.
type KeyInfo struct {
	Kid string // "" for a key without kid (PEM)
	Alg string
}

// CheckKeys loads every local key source of a validated configuration
// (key files, inline key sets) and, with online set, fetches every remote
// one (JWKS URL, discovery) once, each bounded by its fetch timeout and ctx;
// it reports the keys found per issuer, in configuration order. Nothing is
// kept running. The error is a *KeySourceError joining the problems of the
// issuers whose source is unusable, or a *ConfigError for issuer settings
// the key store refuses; the reports are returned either way.
func CheckKeys(ctx context.Context, cfg *config.Config, online bool, opts Options) ([]KeyReport, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reports := make([]KeyReport, len(cfg.Issuers))
	var problems []error
	for i := range cfg.Issuers {
		is := &cfg.Issuers[i]
		r := &reports[i]
		r.Issuer, r.Source, r.Remote = is.Issuer, keySource(is), is.JWKSURL != "" || is.Discovery != ""
		if r.Remote && !online {
			continue
		}
		store, err := keystore.New(keystore.Options{Clock: opts.Clock, Logger: logger, HTTPClient: opts.HTTPClient}, cfg.KeystoreIssuer(i))
		if err != nil {
			return reports, &ConfigError{err}
		}
		err = store.Start(ctx)
		keys := store.Keys(is.Issuer)
		store.Close()
		if err == nil && len(keys) == 0 {
			err = errors.New("no usable key")
		}
		if err != nil {
			r.Err = err
			problems = append(problems, errors.New(issuerName(is)+": "+r.Source+": "+oneLineError(err)))
			continue
		}
		r.Loaded = true
		for _, k := range keys {
			r.Keys = append(r.Keys, KeyInfo{Kid: k.Kid(), Alg: k.Alg().String()})
		}
	}
	if len(problems) > 0 {
		return reports, &KeySourceError{errors.Join(problems...)}
	}
	return reports, nil
}

// keySource names an issuer's key source for reports.
func keySource(is *config.Issuer) string {
	switch {
	case is.JWKSFile != "":
		return "jwks_file " + is.JWKSFile
	case len(is.PEMFiles) > 0:
		return "pem_files " + strings.Join(is.PEMFiles, ", ")
	case is.JWKSURL != "":
		return "jwks_url " + is.JWKSURL
	case is.Discovery != "":
		return "discovery " + is.Discovery
	}
	return "inline JWKS"
}

// issuerName names an issuer in messages.
func issuerName(is *config.Issuer) string {
	if is.Issuer == "" {
		return "issuer (any)"
	}
	return "issuer " + is.Issuer
}
