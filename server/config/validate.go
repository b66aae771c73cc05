package config

import (
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"sort"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/authz"
	"github.com/jwtgate/jwtgate/engine"
	"github.com/jwtgate/jwtgate/keystore"
)

// Bounds on settings, beyond which a value is surely a mistake.
const (
	minTokenBytes      = 256
	maxTokenBytes      = 1 << 20
	maxValueBytes      = 64 << 10
	maxHeaderBytes     = 4 << 20 // fasthttp allocates this per connection
	maxVerifyBodyBytes = 16 << 20
	maxConcurrency     = 1 << 20
	maxFDHeadroom      = 1 << 16
	maxCacheEntries    = 1 << 22 // the cache's table is allocated up front
)

// Validate applies the defaults to every unset setting and checks the whole
// configuration. It returns every problem found, joined; each is an *Error
// naming the setting (and its line, for a configuration read from YAML).
// Validate is idempotent.
func (c *Config) Validate() error {
	p := &problems{src: c.src}
	c.defaults()
	c.checkServer(p)
	c.checkIssuers(p)
	c.checkForwardAuth(p)
	c.checkAuthz(p)
	c.checkLimits(p)
	c.checkGRPC(p)
	if c.Reload.Interval < MinReloadInterval {
		p.add("reload.interval", "must be at least %s, not %s", MinReloadInterval, c.Reload.Interval)
	}
	return p.err()
}

// problems collects configuration errors.
type problems struct {
	src  *source
	errs []error
}

func (p *problems) add(field, format string, args ...any) {
	e := &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
	if p.src != nil {
		e.File = p.src.file
		e.Line = p.src.lineOf("$." + field)
	}
	p.errs = append(p.errs, e)
}

// err returns the problems in the order of their lines.
func (p *problems) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool {
		return p.errs[i].(*Error).Line < p.errs[j].(*Error).Line
	})
	return errors.Join(p.errs...)
}

func (c *Config) defaults() {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Realm == "" {
		c.Realm = DefaultRealm
	}
	if c.Identity.Headers == nil {
		c.Identity.Headers = DefaultIdentityHeaders()
	}
	if c.Identity.MaxValueBytes == 0 {
		c.Identity.MaxValueBytes = DefaultMaxValueBytes
	}
	if c.Identity.MaxPayloadBytes == 0 {
		c.Identity.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.ForwardAuth.URIHeader == "" {
		c.ForwardAuth.URIHeader = SourceAuto
	}
	if c.ForwardAuth.MethodHeader == "" {
		c.ForwardAuth.MethodHeader = SourceAuto
	}
	l := &c.Limits
	setInt(&l.MaxTokenBytes, engine.DefaultMaxTokenSize)
	setInt(&l.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setInt(&l.MaxVerifyBodyBytes, DefaultMaxVerifyBodyBytes)
	setInt(&l.Concurrency, DefaultConcurrency)
	if l.ReadTimeout == 0 {
		l.ReadTimeout = DefaultReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = DefaultWriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.ShutdownTimeout == 0 {
		l.ShutdownTimeout = DefaultShutdownTimeout
	}
	if l.DrainPeriod == nil {
		d := DefaultDrainPeriod
		l.DrainPeriod = &d
	}
	if l.FDHeadroom == 0 {
		l.FDHeadroom = DefaultFDHeadroom
	}
	if c.Cache.Entries == nil {
		n := engine.DefaultCacheEntries
		c.Cache.Entries = &n
	}
	if c.Cache.MaxBytes == 0 {
		c.Cache.MaxBytes = engine.DefaultCacheBytes
	}
	for i := range c.Issuers {
		if c.Issuers[i].Leeway == nil {
			d := engine.DefaultLeeway
			c.Issuers[i].Leeway = &d
		}
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Reload.Interval == 0 {
		c.Reload.Interval = DefaultReloadInterval
	}
}

// listenHint suggests the host:port a malformed listen address meant: a
// bare port becomes 127.0.0.1:PORT (or :PORT for every interface), a bare
// host HOST:8080.
func listenHint(addr string) string {
	if _, err := strconv.Atoi(strings.TrimPrefix(addr, ":")); err == nil && addr != "" {
		port := strings.TrimPrefix(addr, ":")
		return fmt.Sprintf("; to listen on port %s of this machine only write 127.0.0.1:%s, on every interface :%s", port, port, port)
	}
	if addr != "" && !strings.ContainsAny(addr, ":[]/ ") {
		return fmt.Sprintf("; add the port, e.g. %s:8080", addr)
	}
	return ""
}

func setInt(v *int, def int) {
	if *v == 0 {
		*v = def
	}
}

func (c *Config) checkServer(p *problems) {
	if host, port, err := net.SplitHostPort(c.Listen); err != nil {
		p.add("listen", "%q is not a host:port address: %v%s", c.Listen, err, listenHint(c.Listen))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add("listen", "%q has no valid port", c.Listen)
	} else if strings.ContainsAny(host, " /") {
		p.add("listen", "%q has an invalid host", c.Listen)
	}
	if !authz.IsQuotable(c.Realm) {
		p.add("realm", "must be printable ASCII without '\"' or '\\' (it is sent in WWW-Authenticate)")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		p.add("log.format", "must be \"text\" or \"json\", not %q", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if *c.Cache.Entries < 0 || *c.Cache.Entries > maxCacheEntries {
		p.add("cache.entries", "must be between 0 (cache off) and %d", maxCacheEntries)
	}
	if c.Cache.MaxBytes < 0 {
		p.add("cache.max_bytes", "must not be negative")
	}
}

func (c *Config) checkIssuers(p *problems) {
	if len(c.Issuers) == 0 {
		p.add("issuers", "at least one issuer is required (with its key source and audiences)")
		return
	}
	seen := map[string]int{}
	for i := range c.Issuers {
		is := &c.Issuers[i]
		f := fmt.Sprintf("issuers[%d]", i)
		switch {
		case is.Issuer == "" && !is.AnyIssuer:
			p.add(f+".issuer", "is required: the exact \"iss\" of the issuer's tokens (or any_issuer: true for a single issuer whose keys are trusted for one issuer only)")
		case is.Issuer != "" && is.AnyIssuer:
			p.add(f+".any_issuer", "contradicts issuer %q: set one or the other", is.Issuer)
		case is.AnyIssuer && len(c.Issuers) > 1:
			p.add(f+".any_issuer", "is allowed only with a single issuer: with several, tokens are routed by their exact \"iss\"")
		}
		if j, dup := seen[is.Issuer]; dup && is.Issuer != "" {
			p.add(f+".issuer", "%q is already configured by issuers[%d]", is.Issuer, j)
		}
		seen[is.Issuer] = i
		is.checkKeySource(p, f)
		is.checkPolicy(p, f)
	}
}

func (is *Issuer) checkKeySource(p *problems, f string) {
	n := 0
	for _, set := range []bool{is.JWKSURL != "", is.JWKSFile != "", is.Discovery != "", len(is.PEMFiles) > 0, len(is.InlineJWKS) > 0} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		p.add(f, "needs a key source: one of jwks_url, jwks_file, discovery, pem_files")
	case n > 1:
		p.add(f, "has %d key sources; set exactly one of jwks_url, jwks_file, discovery, pem_files", n)
	}
	if is.JWKSURL != "" {
		if msg := checkURL(is.JWKSURL); msg != "" {
			p.add(f+".jwks_url", "%s", msg)
		}
	}
	if is.Discovery != "" {
		if msg := checkURL(is.Discovery); msg != "" {
			p.add(f+".discovery", "%s", msg)
		}
	}
	for j, file := range is.PEMFiles {
		if file == "" {
			p.add(fmt.Sprintf("%s.pem_files[%d]", f, j), "must not be empty")
		}
	}
	for _, d := range []struct {
		name string
		v    int64
	}{
		{"refresh_interval", int64(is.RefreshInterval)}, {"refresh_min", int64(is.RefreshMin)},
		{"refresh_max", int64(is.RefreshMax)}, {"cooldown", int64(is.Cooldown)},
		{"fetch_timeout", int64(is.FetchTimeout)}, {"max_jwks_bytes", is.MaxJWKSBytes},
	} {
		if d.v < 0 {
			p.add(f+"."+d.name, "must not be negative")
		}
	}
	if is.RefreshMin > 0 && is.RefreshMax > 0 && is.RefreshMin > is.RefreshMax {
		p.add(f+".refresh_min", "%v is above refresh_max %v", is.RefreshMin, is.RefreshMax)
	}
}

// checkURL is keystore.CheckURL's verdict as a message ("" for a good URL).
func checkURL(raw string) string {
	if err := keystore.CheckURL(raw); err != nil {
		return err.Error()
	}
	return ""
}

func (is *Issuer) checkPolicy(p *problems, f string) {
	switch {
	case len(is.Audiences) == 0 && !is.AnyAudience:
		p.add(f+".audiences", "is required: the audiences this issuer's tokens must be meant for (set any_audience: true to skip the audience check explicitly)")
	case len(is.Audiences) > 0 && is.AnyAudience:
		p.add(f+".any_audience", "contradicts audiences: set one or the other")
	case is.AllAudiences && len(is.Audiences) == 0:
		p.add(f+".all_audiences", "needs audiences")
	}
	checkStrings(p, f+".audiences", is.Audiences)
	checkStrings(p, f+".required_claims", is.RequiredClaims)
	checkStrings(p, f+".required_scopes", is.RequiredScopes)
	for j, s := range is.RequiredScopes {
		if strings.ContainsAny(s, " \"\\") {
			p.add(fmt.Sprintf("%s.required_scopes[%d]", f, j), "%q: a scope has no spaces, quotes or backslashes", s)
		}
	}
	for j, a := range is.Algorithms {
		if !a.Valid() {
			p.add(fmt.Sprintf("%s.algorithms[%d]", f, j), "%d is not a supported algorithm (RS256..RS512, PS256..PS512, ES256, ES384, ES512, EdDSA, HS256..HS512)", a)
		}
	}
	is.checkTenants(p, f)
	if is.Leeway != nil && *is.Leeway < 0 {
		p.add(f+".leeway", "must not be negative (0s means no leeway)")
	}
	if is.MaxAge < 0 {
		p.add(f+".max_age", "must not be negative")
	}
}

// checkTenants checks a tenant template issuer and its tenants; the
// template's shape and the tenant IDs are the engine's to judge
// (engine.CheckTenants).
func (is *Issuer) checkTenants(p *problems, f string) {
	template := strings.Contains(is.Issuer, engine.TenantPlaceholder)
	switch {
	case !template && (len(is.Tenants) > 0 || is.AnyTenant):
		p.add(f+".tenants", "tenants and any_tenant need an issuer template with %s, as in https://login.microsoftonline.com/%s/v2.0",
			engine.TenantPlaceholder, engine.TenantPlaceholder)
	case template && len(is.Tenants) == 0 && !is.AnyTenant:
		p.add(f+".tenants", "the tenant template %q needs the allowed tenant IDs (tenants: [...]), or any_tenant: true to accept every tenant", is.Issuer)
	case len(is.Tenants) > 0 && is.AnyTenant:
		p.add(f+".any_tenant", "contradicts tenants: list the tenants, or accept any")
	default:
		if err := engine.CheckTenants(is.Issuer, is.Tenants, is.AnyTenant); err != nil {
			field := f + ".issuer"
			if len(is.Tenants) > 0 && strings.HasPrefix(err.Error(), "tenant ") {
				field = f + ".tenants"
			}
			p.add(field, "%v", err)
		}
		checkStrings(p, f+".tenants", is.Tenants)
	}
}

// checkStrings rejects empty and duplicate list elements.
func checkStrings(p *problems, f string, list []string) {
	seen := map[string]bool{}
	for j, s := range list {
		if s == "" {
			p.add(fmt.Sprintf("%s[%d]", f, j), "must not be empty")
		} else if seen[s] {
			p.add(fmt.Sprintf("%s[%d]", f, j), "%q is listed twice", s)
		}
		seen[s] = true
	}
}

func (c *Config) checkForwardAuth(p *problems) {
	for _, s := range []struct {
		field string
		v     *string
	}{{"forward_auth.uri_header", &c.ForwardAuth.URIHeader}, {"forward_auth.method_header", &c.ForwardAuth.MethodHeader}} {
		switch *s.v {
		case SourceAuto, SourcePath:
		default:
			if !authz.IsToken(*s.v) {
				p.add(s.field, "%q must be auto, path, or a header name", *s.v)
			} else {
				*s.v = textproto.CanonicalMIMEHeaderKey(*s.v)
			}
		}
	}
}

// checkAuthz compiles the authorization settings (rules becoming routes)
// and reports every problem authz finds at the setting's line.
func (c *Config) checkAuthz(p *problems) {
	c.policy = nil
	ac := c.Config
	var fromRule []int // routes[k] came from rules[fromRule[k]]
	if len(c.Rules) > 0 {
		if len(c.Routes) > 0 {
			p.add("rules", "rules and routes cannot both be set: move each rule into routes as a route with prefix: <its path> and the same methods, issuers, audiences and scopes")
			return
		}
		ac.Routes, fromRule = routesOfRules(c.Rules)
	}
	var issuers []string
	for _, is := range c.Issuers {
		issuers = append(issuers, is.Issuer)
	}
	pol, err := authz.Compile(&ac, authz.Options{Issuers: issuers})
	if err == nil {
		c.policy = pol
		return
	}
	for _, e := range splitErrors(err) {
		var ce *authz.CompileError
		if !errors.As(e, &ce) {
			p.add("routes", "%v", e)
			continue
		}
		field, msg := ce.Field, ce.Problem
		if fromRule != nil {
			field, msg = ruleField(field, fromRule), ruleMessage(msg, fromRule)
		}
		if ce.Fix != "" {
			msg += "; " + ce.Fix
		}
		p.add(field, "%s", msg)
	}
}

// splitErrors splits a joined error.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// routesOfRules turns rules into the routes that decide alike: each rule's
// path is a prefix, and the longest prefix is tried first, a rule naming
// methods before one that does not. from[k] is the rule of route k.
func routesOfRules(rules []Rule) (routes []authz.Route, from []int) {
	from = make([]int, len(rules))
	for i := range from {
		from[i] = i
	}
	key := func(r *Rule) string {
		if len(r.Path) > 1 {
			return strings.TrimRight(r.Path, "/")
		}
		return r.Path
	}
	sort.SliceStable(from, func(a, b int) bool {
		ra, rb := &rules[from[a]], &rules[from[b]]
		if la, lb := len(key(ra)), len(key(rb)); la != lb {
			return la > lb
		}
		return len(ra.Methods) > 0 && len(rb.Methods) == 0
	})
	for _, i := range from {
		r := &rules[i]
		name := r.Path
		if len(r.Methods) > 0 {
			name = strings.Join(r.Methods, ",") + " " + r.Path
		}
		routes = append(routes, authz.Route{Name: name, Prefix: r.Path, Methods: r.Methods,
			Issuers: r.Issuers, Audiences: r.Audiences, Scopes: r.Scopes})
	}
	return routes, from
}

// ruleField names the rule setting of a route setting ("routes[2].prefix"
// is "rules[0].path").
func ruleField(field string, from []int) string {
	var k int
	if n, _ := fmt.Sscanf(field, "routes[%d]", &k); n != 1 || k < 0 || k >= len(from) {
		return field
	}
	rest := field[strings.IndexByte(field, ']')+1:]
	if rest == ".prefix" {
		rest = ".path"
	}
	return fmt.Sprintf("rules[%d]%s", from[k], rest)
}

// ruleMessage renames the routes a message mentions after their rules.
func ruleMessage(msg string, from []int) string {
	for k := len(from) - 1; k >= 0; k-- {
		msg = strings.ReplaceAll(msg, fmt.Sprintf("routes[%d]", k), fmt.Sprintf("rules[%d]", from[k]))
	}
	return msg
}

func (c *Config) checkLimits(p *problems) {
	l := &c.Limits
	if l.MaxTokenBytes < minTokenBytes || l.MaxTokenBytes > maxTokenBytes {
		p.add("limits.max_token_bytes", "must be between %d and %d", minTokenBytes, maxTokenBytes)
	}
	if l.MaxHeaderBytes < l.MaxTokenBytes+1024 || l.MaxHeaderBytes > maxHeaderBytes {
		p.add("limits.max_header_bytes", "must be between max_token_bytes + 1024 (%d), so that a token of the maximum size fits in a request, and %d", l.MaxTokenBytes+1024, maxHeaderBytes)
	}
	if l.MaxVerifyBodyBytes < l.MaxTokenBytes+64 || l.MaxVerifyBodyBytes > maxVerifyBodyBytes {
		p.add("limits.max_verify_body_bytes", "must be between max_token_bytes + 64 (%d), so that a token of the maximum size fits in a /verify body, and %d", l.MaxTokenBytes+64, maxVerifyBodyBytes)
	}
	if l.Concurrency < 1 || l.Concurrency > maxConcurrency {
		p.add("limits.concurrency", "must be between 1 and %d", maxConcurrency)
	}
	if l.FDHeadroom < 1 || l.FDHeadroom > maxFDHeadroom {
		p.add("limits.fd_headroom", "must be between 1 and %d", maxFDHeadroom)
	}
	for _, d := range []struct {
		name string
		v    int64
	}{{"read_timeout", int64(l.ReadTimeout)}, {"write_timeout", int64(l.WriteTimeout)}, {"idle_timeout", int64(l.IdleTimeout)}, {"shutdown_timeout", int64(l.ShutdownTimeout)}, {"drain_period", int64(*l.DrainPeriod)}} {
		if d.v < 0 {
			p.add("limits."+d.name, "must be positive")
		}
	}
}
