// Command jwtgate verifies JSON Web Tokens: a forward-auth server for API
// gateways (serve), a command-line verifier (verify), a key and token tool
// (keys) and a load harness (bench).
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand of jwtgate. run gets the arguments after the
// command name and returns the process exit code.
type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) int
}

// commands is the command table, filled by each command file's init.
var commands = map[string]command{}

// register adds c to the command table. Each command file calls it from init.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("jwtgate: command " + c.name + " registered twice")
	}
	commands[c.name] = c
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run dispatches args[0] to its command.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch name := args[0]; name {
	case "-version", "--version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := commands[args[1]]; ok {
				return c.run([]string{"--help"}, stdout, stderr)
			}
			fmt.Fprintf(stderr, "jwtgate: unknown command %q%s\n", args[1], didYouMean(args[1], commandNames(commands), ""))
			return exitUsage
		}
		usage(stdout)
		return exitOK
	default:
		c, ok := commands[name]
		if !ok {
			fmt.Fprintf(stderr, "jwtgate: unknown command %q%s\n\n", name, didYouMean(name, commandNames(commands), ""))
			usage(stderr)
			return exitUsage
		}
		return c.run(args[1:], stdout, stderr)
	}
}

// usage lists the commands.
func usage(w io.Writer) {
	fmt.Fprintln(w, "jwtgate verifies JSON Web Tokens for API gateways.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: jwtgate COMMAND [flags] [args]")
	fmt.Fprintln(w)
	listCommands(w, "Commands:", commands)
	fmt.Fprintln(w, "Run 'jwtgate COMMAND --help' for a command's flags.")
}

// listCommands prints a heading and one line per command, sorted by name,
// then a blank line.
func listCommands(w io.Writer, heading string, table map[string]command) {
	names := commandNames(table)
	fmt.Fprintln(w, heading)
	for _, name := range names {
		fmt.Fprintf(w, "  %-9s %s\n", name, table[name].summary)
	}
	fmt.Fprintln(w)
}

// commandNames returns the names of a command table, sorted.
func commandNames(table map[string]command) []string {
	names := make([]string, 0, len(table))
	for name := range table {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
