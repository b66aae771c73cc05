// Command ceiling serves the bare fasthttp ceiling that `jwtgate bench http`
// measures jwtgate against (loadgen.StartCeiling: the same handler, which
// answers every request with an empty 200, and the same server settings) as
// a process of its own, on a free loopback port. It prints the address it
// listens on, "127.0.0.1:PORT", as its first line of standard output, then
// serves until SIGTERM or SIGINT.
//
// bench.RunWrk (make bench-wrk) starts it beside `jwtgate serve` so that wrk,
// another process, can drive both and each server's own CPU time can be read
// from /proc.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/jwtgate/jwtgate/internal/loadgen"
)

func main() {
	if len(os.Args) > 1 {
		fmt.Fprintln(os.Stderr, "usage: ceiling (no arguments: it listens on a free port of 127.0.0.1 and prints the address)")
		os.Exit(2)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	srv, err := loadgen.StartCeiling()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ceiling: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(srv.Addr)
	<-stop
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "ceiling: %v\n", err)
		os.Exit(1)
	}
}
