package keystore

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/engine"
)

// Defaults (README.md, "Defaults").
const (
	DefaultCooldown       = 30 * time.Second
	DefaultRotationGap    = 2 * time.Second
	DefaultRemovedKidTTL  = 24 * time.Hour
	DefaultRefreshDefault = 10 * time.Minute
	DefaultRefreshMin     = time.Minute
	DefaultRefreshMax     = 24 * time.Hour
	DefaultFetchTimeout   = 5 * time.Second
)

// wellKnown is the OpenID Connect discovery path (OIDC Discovery §4).
const wellKnown = "/.well-known/openid-configuration"

// Options configures a Store.
type Options struct {
	// Clock drives cooldowns, the refresh schedule and the negative cache.
	// nil means engine.SystemClock.
	Clock engine.Clock
	// Logger gets one line per fetch failure and per rejected key, with the
	// cause. nil means slog.Default().
	Logger *slog.Logger
	// HTTPClient fetches remote key sets. nil means a client of the store's
	// own. Either way each fetch is bounded by the issuer's FetchTimeout and
	// redirects are followed only to the same host and scheme.
	HTTPClient *http.Client
}

// Issuer configures one issuer's key set: any combination of local sources
// (JWKS, JWKSFile, PEMFiles, Keys) and at most one remote source (JWKSURL or
// Discovery). At least one source is required. Together the sources hold
// HMAC secrets only or public keys only: an issuer whose keys mix them is
// refused with ErrMixedSymmetry (give each kind an issuer of its own).
type Issuer struct {
	// Issuer is the exact "iss" value, or a tenant template with
	// engine.TenantPlaceholder (e.g. Microsoft Entra ID's
	// "https://login.microsoftonline.com/{tenantid}/v2.0"), whose one key
	// set serves every tenant. "" is allowed only when it is the store's
	// only issuer: then every token routes here.
	Issuer string
	// JWKSURL is a remote JWKS (https or http).
	JWKSURL string
	// JWKSFile is a JWKS JSON file, read by Start (and by Refresh).
	JWKSFile string
	// JWKS is an inline JWKS JSON document, parsed by New. Like a key file,
	// it may hold HMAC secrets or public keys, not both (ErrMixedSymmetry).
	JWKS []byte
	// PEMFiles are PKIX public keys or certificates, read by Start; each key
	// gets the first algorithm of Algorithms that fits it.
	PEMFiles []string
	// Discovery is the OpenID issuer URL (the well-known path is appended)
	// or the full discovery document URL. The document's "issuer" must equal
	// Issuer exactly — for a tenant template, the template itself, as
	// multi-tenant endpoints publish it; its jwks_uri is then fetched.
	Discovery string
	// Keys are pre-built keys, used as they are.
	Keys []*engine.Key
	// Algorithms is the allow-list for keys whose JWK has no "alg", and for
	// PEM keys. Default: RS256 for RSA, ES256/384/512 by curve, EdDSA for
	// Ed25519; oct keys without "alg" are never inferred.
	Algorithms []engine.Alg

	// Cooldown is the minimum gap between unknown-kid refetches after one
	// succeeded. 0 means DefaultCooldown.
	Cooldown time.Duration
	// RotationGap replaces Cooldown after an unknown-kid refetch that
	// brought new keys (a rotation, not a made-up kid), so that a second
	// rotation seconds later is not locked out for a whole cooldown; the
	// refetch after it gets the full Cooldown again, so rotations cost at
	// most one extra fetch per cooldown. 0 means DefaultRotationGap (or
	// Cooldown, if shorter); it must not exceed Cooldown.
	RotationGap time.Duration
	// RemovedKidTTL is how long a kid that left the key set is remembered
	// (at most maxRemovedKids per issuer, the newest kept): tokens carrying
	// it are refused at once with engine.ErrKeyRemoved, without a refetch
	// and without starting a cooldown. Set it to the longest lifetime of
	// the issuer's tokens. 0 means DefaultRemovedKidTTL.
	RemovedKidTTL time.Duration
	// RefreshDefault is the refresh interval when the response has neither
	// Cache-Control max-age nor Expires. 0 means DefaultRefreshDefault.
	RefreshDefault time.Duration
	// RefreshMin and RefreshMax clamp the interval from max-age or Expires.
	// 0 means DefaultRefreshMin and DefaultRefreshMax.
	RefreshMin, RefreshMax time.Duration
	// FetchTimeout bounds one fetch (discovery document and JWKS together).
	// 0 means DefaultFetchTimeout.
	FetchTimeout time.Duration
	// MaxBody bounds a JWKS or discovery document, fetched or read from a
	// file. 0 means DefaultMaxBody.
	MaxBody int64
}

// remote reports whether the issuer has a remote source.
func (c *Issuer) remote() bool { return c.JWKSURL != "" || c.Discovery != "" }

// name describes the issuer in errors and logs.
func (c *Issuer) name(i int) string {
	if c.Issuer == "" {
		return fmt.Sprintf("issuer #%d (\"\")", i)
	}
	return fmt.Sprintf("issuer %q", c.Issuer)
}

// normalize fills the defaults and checks the issuer's configuration.
func (c *Issuer) normalize(i, total int) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, c.name(i), fmt.Sprintf(format, args...))
	}
	if c.Issuer == "" && total > 1 {
		return fail("Issuer may be empty only when it is the store's only issuer")
	}
	if c.JWKSURL == "" && c.JWKSFile == "" && len(c.JWKS) == 0 && len(c.PEMFiles) == 0 && c.Discovery == "" && len(c.Keys) == 0 {
		return fail("no key source: set JWKSURL, JWKSFile, JWKS, PEMFiles, Discovery or Keys")
	}
	if c.JWKSURL != "" && c.Discovery != "" {
		return fail("JWKSURL and Discovery are exclusive: Discovery finds the JWKS URL itself")
	}
	if c.JWKSURL != "" {
		if err := CheckURL(c.JWKSURL); err != nil {
			return fail("JWKSURL: %v", err)
		}
	}
	if c.Discovery != "" {
		if c.Issuer == "" {
			return fail("Discovery needs Issuer: the discovery document's issuer must equal it")
		}
		if err := CheckURL(c.Discovery); err != nil {
			return fail("Discovery: %v", err)
		}
		if !strings.HasSuffix(c.Discovery, wellKnown) {
			c.Discovery = strings.TrimSuffix(c.Discovery, "/") + wellKnown
		}
	}
	for _, a := range c.Algorithms {
		if !a.Valid() {
			return fail("Algorithms: %d is not an algorithm", a)
		}
	}
	for j, k := range c.Keys {
		if k == nil {
			return fail("Keys[%d] is nil", j)
		}
	}
	rotationGapSet := c.RotationGap != 0
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"Cooldown", &c.Cooldown, DefaultCooldown},
		{"RotationGap", &c.RotationGap, DefaultRotationGap},
		{"RemovedKidTTL", &c.RemovedKidTTL, DefaultRemovedKidTTL},
		{"RefreshDefault", &c.RefreshDefault, DefaultRefreshDefault},
		{"RefreshMin", &c.RefreshMin, DefaultRefreshMin},
		{"RefreshMax", &c.RefreshMax, DefaultRefreshMax},
		{"FetchTimeout", &c.FetchTimeout, DefaultFetchTimeout},
	}
	for _, d := range durations {
		if *d.d < 0 {
			return fail("%s must not be negative, got %v", d.name, *d.d)
		}
		if *d.d == 0 {
			*d.d = d.def
		}
	}
	if c.RotationGap > c.Cooldown {
		if rotationGapSet {
			return fail("RotationGap (%v) is larger than Cooldown (%v): it shortens the cooldown after a rotation", c.RotationGap, c.Cooldown)
		}
		c.RotationGap = c.Cooldown
	}
	if c.RefreshMin > c.RefreshMax {
		return fail("RefreshMin (%v) is larger than RefreshMax (%v)", c.RefreshMin, c.RefreshMax)
	}
	if c.MaxBody < 0 {
		return fail("MaxBody must not be negative, got %d", c.MaxBody)
	}
	if c.MaxBody == 0 {
		c.MaxBody = DefaultMaxBody
	}
	return nil
}

// CheckURL reports why raw cannot be a key source URL (JWKSURL, Discovery):
// it must be an absolute http or https URL with a host.
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", raw)
	}
	return nil
}
