// Package bench compares jwtgate with the JWT libraries Go teams use today,
// on identical work: the same keys (two JWKS: the public keys, issued by
// Issuer, and the HS256 secret, issued by HMACIssuer, since a key set holds
// public keys or secrets, never both), the same realistic access tokens and
// the same checks (signature with the key looked up by kid, alg bound to
// the key, iss, aud, exp required, nbf and iat, 30 s leeway). Each verifier
// trusts the key set of the algorithm it is measured on.
//
// Each library is configured once in its own file (jwtgate.go,
// golangjwt.go, jwx.go, gojose.go) and the bare standard-library primitive
// in stdlib.go sets the floor. The tests prove every configuration accepts
// the valid token and rejects each hostile one, so no library can look fast
// by checking less; BenchmarkVerify measures them side by side and
// cmd/benchreport turns its output into bench/results.
//
// For the HTTP comparison, httpserver.go is the forward-auth endpoint a Go
// team would write with net/http, golang-jwt and keyfunc, and
// jwtgateserver.go starts jwtgate's own server with the same keys and policy;
// both trust the two key sets, each for its issuer. oauth2proxy.go builds
// and runs oauth2-proxy, the forward-auth server operators deploy for bearer
// JWTs, as its own process with the same issuer, audience and public keys,
// and checks that it verifies before it is timed.
//
// For the command line, cmd/golangjwt-verify is the token-file checker a Go
// team would write with golang-jwt and keyfunc, and RunCLI (cli.go) times it
// against `jwtgate verify --summary` as whole processes: cmd/benchreport
// runs it beside the other comparisons (make bench), cmd/clibench alone
// (make bench-cli).
//
// For the measurement of issue 15, RunWrk (wrk.go) runs `jwtgate serve` and
// cmd/ceiling, `jwtgate bench http`'s bare fasthttp server, each as a
// process of its own, drives them in turn with wrk and reads each server's
// own CPU time from /proc: cmd/benchreport runs it beside the other
// comparisons (make bench), cmd/wrkbench alone (make bench-wrk).
package bench
