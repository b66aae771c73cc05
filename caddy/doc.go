// Package jwtgatecaddy is jwtgate as a Caddy HTTP handler,
// http.handlers.jwtgate: it verifies the request's JWT in Caddy's own
// process, before reverse_proxy, without the round trip of forward_auth.
//
// It is a thin adapter over the decision package authz, the same decision
// jwtgate's /auth endpoint makes: an allowed request goes on to the next
// handler with the identity headers set (every client-sent copy of them,
// and every look-alike such as X_Auth_Subject, removed) and the claims
// exposed as placeholders; a refused one is answered 401 or 403 with the
// RFC 6750 WWW-Authenticate challenge of /auth.
//
// # Configuration
//
// The handler reads jwtgate's YAML configuration file (config), or the same
// document inline (inline, in its JSON form), or in the Caddyfile a compact
// form for one issuer:
//
//	jwtgate {
//		issuer    https://id.example.com
//		jwks_url  https://id.example.com/jwks.json   # or jwks_file, discovery
//		audience  api
//		require   roles contains admin               # claim conditions
//		scope     read                               # required scopes
//		access    required                           # or optional, public
//	}
//
// access, scope and require apply to every request the handler sees (Caddy's
// matchers choose them); a configuration with its own route table (routes,
// rules or default_route) decides by that instead, and cannot be combined
// with them.
//
// # Placeholders
//
// After an allowed request, while the handlers after this one run:
//
//	{http.auth.user.id}                 the token's sub
//	{http.auth.jwtgate.claim.<path>}    any claim, by claim path (authz):
//	                                    {http.auth.jwtgate.claim.realm_access.roles}
//	{http.auth.jwtgate.issuer}          the token's iss
//	{http.auth.jwtgate.route}           the route that allowed the request
//
// A claim is rendered as identity headers render it: a string as it is,
// an array's elements joined by ",", an object as JSON.
//
// # Key stores
//
// An issuer's key source (JWKS URL or file, discovery, PEM files, with its
// refresh settings) has one key store in the process, whatever handlers and
// policies use it, and handlers with the same issuers share one verifier
// and its verified-token cache. Both are counted by reference: a config
// reload provisions the new handlers before it cleans up the old ones, so
// what the reload keeps keeps its keys and its cached tokens, and no
// request waits for a fetch.
package jwtgatecaddy
