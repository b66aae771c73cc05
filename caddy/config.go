package jwtgatecaddy

import (
	"errors"
	"fmt"

	"github.com/goccy/go-yaml"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/server/config"
)

// ErrConfig is returned (wrapped, with the problem and its fix) by
// Provision and Validate for a handler configuration that cannot work.
var ErrConfig = errors.New("jwtgate: invalid handler configuration")

// configError returns ErrConfig wrapped with the problem and its fix.
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

// policy is the authorization of cfg for this handler: the policy the
// configuration compiled (its token sources, identity headers, routes or
// rules, default route), or, when the handler sets access, scopes or
// require, the configuration's token sources and identity headers with
// those as the one route.
func (h *Handler) policy(cfg *config.Config) (*authz.Policy, error) {
	if h.Access == "" && len(h.Scopes) == 0 && len(h.Require) == 0 {
		return cfg.Policy(), nil
	}
	d := &cfg.Default
	if len(cfg.Routes) > 0 || len(cfg.Rules) > 0 || d.Name != "" || d.Access != "" || len(d.Scopes) > 0 ||
		len(d.Require) > 0 || len(d.Issuers) > 0 || len(d.Audiences) > 0 || d.CORSPreflight != nil {
		return nil, configError("the handler's access, scopes and require cannot be combined with the configuration's routes, rules or default_route: put them in the configuration's default_route, or choose the requests with Caddy matchers and leave routes out of the file")
	}
	conds, err := h.conditions()
	if err != nil {
		return nil, err
	}
	ac := cfg.Config
	ac.Default = authz.Route{Access: h.Access, Scopes: h.Scopes, Require: conds}
	opts := authz.Options{}
	for i := range cfg.Issuers {
		opts.Issuers = append(opts.Issuers, cfg.Issuers[i].Issuer)
	}
	pol, err := authz.Compile(&ac, opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return pol, nil
}
