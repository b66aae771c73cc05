package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/jwtgate/jwtgate/internal/version"
)

func init() {
	register(command{
		name:    "version",
		summary: "print the version of jwtgate and of Go it was built with",
		run:     runVersion,
	})
}

const versionAbout = `
Prints "jwtgate VERSION (GO-VERSION OS/ARCH)". Release builds stamp VERSION
at link time ('make build' does, from 'git describe'); other builds report
the module version or VCS revision the Go toolchain recorded.`

func runVersion(args []string, stdout, stderr io.Writer) int {
	f := newFlags("version", "", versionAbout, stderr)
	pos, code, stop := f.parse(args, stdout)
	if stop {
		return code
	}
	if len(pos) > 0 {
		return f.usageErr("takes no arguments, got %q", pos[0])
	}
	fmt.Fprintf(stdout, "jwtgate %s (%s %s/%s)\n", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return exitOK
}
