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

// Env is a clean environment for a function binary: PATH, a fresh HOME,
// nothing read from the machine's AWS setup (no config or credentials files,
// no instance metadata), a static secret key and JSON logs; then vars (the
// function's settings, AWS_REGION and AWS_ACCESS_KEY_ID among them); then
// overrides, where an empty value removes the variable.
func Env(t testing.TB, vars, overrides map[string]string) []string {
	home := t.TempDir()
	all := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        home,
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_LAMBDA_LOG_FORMAT":       "JSON",
	}
	for _, m := range []map[string]string{vars, overrides} {
		for k, v := range m {
			if v == "" {
				delete(all, k)
			} else {
				all[k] = v
			}
		}
	}
	out := make([]string, 0, len(all))
	for k, v := range all {
		out = append(out, k+"="+v)
	}
	return out
}

// Run runs binary with env and args and returns its exit code and standard
// error; a binary that cannot be started fails the test.
func Run(t testing.TB, binary string, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &exit):
		return exit.ExitCode(), stderr.String()
	}
	t.Fatalf("running %s: %v", binary, err)
	return 0, ""
}
