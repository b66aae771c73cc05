package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jwtgate/jwtgate/server"
	"github.com/jwtgate/jwtgate/server/config"
)

// exitCodeOf maps an error of serve or serve --check-config to the exit
// code, the same for the same problem on both paths: exitFailure (1) for a
// key source that cannot be used (*server.KeySourceError), exitUsage (2) for
// an invalid configuration (*server.ConfigError, or anything else found
// before serving).
func exitCodeOf(err error) int {
	var ke *server.KeySourceError
	if errors.As(err, &ke) {
		return exitFailure
	}
	return exitUsage
}

// checkConfig is serve --check-config once the configuration is valid: it
// loads every local key source (and, online, fetches every remote one),
// prints the keys of each issuer, then the verdict, and returns the exit
// code.
func checkConfig(ctx context.Context, cfg *config.Config, demo, online bool, stdout, stderr io.Writer) int {
	if demo {
		fmt.Fprintln(stdout, "jwtgate serve: configuration OK (demo mode: no configuration file and no key source)")
		printRoutes(stdout, cfg)
		return exitOK
	}
	reports, err := server.CheckKeys(ctx, cfg, online, server.Options{})
	for _, r := range reports {
		fmt.Fprintln(stdout, "jwtgate serve: "+describeReport(&r))
	}
	if err != nil {
		var ke *server.KeySourceError
		if errors.As(err, &ke) {
			for _, line := range strings.Split(ke.Err.Error(), "\n") {
				fmt.Fprintf(stderr, "jwtgate serve: key source unusable: %s\n", line)
			}
		} else {
			printConfigErrors(stderr, err)
		}
		return exitCodeOf(err)
	}
	msg := "configuration OK"
	if !online {
		for _, r := range reports {
			if r.Remote {
				msg += " (remote key sets not fetched: add --online to fetch them)"
				break
			}
		}
	}
	fmt.Fprintf(stdout, "jwtgate serve: %s\n", msg)
	printRoutes(stdout, cfg)
	return exitOK
}

// printRoutes prints the compiled route table, in the order routes are
// tried.
func printRoutes(w io.Writer, cfg *config.Config) {
	if pol := cfg.Policy(); pol != nil {
		fmt.Fprintln(w, "routes, in the order they are tried:")
		pol.WriteTable(w) //nolint:errcheck // the terminal
	}
}

// describeReport is the line --check-config prints for one issuer.
func describeReport(r *server.KeyReport) string {
	iss := r.Issuer
	if iss == "" {
		iss = "(any)"
	}
	head := fmt.Sprintf("issuer %s: %s: ", iss, r.Source)
	switch {
	case r.Err != nil:
		return head + "unusable"
	case !r.Loaded:
		return head + "not fetched"
	}
	keys := make([]string, len(r.Keys))
	for i, k := range r.Keys {
		kid := k.Kid
		if kid == "" {
			kid = "(none)"
		}
		keys[i] = "kid " + kid + " " + k.Alg
	}
	noun := "keys"
	if len(keys) == 1 {
		noun = "key"
	}
	return head + fmt.Sprintf("%d %s: %s", len(keys), noun, strings.Join(keys, ", "))
}
