// Package bintest builds a function's binary for its tests, as Lambda would
// run it through the local runner, and checks what the binary links.
package bintest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Main builds the package in the current directory into a temporary folder,
// sets *binary to its path, runs the tests and removes the folder: call it
// from TestMain.
func Main(m *testing.M, name string, binary *string) {
	dir, err := os.MkdirTemp("", "sluice-"+name+"-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*binary = filepath.Join(dir, name)
	build := exec.Command(GoTool(), "build", "-o", *binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "building the %s function: %v\n", name, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// GoTool is the go command: $GOROOT/bin/go when GOROOT is set (as go test
// sets it for the toolchain that runs the tests), else go from PATH.
func GoTool() string {
	if root := os.Getenv("GOROOT"); root != "" {
		return filepath.Join(root, "bin", "go")
	}
	return "go"
}

// Deps lists the packages the package in the current directory links.
func Deps(t testing.TB) []string {
	t.Helper()
	out, err := exec.Command(GoTool(), "list", "-deps", ".").Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	pkgs := strings.Fields(string(out))
	if len(pkgs) < 10 {
		t.Fatalf("go list -deps listed only %q", pkgs)
	}
	return pkgs
}

// Forbidden returns the packages of pkgs that a prefix names: a prefix
// ending in "/" names the path before the slash and everything under it;
// any other prefix matches as a string prefix.
func Forbidden(pkgs, prefixes []string) []string {
	var bad []string
	for _, p := range pkgs {
		for _, prefix := range prefixes {
			if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
				bad = append(bad, p)
				break
			}
		}
	}
	return bad
}
