// Package authz decides whether a request may pass the gate: it finds the
// request's token, matches the request against a route table, checks the
// verified token against the route's requirements and claim conditions, and
// computes the identity headers of an allowed request — or the status,
// RFC 6750 error code, stable reason and challenge of a refused one.
//
// It knows nothing of any transport. A front end (jwtgate's forward-auth
// endpoint, its /verify endpoint, the net/http and fasthttp middleware, a
// gRPC ext_authz service, a Caddy module) is a thin adapter: it fills a
// Request with byte slices that point into its own buffers and a
// HeaderSource that reads its headers, calls Policy.Decide, and writes the
// Decision back in its own terms. Deciding allocates nothing once the
// caller's State has grown to the request's size.
//
// A Policy is compiled once, from Config (the YAML schema of jwtgate's
// configuration file, or Go values built by an embedder); every mistake is
// reported at that point as a *CompileError that names the setting, what is
// wrong with it, and how to fix it.
//
// # Routes
//
// Routes are tried in order and the first that matches wins; Config.Default
// applies when none does. A route matches on:
//
//   - host: an exact name ("api.example.com"), or "*.example.com" for every
//     name below example.com (not example.com itself). Case-insensitive; a
//     port and a trailing dot of the request's host are ignored. Empty: any.
//   - path, a pattern on path segments, never a regular expression: each
//     segment is a literal, "*" (exactly one non-empty segment), or, as the
//     last segment only, "**" (zero or more segments: "/api/**" matches
//     "/api", "/api/" and everything below). A request segment with path
//     parameters ("admin;jsessionid=1") matches the literal "admin".
//   - or prefix, the prefix form of jwtgate's earlier rules: "/admin" covers
//     "/admin", "/admin/x", "/admin;x" and "/admin.json", but neither
//     "/administrator" nor "/admin-ui".
//   - methods: a set of methods, compared ignoring case (some upstreams
//     serve "get" as GET); empty: any.
//
// A route that can never match because an earlier one matches every request
// it would is refused at compile time.
//
// # Access
//
// A route's access is "required" (the default: no valid token, no entry),
// "optional" (no token passes without identity; a token must be valid and
// then meets the route's requirements), or "public" (no token is read or
// verified). A CORS preflight — OPTIONS with Origin and
// Access-Control-Request-Method and no token — passes without a token when
// the route the actual request would take (matched with the method in
// Access-Control-Request-Method), or the whole policy, allows it.
//
// # Requirements
//
// A route may name the issuers whose tokens it accepts, the audiences of
// which a token must carry one, the scopes it must all grant, and claim
// conditions that must all hold. A condition tests one claim, addressed by a
// path, with one operator — equals, one_of, exists, prefix, contains,
// contains_any, contains_all — or groups conditions with all or any, nested
// at will. Types are respected: the number 5 never equals the string "5", a
// missing claim never matches, and a claim of an unexpected type never
// matches (and never panics).
//
// contains, contains_any and contains_all test the elements of an array
// claim, or the space-separated words of a string claim (the form of
// "scope", and of Microsoft Entra ID's "scp").
//
// # Claim paths
//
// A claim path is a list of object member names separated by dots:
// "realm_access.roles", "resource_access.my-client.roles". A name that holds
// a dot is written with the dot escaped ("a\.b") or in brackets with
// quotes: `["https://example.com/roles"]`, `resource_access["my.client"]`.
// Inside brackets, \" and \\ stand for a quote and a backslash. Colons,
// slashes and dashes need no escaping: "cognito:groups" is one name. Array
// elements are not addressed by index.
//
// # Answers
//
// No token, or an invalid one: 401 with an RFC 6750 challenge (no error code
// when there is no token). A valid token of an issuer or audience the route
// does not accept, or lacking a scope: 403 insufficient_scope, with the
// scope attribute for scopes. A valid token failing a claim condition: 403
// insufficient_scope with the reason "rule_condition"; Denial.Condition
// names the route and the condition (its name, or its position such as
// "routes[2].require[0]"), and no answer ever carries a claim's value. An
// allowed request carries every identity header, empty when its claim is
// absent or no token was verified, so that a proxy copying them overwrites
// whatever the client sent; front ends that forward the request themselves
// remove every header that Policy.IsLookAlike reports.
//
// # Cost
//
// Routes are looked up by the first segment of the path, so the number of
// routes tried does not grow with the table. The claims a policy reads are
// indexed once per distinct token, and the outcome of a route's conditions
// is kept with the token's cache entry (see Verifier): a cached token's
// request costs a map lookup, a path match and one atomic load on top of
// verification.
package authz
