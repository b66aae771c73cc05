// Package jwtgate_test checks the repository's documentation: every Go
// program in README.md must build as written.
package jwtgate_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// goBlock is one ```go fenced block of a Markdown file.
type goBlock struct {
	line int // of the opening fence
	code string
}

// goBlocks returns the ```go blocks of the Markdown text md.
func goBlocks(md []byte) ([]goBlock, error) {
	var blocks []goBlock
	var cur *goBlock
	var code strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(md))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.TrimSpace(line) == "```go":
			cur = &goBlock{line: n}
			code.Reset()
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = code.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			code.WriteString(line)
			code.WriteByte('\n')
		}
	}
	if cur != nil {
		return nil, fmt.Errorf("the ```go block at line %d is not closed", cur.line)
	}
	return blocks, sc.Err()
}

// TestReadmeGoBuilds builds every ```go block of README.md as a program of
// its own inside this module (through a build overlay: nothing is written to the
// source tree). A block must be a complete program, package main included:
// a reader copies it, and so it must compile as written.
func TestReadmeGoBuilds(t *testing.T) {
	md, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := goBlocks(md)
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	if len(blocks) == 0 {
		t.Fatal("README.md has no ```go block: the Library section shows one")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to build README.md's examples: %v", err)
	}
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	for i, b := range blocks {
		if !strings.HasPrefix(b.code, "package main\n") {
			t.Errorf("README.md:%d: a ```go block must be a complete program starting with \"package main\"", b.line)
			continue
		}
		src := filepath.Join(tmp, fmt.Sprintf("block%d.go", i))
		if err := os.WriteFile(src, []byte(b.code), 0o644); err != nil {
			t.Fatal(err)
		}
		// A directory that does not exist: the overlay alone provides it.
		dir := fmt.Sprintf("internal/readmeblock%d_line%d", i, b.line)
		overlay[filepath.Join(root, dir, "main.go")] = src
		pkgs = append(pkgs, "./"+dir)
	}
	if len(pkgs) == 0 {
		return
	}
	spec, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	specPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		t.Fatal(err)
	}
	// The programs are linked into the temporary directory, never the tree.
	args := append([]string{"build", "-overlay", specPath, "-o", tmp + string(filepath.Separator)}, pkgs...)
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("a Go example in README.md does not build (directories name the block's line):\n%s\n%v", out, err)
	}
}
