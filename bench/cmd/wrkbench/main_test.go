package main

import (
	"io"
	"strings"
	"testing"
)

// TestFlags checks that bad settings fail before anything is built or
// started, each naming what to fix.
func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-rounds", "0"}, "rounds"},
		{[]string{"-duration", "1500ms"}, "whole seconds"},
		{[]string{"-duration", "0s"}, "whole seconds"},
		{[]string{"-warmup", "-1s"}, "warm-up"},
		{[]string{"-threads", "4", "-conns", "2"}, "connection per thread"},
		{[]string{"-users", "0"}, "users"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-nope"}, "not defined"},
	} {
		err := run(c.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("run(%q) = %v, want an error naming %q", c.args, err, c.want)
		}
	}
}
