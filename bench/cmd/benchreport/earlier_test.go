package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/bench"
)

// TestLoadEarlier: a report run without rounds reuses the JSON an earlier
// run wrote: none when there is none, the result when there is one, and an
// error naming the file when it is not a result.
func TestLoadEarlier(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wrk.json")
	if r, err := loadEarlier[bench.WrkResult](path); r != nil || err != nil {
		t.Fatalf("no earlier run: %v, %v; want nil, nil", r, err)
	}
	if err := os.WriteFile(path, []byte(`{"cpus":2,"rounds":5}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r, err := loadEarlier[bench.WrkResult](path); r == nil || err != nil || r.CPUs != 2 {
		t.Fatalf("an earlier run: %+v, %v; want its result", r, err)
	}
	if err := os.WriteFile(path, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := loadEarlier[bench.WrkResult](path); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("a corrupt file: %v; want an error naming %s", err, path)
	}
	if err := os.Mkdir(filepath.Join(dir, "cli.json"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := loadEarlier[bench.CLIResult](filepath.Join(dir, "cli.json")); err == nil {
		t.Fatal("an unreadable file (a directory) gave no error")
	}
}
