package jwtgatecaddy

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/server/config"
)

// ErrConfig is returned (wrapped, with the problem and its fix) by
// Provision and Validate for a handler configuration that cannot work.
var ErrConfig = errors.New("jwtgate: invalid handler configuration")

// configError wraps err with ErrConfig.
func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
}

// loadConfig reads the jwtgate configuration the handler names: the file
// at ConfigFile or the Inline document, validated with its defaults.
func (h *Handler) loadConfig() (*config.Config, error) {
	switch {
	case h.ConfigFile != "" && len(h.Inline) > 0:
		return nil, configError("both config and inline are set: keep one (the file, or the inline document)")
	case h.ConfigFile != "":
		return config.Load(h.ConfigFile)
	case len(h.Inline) > 0:
		// JSON is YAML: the inline document is read with the file's schema
		// and strictness, its errors naming the setting.
		cfg, err := config.Parse(h.Inline)
		if err != nil {
			return nil, fmt.Errorf("jwtgate: inline configuration: %w", err)
		}
		return cfg, nil
	}
	return nil, configError("no issuer: set config to a jwtgate YAML file, or an inline issuer (issuer with jwks_url, jwks_file or discovery)")
}

// conditions decodes the handler's claim conditions.
func (h *Handler) conditions() ([]authz.Condition, error) {
	if len(h.Require) == 0 {
		return nil, nil
	}
	var conds []authz.Condition
	if err := yaml.UnmarshalWithOptions(h.Require, &conds, yaml.Strict()); err != nil {
		return nil, configError("require: %v: give a list of conditions such as {\"claim\":\"roles\",\"op\":\"contains\",\"value\":\"admin\"}", err)
	}
	return conds, nil
}

// policyConfig is the authorization of cfg for this handler: the file's
// token sources, identity headers and rules (as routes, the longest path
// first, rules with methods first among equals), and the handler's own
// access, scopes and conditions as the default route.
func (h *Handler) policyConfig(cfg *config.Config) (*authz.Config, error) {
	conds, err := h.conditions()
	if err != nil {
		return nil, err
	}
	ac := &authz.Config{
		Tokens: authz.Tokens{
			Authorization: cfg.Tokens.Authorization,
			Header:        cfg.Tokens.Header,
			HeaderPrefix:  cfg.Tokens.HeaderPrefix,
			Cookie:        cfg.Tokens.Cookie,
			Query:         cfg.Tokens.Query,
		},
		Identity: authz.Identity{
			PayloadHeader:   cfg.Identity.PayloadHeader,
			MaxValueBytes:   cfg.Identity.MaxValueBytes,
			MaxPayloadBytes: cfg.Identity.MaxPayloadBytes,
		},
		Default: authz.Route{Access: h.Access, Scopes: h.Scopes, Require: conds},
	}
	if cfg.Identity.Headers != nil {
		ac.Identity.Headers = make([]authz.IdentityHeader, 0, len(cfg.Identity.Headers))
		for _, ih := range cfg.Identity.Headers {
			ac.Identity.Headers = append(ac.Identity.Headers, authz.IdentityHeader{Header: ih.Header, Claim: ih.Claim, Separator: ih.Separator})
		}
	}
	rules := slices.Clone(cfg.Rules)
	for i := range rules {
		if p := strings.TrimRight(rules[i].Path, "/"); p != "" {
			rules[i].Path = p
		}
	}
	slices.SortStableFunc(rules, func(a, b config.Rule) int {
		if c := cmp.Compare(len(b.Path), len(a.Path)); c != 0 {
			return c
		}
		return cmp.Compare(min(len(b.Methods), 1), min(len(a.Methods), 1))
	})
	for _, r := range rules {
		ac.Routes = append(ac.Routes, authz.Route{
			Prefix: r.Path, Methods: r.Methods, Issuers: r.Issuers, Audiences: r.Audiences,
			// The handler's own requirements hold on every path.
			Scopes: append(slices.Clone(r.Scopes), h.Scopes...), Access: h.Access, Require: conds,
		})
	}
	return ac, nil
}
