package jwtgatecaddy

import (
	"encoding/json"
	"fmt"

	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/jwtgate/jwtgate/authz"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("jwtgate", parseCaddyfile)
	// After basic_auth, with the other authentication, and before
	// request_header, so that request_header can use the claim
	// placeholders; after rewrite and uri, so that route rules see the
	// path the upstream gets.
	httpcaddyfile.RegisterDirectiveOrder("jwtgate", httpcaddyfile.After, "basic_auth")
}

// Interface guard.
var _ caddyfile.Unmarshaler = (*Handler)(nil)

func parseCaddyfile(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	m := new(Handler)
	err := m.UnmarshalCaddyfile(h.Dispenser)
	return m, err
}

// inlineIssuer is the compact Caddyfile form of one issuer, in the YAML
// file's schema.
type inlineIssuer struct {
	Issuer      string   `json:"issuer,omitempty"`
	JWKSURL     string   `json:"jwks_url,omitempty"`
	JWKSFile    string   `json:"jwks_file,omitempty"`
	Discovery   string   `json:"discovery,omitempty"`
	Audiences   []string `json:"audiences,omitempty"`
	AnyAudience bool     `json:"any_audience,omitempty"`
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens:
//
//	jwtgate {
//		config       <config-file>
//		issuer       <iss>
//		jwks_url     <url>
//		jwks_file    <path>
//		discovery    <url>
//		audience     <aud>...
//		any_audience
//		realm        <realm>
//		access       required|optional|public
//		scope        <scope>...
//		require      <claim-path> <op> [<value>...]
//	}
//
// The issuer settings (issuer to realm) describe one issuer inline and
// cannot be used with config. require's op is one of authz's operators;
// one_of, contains_any and contains_all take a list of values, exists
// none, the others exactly one (a string).
func (h *Handler) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // the directive's name
	if d.NextArg() {
		// A first argument that starts with "/" is taken by Caddy for a
		// path matcher, so the file is never positional.
		return d.Errf("jwtgate takes no argument: give the configuration file in its block (config <file>)")
	}
	var (
		iss    inlineIssuer
		realm  string
		inline bool
		conds  []map[string]any
	)
	for d.NextBlock(0) {
		key := d.Val()
		args := d.RemainingArgs()
		one := func(dst *string) error {
			if len(args) != 1 {
				return d.Errf("%s takes exactly one argument", key)
			}
			*dst = args[0]
			return nil
		}
		var err error
		switch key {
		case "config":
			err = one(&h.ConfigFile)
		case "issuer":
			inline, err = true, one(&iss.Issuer)
		case "jwks_url":
			inline, err = true, one(&iss.JWKSURL)
		case "jwks_file":
			inline, err = true, one(&iss.JWKSFile)
		case "discovery":
			inline, err = true, one(&iss.Discovery)
		case "realm":
			inline, err = true, one(&realm)
		case "audience":
			if len(args) == 0 {
				return d.Errf("audience takes at least one value")
			}
			inline, iss.Audiences = true, append(iss.Audiences, args...)
		case "any_audience":
			if len(args) != 0 {
				return d.Errf("any_audience takes no argument")
			}
			inline, iss.AnyAudience = true, true
		case "access":
			err = one(&h.Access)
		case "scope":
			if len(args) == 0 {
				return d.Errf("scope takes at least one value")
			}
			h.Scopes = append(h.Scopes, args...)
		case "require":
			c, cerr := caddyfileCondition(args)
			if cerr != nil {
				return d.Errf("require: %v", cerr)
			}
			conds = append(conds, c)
		default:
			return d.Errf("unknown jwtgate setting %q: use config, issuer, jwks_url, jwks_file, discovery, audience, any_audience, realm, access, scope or require", key)
		}
		if err != nil {
			return err
		}
	}
	if inline {
		if h.ConfigFile != "" {
			return d.Errf("an inline issuer (issuer, jwks_url, jwks_file, discovery, audience, any_audience, realm) cannot be used with config: put the issuer in the configuration file, or remove config")
		}
		doc := struct {
			Realm   string         `json:"realm,omitempty"`
			Issuers []inlineIssuer `json:"issuers"`
		}{realm, []inlineIssuer{iss}}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		h.Inline = b
	}
	if len(conds) > 0 {
		b, err := json.Marshal(conds)
		if err != nil {
			return err
		}
		h.Require = b
	}
	return nil
}

// caddyfileCondition reads "require <claim> <op> [<value>...]" into the
// JSON form of an authz.Condition.
func caddyfileCondition(args []string) (map[string]any, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("give a claim path and an operator, e.g. require roles contains admin")
	}
	c := map[string]any{"claim": args[0], "op": args[1]}
	op, vals := args[1], args[2:]
	switch op {
	case authz.OpExists:
		if len(vals) != 0 {
			return nil, fmt.Errorf("exists takes no value")
		}
	case authz.OpOneOf, authz.OpContainsAny, authz.OpContainsAll:
		if len(vals) == 0 {
			return nil, fmt.Errorf("%s takes at least one value", op)
		}
		c["value"] = vals
	case authz.OpEquals, authz.OpPrefix, authz.OpContains:
		if len(vals) != 1 {
			return nil, fmt.Errorf("%s takes exactly one value", op)
		}
		c["value"] = vals[0]
	default:
		return nil, fmt.Errorf("unknown operator %q: use equals, one_of, exists, prefix, contains, contains_any or contains_all", op)
	}
	return c, nil
}
