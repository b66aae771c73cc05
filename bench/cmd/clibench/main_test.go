package main

import (
	"io"
	"testing"
)

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"-rounds", "0"}, {"extra"}, {"-nope"}, {"-hs256", "0", "-rs256", "0"}, {"-hs256", "-1"}} {
		if err := run(args, io.Discard, io.Discard); err == nil {
			t.Errorf("run(%q) succeeded", args)
		}
	}
}
