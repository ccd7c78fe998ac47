package templatetest

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFunctionsBuild builds every function as sam build does (make
// build-<LogicalId> with ARTIFACTS_DIR set) and checks that the result is
// what provided.al2023 on arm64 runs: a static linux/arm64 executable named
// bootstrap.
func TestFunctionsBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four Lambda binaries for linux/arm64")
	}
	for id := range functionDirs(t) {
		t.Run(id, func(t *testing.T) {
			artifacts := t.TempDir()
			cmd := exec.Command("make", "-s", "-C", repoRoot, "build-"+id, "ARTIFACTS_DIR="+artifacts)
			// As sam build runs it: GOARCH is the Makefile's default, arm64.
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				return strings.HasPrefix(kv, "GOARCH=") || strings.HasPrefix(kv, "GOOS=")
			})
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", id, err, out)
			}
			f, err := elf.Open(filepath.Join(artifacts, "bootstrap"))
			if err != nil {
				t.Fatalf("bootstrap: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
				t.Errorf("bootstrap is %v %v, want an arm64 executable", f.Machine, f.Type)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("bootstrap is dynamically linked: build it with CGO_ENABLED=0")
				}
			}
		})
	}
}
