package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/bench"
)

// machine describes where and how the benchmarks ran.
type machine struct {
	date    time.Time
	cpu     string // model name from /proc/cpuinfo
	cores   int
	goVer   string // the toolchain that built the benchmarks
	kernel  string
	commit  string // jwtgate commit, "" if unknown
	load    string // load averages around the run, "" if unknown
	modules []moduleVersion
}

type moduleVersion struct{ lib, path, version string }

// describeMachine gathers the report's header facts. Facts it cannot learn
// are left empty rather than failing the run.
func describeMachine(dir string) machine {
	m := machine{
		date:   time.Now().UTC(),
		cpu:    cpuModel("/proc/cpuinfo"),
		cores:  runtime.NumCPU(),
		goVer:  runtime.Version(),
		kernel: strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
	}
	if out, err := command(dir, "go", "env", "GOVERSION"); err == nil {
		m.goVer = strings.TrimSpace(out)
	}
	if out, err := command(dir, "git", "rev-parse", "--short", "HEAD"); err == nil {
		m.commit = strings.TrimSpace(out)
		if st, err := command(dir, "git", "status", "--porcelain", "--", ".."); err == nil && strings.TrimSpace(st) != "" {
			m.commit += " (with uncommitted changes)"
		}
	}
	m.modules = libraryVersions()
	return m
}

// libraryVersions returns the version of each compared library's modules,
// as linked into this binary (the same go.mod the benchmarks build with).
func libraryVersions() []moduleVersion {
	deps := map[string]string{}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			v := d.Version
			if d.Replace != nil {
				v = "this repository (" + d.Replace.Path + ")"
			}
			deps[d.Path] = v
		}
	}
	var out []moduleVersion
	for _, lib := range bench.Libs {
		for _, p := range lib.Modules {
			v, ok := deps[p]
			switch {
			case p == "std":
				v = runtime.Version()
			case !ok:
				v = "unknown"
			}
			out = append(out, moduleVersion{lib.Name, p, v})
		}
	}
	return out
}

// cpuModel returns the first "model name" in a /proc/cpuinfo file.
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// command runs name in dir and returns its standard output.
func command(dir, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}
