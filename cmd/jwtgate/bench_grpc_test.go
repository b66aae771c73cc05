package main

import (
	"strings"
	"testing"
)

// TestBenchGRPC: bench grpc measures HTTP /auth and gRPC Check with the
// cache and without, every answer as expected.
func TestBenchGRPC(t *testing.T) {
	code, stdout, stderr := runCmd(t, "", "bench", "grpc", "--duration", "200ms", "--warmup", "0s", "--concurrency", "4", "--conns", "2", "--distinct", "3", "--alg", "HS256")
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"http /auth (cache)", "grpc Check (cache)", "http /auth (no cache)", "grpc Check (no cache)", "p99"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
}

// TestBenchGRPCUsage: bad flags are usage errors that name the flag.
func TestBenchGRPCUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--conns", "0"},
		{"--concurrency", "2", "--conns", "3"},
		{"--duration", "0s"},
		{"--alg", "none"},
		{"extra"},
	} {
		code, _, stderr := runCmd(t, "", append([]string{"bench", "grpc"}, args...)...)
		if code != exitUsage || !strings.Contains(stderr, strings.TrimPrefix(args[0], "-")) && args[0] != "extra" {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}
