package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/version"
)

func TestVersionCommand(t *testing.T) {
	want := "jwtgate " + version.String() + " (" + runtime.Version() + " "
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := runCmd(t, "", args...)
		if code != exitOK || errOut != "" || !strings.HasPrefix(out, want) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want 0 and %q", args, code, out, errOut, want)
		}
	}
	if code, _, errOut := runCmd(t, "", "version", "extra"); code != exitUsage || !strings.Contains(errOut, "no arguments") {
		t.Errorf("version extra: exit %d, stderr %q", code, errOut)
	}
}

// TestMakeBuildStampsVersion builds jwtgate with the Makefile's build target
// and checks that the binary reports the VERSION it was given: the -X path
// in the Makefile names a real variable.
func TestMakeBuildStampsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; not in -short")
	}
	makePath, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	bin := filepath.Join(t.TempDir(), "jwtgate")
	const stamp = "v0.0.0-stamp-test"
	cmd := exec.Command(makePath, "--no-print-directory", "-C", "../..", "build", "GO="+goTool, "VERSION="+stamp, "BIN="+bin)
	cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	for _, arg := range []string{"version", "--version"} {
		out, err := exec.Command(bin, arg).Output()
		if err != nil || !strings.HasPrefix(string(out), "jwtgate "+stamp+" (") {
			t.Errorf("jwtgate %s: %q, %v: want the stamped %s", arg, out, err, stamp)
		}
	}
}
