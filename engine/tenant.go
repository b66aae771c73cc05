package engine

import (
	"bytes"
	"fmt"
	"strings"
	"time"
)

// IssuerPolicy is the policy of one issuer of a Verifier with several
// (Config.Policies): which tokens of that issuer are accepted, and the keys
// that verify them.
type IssuerPolicy struct {
	// Issuer is the exact "iss" of the issuer's tokens, or a tenant
	// template: an issuer URL with TenantPlaceholder as one whole path
	// segment, e.g. "https://login.microsoftonline.com/{tenantid}/v2.0"
	// (Microsoft Entra ID's multi-tenant issuer). A template accepts a
	// token only when its "iss" is the template with the placeholder
	// replaced by one tenant ID — a GUID or a domain name: letters, digits,
	// '-' and '.', never '/', '?', '#', '%' or ".." — that equals the
	// token's "tid" claim and is allowed by Tenants or AnyTenant.
	Issuer string
	// AnyIssuer skips the issuer check, with Issuer empty. Use it only when
	// the key set itself is trusted for exactly one issuer; such a policy
	// must be the Verifier's only one.
	AnyIssuer bool
	// Tenants lists the tenant IDs a template accepts (compared exactly,
	// as the issuer writes them). A template needs Tenants or AnyTenant.
	Tenants []string
	// AnyTenant accepts every tenant of a template, explicitly.
	AnyTenant bool

	// Keys finds the issuer's keys. nil means Config.Keys, which is then
	// given the token's "iss" to route by. A handle on the issuer's own key
	// set (keystore.Store.KeySet) makes a key of another issuer unusable
	// for this one whatever its kid.
	Keys KeyLookup

	// Audiences lists accepted "aud" values. By default a token must carry at
	// least one of them; with AllAudiences, all of them. Required unless
	// AnyAudience is set.
	Audiences    []string
	AllAudiences bool
	// AnyAudience skips the audience check.
	AnyAudience bool
	// Algorithms restricts the accepted algorithms further than the keys do.
	// Empty means every algorithm a key is bound to.
	Algorithms []Alg
	// RequireKid rejects tokens without a kid header.
	RequireKid bool
	// Leeway absorbs clock skew for exp, nbf and iat. 0 means DefaultLeeway;
	// NoLeeway (any negative value) means none.
	Leeway time.Duration
	// ExpOptional accepts tokens without "exp". Off by default.
	ExpOptional bool
	// MaxAge, if positive, rejects tokens whose "iat" is older (and tokens
	// without "iat").
	MaxAge time.Duration
	// Typ, if set, requires the header "typ" to equal it, ignoring ASCII case
	// and an "application/" prefix (RFC 8725 §3.11), e.g. "at+jwt".
	Typ string
	// RequiredClaims lists claims every token must carry.
	RequiredClaims []string
	// RequiredScopes lists scopes every token must grant ("scope" or "scp").
	RequiredScopes []string
}

// TenantPlaceholder marks the tenant segment of an issuer template.
const TenantPlaceholder = "{tenantid}"

// maxTenant bounds a tenant ID (a DNS name is at most 253 bytes).
const maxTenant = 253

// template is a compiled tenant template: "iss" is prefix + tenant + suffix.
type template struct {
	prefix, suffix []byte
	tenants        [][]byte // allowed tenants; nil: any
	errTenant      *Error   // a tenant not in tenants
}

// Refusals of a token of a tenant template.
var (
	errTenantTid     = ErrIssuer.Refine("token iss names a tenant other than its tid claim (or it has no tid)")
	errTenantSegment = ErrIssuer.Refine("token iss does not match the issuer template: the tenant must be one GUID or domain name")
)

// parseTemplate compiles iss if it is a tenant template (ok), and reports
// an error for a placeholder that is not one whole path segment.
func parseTemplate(iss string) (*template, bool, error) {
	n := strings.Count(iss, TenantPlaceholder)
	if n == 0 {
		if strings.ContainsAny(iss, "{}") && strings.Contains(strings.ToLower(iss), "{tenant") {
			return nil, false, fmt.Errorf("issuer template %q: the placeholder is spelled %s", iss, TenantPlaceholder)
		}
		return nil, false, nil
	}
	if n > 1 {
		return nil, false, fmt.Errorf("issuer template %q: %s may appear once", iss, TenantPlaceholder)
	}
	i := strings.Index(iss, TenantPlaceholder)
	prefix, suffix := iss[:i], iss[i+len(TenantPlaceholder):]
	if !strings.HasPrefix(prefix, "https://") && !strings.HasPrefix(prefix, "http://") || !strings.HasSuffix(prefix, "/") ||
		strings.Count(prefix, "/") < 3 || suffix != "" && suffix[0] != '/' || strings.ContainsAny(iss, "?#") {
		return nil, false, fmt.Errorf("issuer template %q: %s must be a whole path segment of an http(s) URL without query or fragment, as in https://login.microsoftonline.com/%s/v2.0",
			iss, TenantPlaceholder, TenantPlaceholder)
	}
	return &template{prefix: []byte(prefix), suffix: []byte(suffix)}, true, nil
}

// CheckTenants reports what is wrong with an issuer and its tenant settings
// (IssuerPolicy.Issuer, Tenants and AnyTenant): a template whose
// placeholder is not one whole path segment, a template without Tenants or
// AnyTenant (or with both), a tenant that is not a GUID or domain name, or
// tenants for an issuer that is not a template. It returns nil for an
// exact issuer without tenant settings.
func CheckTenants(issuer string, tenants []string, anyTenant bool) error {
	_, err := compileTenants(issuer, tenants, anyTenant)
	return err
}

// compileTenants compiles the template of issuer (nil for an exact issuer).
func compileTenants(issuer string, tenants []string, anyTenant bool) (*template, error) {
	tmpl, ok, err := parseTemplate(issuer)
	switch {
	case err != nil:
		return nil, err
	case !ok && (len(tenants) > 0 || anyTenant):
		return nil, fmt.Errorf("tenants and any-tenant need an issuer template with %s, as in https://login.microsoftonline.com/%s/v2.0", TenantPlaceholder, TenantPlaceholder)
	case !ok:
		return nil, nil
	case len(tenants) == 0 && !anyTenant:
		return nil, fmt.Errorf("the tenant template %q needs the allowed tenant IDs (Tenants), or any tenant explicitly (AnyTenant)", issuer)
	case len(tenants) > 0 && anyTenant:
		return nil, fmt.Errorf("Tenants and AnyTenant are exclusive: list tenants, or accept any")
	}
	for _, tn := range tenants {
		if !validTenant([]byte(tn)) {
			return nil, fmt.Errorf("tenant %q is not a GUID or domain name (letters, digits, '-' and '.')", tn)
		}
		tmpl.tenants = append(tmpl.tenants, []byte(tn))
	}
	tmpl.errTenant = ErrIssuer.Refine(fmt.Sprintf("token tenant is not one of the tenants allowed for issuer %q", issuer))
	return tmpl, nil
}

// tenant returns the tenant segment of iss if iss matches the template and
// the segment is a valid tenant ID. It does not allocate.
func (tp *template) tenant(iss []byte) ([]byte, bool) {
	if len(iss) <= len(tp.prefix)+len(tp.suffix) || !bytes.HasPrefix(iss, tp.prefix) || !bytes.HasSuffix(iss, tp.suffix) {
		return nil, false
	}
	seg := iss[len(tp.prefix) : len(iss)-len(tp.suffix)]
	return seg, validTenant(seg)
}

// check reports why the verified claims c do not meet the template: "iss"
// must name a valid tenant, equal to the "tid" claim, and allowed.
func (tp *template) check(c *Claims) error {
	seg, ok := tp.tenant(c.Issuer)
	if !ok {
		return errTenantSegment
	}
	tid, ok := c.Lookup("tid")
	if !ok || len(tid) != len(seg)+2 || tid[0] != '"' || !bytes.Equal(tid[1:len(tid)-1], seg) {
		return errTenantTid
	}
	if tp.tenants != nil && !containsBytes(tp.tenants, seg) {
		return tp.errTenant
	}
	return nil
}

// validTenant reports whether seg is a tenant ID: a GUID or a domain name,
// at most 253 bytes of letters, digits, '-' and '.', neither starting nor
// ending with '.' or '-', and without "..".
func validTenant(seg []byte) bool {
	if len(seg) == 0 || len(seg) > maxTenant {
		return false
	}
	for i, c := range seg {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '.':
			if i == 0 || i == len(seg)-1 || c == '.' && seg[i-1] == '.' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
