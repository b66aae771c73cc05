package extauthz

import (
	"os/exec"
	"strings"
	"testing"
)

// coreDeps are the only packages outside the standard library that the
// verification core (engine, keystore) may import: gRPC, protobuf and the
// Envoy types are for this front end alone.
var coreDeps = []string{
	"github.com/jwtgate/jwtgate/engine",
	"github.com/jwtgate/jwtgate/keystore",
	"github.com/cespare/xxhash/v2",
	"github.com/goccy/go-json", // and its internal packages
	"golang.org/x/sync/singleflight",
	// Ed25519 keys are verified with their own precomputed tables
	// (engine/ed25519.go), on the Go crypto maintainers' exported package.
	"filippo.io/edwards25519",
	"filippo.io/edwards25519/field",
	// RSA keys keep their modulus precomputed (engine/rsa.go); bigmod reads
	// the CPU's features through x/sys/cpu.
	"filippo.io/bigmod",
	"golang.org/x/sys/cpu",
}

// TestCoreDependencies: engine and keystore import nothing beyond
// coreDeps and the standard library.
func TestCoreDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}",
		"github.com/jwtgate/jwtgate/engine", "github.com/jwtgate/jwtgate/keystore").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 2 {
		t.Fatalf("go list listed %q: want engine and keystore at least", pkgs)
	}
	for _, p := range pkgs {
		if !allowedCoreDep(p) {
			t.Errorf("engine or keystore imports %s: the verification core depends only on the standard library and %v (a transport's dependencies stay in its front end)", p, coreDeps)
		}
	}
}

func allowedCoreDep(p string) bool {
	for _, d := range coreDeps {
		if p == d || strings.HasPrefix(p, d+"/internal/") {
			return true
		}
	}
	return false
}
