package authz

// Config is the authorization part of jwtgate's configuration: where tokens
// are found, the route table, and the identity headers of an allowed
// request. Its YAML form is the top level of jwtgate's configuration file
// (server/config inlines it); programs that embed jwtgate fill it with Go
// values. Compile checks it and fills in the defaults.
type Config struct {
	// Tokens says where requests carry their token.
	Tokens Tokens `yaml:"tokens"`
	// Identity says which headers an allowed request carries.
	Identity Identity `yaml:"identity"`
	// Routes are tried in order; the first that matches a request decides.
	Routes []Route `yaml:"routes"`
	// Default applies to requests no route matches. It must not set host,
	// path, prefix or methods. The zero value requires a valid token and
	// nothing more.
	Default Route `yaml:"default_route"`
	// CORSPreflight lets every CORS preflight through without a token
	// (OPTIONS with Origin and Access-Control-Request-Method, and no
	// token). A route's own setting takes precedence.
	CORSPreflight bool `yaml:"cors_preflight"`
}

// Tokens lists the places a token is taken from. A request that carries a
// token in more than one of them, or twice in one, is refused: which one
// would be meant is ambiguous, and a proxy might check one while the
// upstream trusts the other.
type Tokens struct {
	// Authorization reads "Authorization: Bearer <token>" (nil: true).
	Authorization *bool `yaml:"authorization"`
	// Header names another header that carries the token, after the
	// optional HeaderPrefix (matched case-insensitively).
	Header       string `yaml:"header"`
	HeaderPrefix string `yaml:"header_prefix"`
	// Cookie names a cookie that carries the token.
	Cookie string `yaml:"cookie"`
	// Query names a query parameter of the original request that carries
	// the token (discouraged: URLs end up in logs).
	Query string `yaml:"query"`
}

// AuthorizationEnabled reports whether "Authorization: Bearer" is read.
func (t *Tokens) AuthorizationEnabled() bool { return t.Authorization == nil || *t.Authorization }

// Defaults of the identity settings.
const (
	DefaultMaxValueBytes   = 1024
	DefaultMaxPayloadBytes = 8192
	DefaultSeparator       = ","
)

// Identity configures the headers of an allowed request.
type Identity struct {
	// Headers maps claims to headers. nil: DefaultIdentityHeaders; an
	// explicit empty list sends none.
	Headers []IdentityHeader `yaml:"headers"`
	// PayloadHeader, if set, carries the verified payload, base64url.
	PayloadHeader string `yaml:"payload_header"`
	// MaxValueBytes bounds one claim header value (0: 1024). A token whose
	// claim does not fit, or holds control characters, is refused: jwtgate
	// never forwards a truncated or altered identity.
	MaxValueBytes int `yaml:"max_value_bytes"`
	// MaxPayloadBytes bounds the payload header (0: 8192).
	MaxPayloadBytes int `yaml:"max_payload_bytes"`
}

// Identity header formats.
const (
	FormatText = "text" // strings as they are, arrays joined by Separator, objects as JSON
	FormatJSON = "json" // the claim's JSON, compact
)

// IdentityHeader forwards one claim in one header.
type IdentityHeader struct {
	// Header is the header name.
	Header string `yaml:"header"`
	// Claim is a claim path (see the package documentation).
	Claim string `yaml:"claim"`
	// Separator joins the elements of an array claim in the text format
	// (default ","). "scope" and "scp" are always joined by spaces.
	Separator string `yaml:"separator"`
	// Format is "text" (the default) or "json".
	Format string `yaml:"format"`
}

// DefaultIdentityHeaders returns the identity headers used when none are
// configured.
func DefaultIdentityHeaders() []IdentityHeader {
	return []IdentityHeader{
		{Header: "X-Auth-Subject", Claim: "sub"},
		{Header: "X-Auth-Issuer", Claim: "iss"},
		{Header: "X-Auth-Scope", Claim: "scope"},
	}
}

// Access modes of a route.
const (
	// AccessRequired: a valid token that meets the route's requirements
	// (the default).
	AccessRequired = "required"
	// AccessOptional: no token passes without identity headers; a token
	// must be valid and meet the route's requirements.
	AccessOptional = "optional"
	// AccessPublic: no token is read or verified.
	AccessPublic = "public"
)

// Route is one entry of the route table: what requests it matches, and what
// it requires of them.
type Route struct {
	// Name names the route in metrics, logs and refusals (default
	// "routes[N]", or "default" for the default route).
	Name string `yaml:"name"`
	// Host is an exact host name or "*.suffix" (empty: any host).
	Host string `yaml:"host"`
	// Path is a segment pattern: literals, "*" for one segment, "**" last
	// for any rest (empty: any path). Not with Prefix.
	Path string `yaml:"path"`
	// Prefix is a path prefix ending at a word boundary (see the package
	// documentation). Not with Path.
	Prefix string `yaml:"prefix"`
	// Methods restricts the route to these methods (empty: any).
	Methods []string `yaml:"methods"`
	// Access is "required" (default), "optional" or "public".
	Access string `yaml:"access"`
	// CORSPreflight lets CORS preflights of this route through without a
	// token (nil: Config.CORSPreflight).
	CORSPreflight *bool `yaml:"cors_preflight"`
	// Issuers, if set, are the only issuers whose tokens may pass; each
	// must be a configured issuer.
	Issuers []string `yaml:"issuers"`
	// Audiences, if set: the token must carry at least one of them.
	Audiences []string `yaml:"audiences"`
	// Scopes: the token must grant all of them ("scope" or "scp"); a token
	// that does not gets 403 insufficient_scope with the scope attribute.
	Scopes []string `yaml:"scopes"`
	// Require lists claim conditions that must all hold.
	Require []Condition `yaml:"require"`
}

// Condition operators.
const (
	OpEquals      = "equals"       // the claim is a scalar equal to Value
	OpOneOf       = "one_of"       // the claim is a scalar equal to one of Value's elements
	OpExists      = "exists"       // the claim is present and not null
	OpPrefix      = "prefix"       // the claim is a string starting with Value
	OpContains    = "contains"     // the claim (array, or space-separated string) holds Value
	OpContainsAny = "contains_any" // ... holds at least one of Value's elements
	OpContainsAll = "contains_all" // ... holds every one of Value's elements
)

// Condition is one test on the claims, or a group of them. Exactly one of
// Claim (with Op and, except for exists, Value), All and Any is set.
type Condition struct {
	// Name, if set, names the condition in refusals instead of its
	// position.
	Name string `yaml:"name"`
	// Claim is the claim path the condition tests.
	Claim string `yaml:"claim"`
	// Op is the operator: equals, one_of, exists, prefix, contains,
	// contains_any or contains_all.
	Op string `yaml:"op"`
	// Value is the operand: a string, a number or a boolean for equals
	// and contains, a string for prefix, a list of them for one_of,
	// contains_any and contains_all, nothing for exists.
	Value any `yaml:"value"`
	// All holds when every condition in it holds.
	All []Condition `yaml:"all"`
	// Any holds when at least one condition in it holds.
	Any []Condition `yaml:"any"`
}
