package config

import (
	"fmt"
	"strings"
)

// Overrides are command-line settings; they take precedence over the file.
// The issuer settings apply to the single-issuer case: they create the
// issuer when the file has none and change it when it has one.
type Overrides struct {
	Listen    string   // --listen
	JWKSURL   string   // --jwks-url
	JWKSFile  string   // --jwks-file
	Discovery string   // --discovery
	Issuer    string   // --issuer
	Audiences []string // --audience (repeatable)
}

// HasKeySource reports whether the overrides name a key source.
func (o *Overrides) HasKeySource() bool {
	return o.JWKSURL != "" || o.JWKSFile != "" || o.Discovery != ""
}

func (o *Overrides) touchesIssuer() bool {
	return o.HasKeySource() || o.Issuer != "" || len(o.Audiences) > 0
}

// Apply sets the overrides on c. A key source replaces the issuer's key
// sources; --issuer and --audience replace its issuer and audiences. Errors
// name the flag. Call Validate afterwards.
func (c *Config) Apply(o Overrides) error {
	n := 0
	for _, s := range []string{o.JWKSURL, o.JWKSFile, o.Discovery} {
		if s != "" {
			n++
		}
	}
	if n > 1 {
		return &Error{Field: "--jwks-url, --jwks-file, --discovery", Msg: "give at most one key source"}
	}
	if o.JWKSURL != "" {
		if msg := checkURL(o.JWKSURL); msg != "" {
			return &Error{Field: "--jwks-url", Msg: msg}
		}
	}
	if o.Discovery != "" {
		if msg := checkURL(o.Discovery); msg != "" {
			return &Error{Field: "--discovery", Msg: msg}
		}
	}
	for _, a := range o.Audiences {
		if a == "" {
			return &Error{Field: "--audience", Msg: "must not be empty"}
		}
	}
	if o.Listen != "" {
		c.Listen = o.Listen
	}
	if !o.touchesIssuer() {
		return nil
	}
	switch len(c.Issuers) {
	case 0:
		if !o.HasKeySource() {
			return &Error{Field: "--issuer, --audience", Msg: "need a key source: --jwks-url, --jwks-file or --discovery (or a config file with issuers)"}
		}
		if o.Issuer == "" && o.Discovery != "" {
			o.Issuer = DiscoveryIssuer(o.Discovery)
		}
		if o.Issuer == "" {
			return &Error{Field: "--issuer", Msg: "is required: the exact \"iss\" of the tokens to accept"}
		}
		if len(o.Audiences) == 0 {
			return &Error{Field: "--audience", Msg: "is required: the audience the tokens must be meant for (a config file can say any_audience: true to skip the check explicitly)"}
		}
		c.Issuers = []Issuer{{}}
	case 1:
	default:
		return &Error{Field: "--jwks-url, --jwks-file, --discovery, --issuer, --audience", Msg: fmt.Sprintf("apply to a single issuer, and the config file has %d: set them in the file", len(c.Issuers))}
	}
	is := &c.Issuers[0]
	if o.HasKeySource() {
		is.JWKSURL, is.JWKSFile, is.Discovery, is.PEMFiles, is.InlineJWKS = o.JWKSURL, o.JWKSFile, o.Discovery, nil, nil
	}
	if o.Issuer != "" {
		is.Issuer, is.AnyIssuer = o.Issuer, false
	}
	if len(o.Audiences) > 0 {
		is.Audiences, is.AnyAudience = append([]string(nil), o.Audiences...), false
	}
	if o.Discovery != "" && is.Issuer == "" {
		is.Issuer, is.AnyIssuer = DiscoveryIssuer(o.Discovery), false
	}
	return nil
}

// wellKnownConfig is the OpenID Connect discovery path (OIDC Discovery §4).
const wellKnownConfig = "/.well-known/openid-configuration"

// DiscoveryIssuer returns the issuer a discovery URL stands for when no
// issuer is given: by OpenID Connect Discovery §4 the document lives at the
// issuer's URL + "/.well-known/openid-configuration", so the URL without
// that suffix is the issuer (a URL without the suffix is the issuer as it
// is). The document's "issuer" must still equal it exactly.
func DiscoveryIssuer(discoveryURL string) string {
	return strings.TrimSuffix(discoveryURL, wellKnownConfig)
}
