// Package config reads and checks the configuration of the jwtgate server: a
// YAML file (strict: unknown keys and wrong types are errors that name the
// line), command-line overrides for the single-issuer case, and the defaults
// of every setting.
//
// The policy is never weaker than what the file says: an issuer must name the
// audiences its tokens are for, or say any_audience: true; it must name its
// exact "iss", or say any_issuer: true (allowed only when it is the only
// issuer). A missing check is a configuration error, never a silent skip.
package config

import (
	"time"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
)

// Defaults of the server settings (README.md, "Defaults"). The token size cap,
// the leeway and the cache sizes default to the engine's
// (engine.DefaultMaxTokenSize, engine.DefaultLeeway,
// engine.DefaultCacheEntries, engine.DefaultCacheBytes), the key refresh
// settings to the key store's.
const (
	DefaultListen             = "127.0.0.1:8080"
	DefaultRealm              = "jwtgate"
	DefaultMaxHeaderBytes     = 64 << 10
	DefaultMaxVerifyBodyBytes = 64 << 10
	DefaultConcurrency        = 65536
	DefaultReadTimeout        = 10 * time.Second
	DefaultWriteTimeout       = 10 * time.Second
	DefaultIdleTimeout        = 120 * time.Second
	DefaultShutdownTimeout    = 30 * time.Second
	DefaultDrainPeriod        = 5 * time.Second
	DefaultFDHeadroom         = 64
	DefaultMaxValueBytes      = authz.DefaultMaxValueBytes
	DefaultMaxPayloadBytes    = authz.DefaultMaxPayloadBytes
	DefaultLogFormat          = "text"
	DefaultLogLevel           = "info"
	DefaultReloadInterval     = 5 * time.Second
	MinReloadInterval         = 100 * time.Millisecond
)

// Config is the whole server configuration. Parse and Load fill it from
// YAML; Validate applies the defaults and checks it.
type Config struct {
	// Listen is the TCP address to serve on (default 127.0.0.1:8080).
	Listen string `yaml:"listen"`
	// Realm is the realm of the WWW-Authenticate challenge (default "jwtgate").
	Realm string `yaml:"realm"`
	// Issuers lists the trusted token issuers and their key sources.
	Issuers []Issuer `yaml:"issuers"`
	// Config is the authorization: token sources (tokens), the route
	// table (routes, default_route, cors_preflight) and the identity
	// headers (identity), at the top level of the file. Validate compiles
	// it; Policy returns the result.
	authz.Config `yaml:",inline"`
	// ForwardAuth says where the original request's URI and method come from.
	ForwardAuth ForwardAuth `yaml:"forward_auth"`
	// Rules is the earlier form of routes, still read: each rule becomes a
	// route with its path as prefix, the longest prefix first (a rule
	// naming methods first among equals). It cannot be used with Routes.
	Rules []Rule `yaml:"rules"`
	// Limits bound every input and the server's resources.
	Limits Limits `yaml:"limits"`
	// Cache sizes the verified-token cache.
	Cache Cache `yaml:"cache"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// GRPCListen, if set, is the TCP address of the gRPC ext_authz service
	// (Envoy, Istio, Contour); unset: no gRPC service.
	GRPCListen string `yaml:"grpc_listen"`
	// GRPC configures the gRPC ext_authz service.
	GRPC GRPC `yaml:"grpc"`
	// Reload says whether the configuration and key files are watched for
	// changes (SIGHUP always reloads).
	Reload Reload `yaml:"reload"`

	src    *source       // the YAML the config was parsed from, for line numbers
	policy *authz.Policy // compiled by Validate
}

// Policy returns the authorization policy compiled by the last successful
// Validate (nil before).
func (c *Config) Policy() *authz.Policy { return c.policy }

// Issuer is one trusted issuer: its exact "iss", the one source of its keys,
// and the policy its tokens must meet.
type Issuer struct {
	// Issuer is the exact "iss" value of its tokens, or a tenant template
	// with engine.TenantPlaceholder as one path segment, e.g.
	// "https://login.microsoftonline.com/{tenantid}/v2.0": a token is then
	// accepted when its "iss" is the template with one tenant ID in place
	// of the placeholder, that tenant equals its "tid" claim, and Tenants
	// (or AnyTenant) allows it. The keys (from discovery or jwks_url) serve
	// every tenant.
	Issuer string `yaml:"issuer"`
	// Tenants lists the tenant IDs a template issuer accepts.
	Tenants []string `yaml:"tenants"`
	// AnyTenant accepts every tenant of a template issuer, explicitly.
	AnyTenant bool `yaml:"any_tenant"`
	// AnyIssuer skips the "iss" check. Allowed only for a single issuer
	// without Issuer, when its key set is trusted for exactly one issuer.
	AnyIssuer bool `yaml:"any_issuer"`

	// Exactly one key source.
	JWKSURL   string   `yaml:"jwks_url"`  // remote JWKS, http(s)
	JWKSFile  string   `yaml:"jwks_file"` // JWKS JSON file
	Discovery string   `yaml:"discovery"` // OIDC issuer URL or discovery document URL
	PEMFiles  []string `yaml:"pem_files"` // PKIX public keys or certificates

	// Audiences lists the accepted "aud" values: a token must carry at least
	// one of them (all of them with AllAudiences). Required unless AnyAudience.
	Audiences    []string `yaml:"audiences"`
	AllAudiences bool     `yaml:"all_audiences"`
	// AnyAudience skips the audience check, explicitly.
	AnyAudience bool `yaml:"any_audience"`

	// Algorithms restricts the accepted algorithms (JOSE names) and is the
	// allow-list for keys that do not name their algorithm.
	Algorithms []engine.Alg `yaml:"algorithms"`
	// Leeway absorbs clock skew for exp, nbf and iat (default 30s; 0s:
	// none). Validate sets it.
	Leeway *time.Duration `yaml:"leeway"`
	// Typ, if set, is the required header typ, e.g. "at+jwt".
	Typ string `yaml:"typ"`
	// RequiredClaims must be present in every token.
	RequiredClaims []string `yaml:"required_claims"`
	// RequiredScopes must all be granted by every token ("scope" or "scp").
	RequiredScopes []string `yaml:"required_scopes"`
	// MaxAge, if set, rejects tokens whose iat is older.
	MaxAge time.Duration `yaml:"max_age"`
	// RequireKid rejects tokens without a kid header.
	RequireKid bool `yaml:"require_kid"`

	// Key refresh (remote sources): interval without Cache-Control, and the
	// bounds max-age and Expires are clamped to (defaults 10m, 1m, 24h).
	RefreshInterval time.Duration `yaml:"refresh_interval"`
	RefreshMin      time.Duration `yaml:"refresh_min"`
	RefreshMax      time.Duration `yaml:"refresh_max"`
	// Cooldown is the minimum gap between unknown-kid refetches (default 30s).
	Cooldown time.Duration `yaml:"cooldown"`
	// FetchTimeout bounds one JWKS or discovery fetch (default 5s).
	FetchTimeout time.Duration `yaml:"fetch_timeout"`
	// MaxJWKSBytes caps a fetched JWKS or discovery document (default 1 MiB).
	MaxJWKSBytes int64 `yaml:"max_jwks_bytes"`

	// InlineJWKS is a JWKS document given by the program that builds the
	// configuration (demo mode, embedding); it cannot be set from YAML.
	InlineJWKS []byte `yaml:"-"`
}

// The authorization settings are the authz package's; these names keep
// their place in this package.
type (
	// Tokens lists the places a token is taken from.
	Tokens = authz.Tokens
	// Identity configures the headers of a 200 answer.
	Identity = authz.Identity
	// IdentityHeader forwards one claim in one header.
	IdentityHeader = authz.IdentityHeader
	// Route is one entry of the route table.
	Route = authz.Route
	// Condition is a claim condition of a route.
	Condition = authz.Condition
)

// DefaultIdentityHeaders returns the identity headers used when none are
// configured.
func DefaultIdentityHeaders() []IdentityHeader { return authz.DefaultIdentityHeaders() }

// Original-request sources for ForwardAuth.
const (
	SourceAuto = "auto" // every known source; present ones must agree
	SourcePath = "path" // the path under /auth (Envoy path_prefix); the method of the auth request
)

// ForwardAuth says where the original request's URI and method come from.
// In "auto" (the default) the URI is read from X-Forwarded-Uri (Traefik,
// Caddy), X-Original-URI (nginx) and the path under /auth (Envoy), and when
// more than one is present they must agree, so a client cannot smuggle a
// different path in a header the proxy does not overwrite. Naming one header
// makes it the only source.
type ForwardAuth struct {
	URIHeader    string `yaml:"uri_header"`
	MethodHeader string `yaml:"method_header"`
}

// Rule is the earlier form of a route: requirements for original requests
// under a path prefix. The rule with the longest matching prefix applies (a
// rule naming the method wins a tie); its requirements come on top of the
// issuer's policy, and a valid token that fails them gets 403
// insufficient_scope. Validate turns rules into routes.
type Rule struct {
	// Path is a prefix of the original request path (after percent-decoding
	// and removing dot segments, as the proxy routes it), ending at a word
	// boundary: "/admin" covers "/admin", "/admin/x", "/admin;x" and
	// "/admin.json", not "/administrator" or "/admin-ui".
	Path string `yaml:"path"`
	// Methods restricts the rule to these methods (default: all).
	Methods []string `yaml:"methods"`
	// Issuers, if set, are the only issuers whose tokens may pass.
	Issuers []string `yaml:"issuers"`
	// Audiences, if set: the token must carry at least one of them.
	Audiences []string `yaml:"audiences"`
	// Scopes: the token must grant all of them.
	Scopes []string `yaml:"scopes"`
}

// Limits bound every input and the server's resources.
type Limits struct {
	MaxTokenBytes      int `yaml:"max_token_bytes"`       // default 16 KiB
	MaxHeaderBytes     int `yaml:"max_header_bytes"`      // request header block, default 64 KiB
	MaxVerifyBodyBytes int `yaml:"max_verify_body_bytes"` // POST /verify body, default 64 KiB
	// Concurrency caps the open connections (default 65536). The server
	// lowers it to the process's open-file limit less FDHeadroom, so that
	// it refuses connections before it runs out of descriptors.
	Concurrency int `yaml:"concurrency"`
	// FDHeadroom is the number of descriptors kept free of connections for
	// key fetches, logs and the listeners (default 64).
	FDHeadroom   int           `yaml:"fd_headroom"`
	ReadTimeout  time.Duration `yaml:"read_timeout"`  // default 10s
	WriteTimeout time.Duration `yaml:"write_timeout"` // default 10s
	// IdleTimeout closes a keep-alive connection that has had no request
	// for this long (default 120s: longer than the idle timeouts of the
	// proxies in front, nginx 60s and Go 90s, so that they hang up first
	// and never send on a connection jwtgate is closing).
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// DrainPeriod is how long the server keeps serving after SIGTERM, with
	// /readyz 503 and "Connection: close" on every answer, so that clients
	// move off before it stops accepting (default 5s; 0s: stop at once).
	DrainPeriod *time.Duration `yaml:"drain_period"`
	// ShutdownTimeout bounds the wait for in-flight requests once the
	// drain period is over (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// Cache sizes the verified-token cache.
type Cache struct {
	// Entries is the number of cached tokens, for every issuer together
	// (default 65536); 0 turns the cache off.
	Entries *int `yaml:"entries"`
	// MaxBytes bounds the cache's memory, for every issuer together
	// (default 128 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
}

// Log configures logging (log/slog to stderr).
type Log struct {
	Format   string `yaml:"format"`   // "text" (default) or "json"
	Level    string `yaml:"level"`    // "debug", "info" (default), "warn", "error"
	Requests bool   `yaml:"requests"` // one line per request (default off)
}

// Reload configures reloading without a restart. SIGHUP reloads whatever
// these say; a watch polls the configuration file and every key file
// (jwks_file, pem_files) for a change of modification time, size or
// content, and reloads when one changed.
type Reload struct {
	// Watch turns the watch on (default off; --watch).
	Watch bool `yaml:"watch"`
	// Interval is the time between two polls of the watch (default 5s, at
	// least 100ms).
	Interval time.Duration `yaml:"interval"`
}
