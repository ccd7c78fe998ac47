package cli

import (
	"bytes"
	"context"
	"testing"

	"github.com/sluice-gitops/sluice/internal/kubetest"
)

var env *kubetest.Env

func TestMain(m *testing.M) {
	kubetest.Main(m, kubetest.Options{CRDFiles: kubetest.FixtureCRDs()}, &env)
}

// run runs the command line args as a user would, with vars as the whole
// environment, and returns what it printed and its exit code.
func run(t *testing.T, vars map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	code = Run(context.Background(), args, IO{In: &bytes.Buffer{}, Out: &out, Err: &errOut}, lookup)
	return out.String(), errOut.String(), code
}

// A usage error exits 2, as Flux's CLI; an unknown output format is one.
func TestUsageErrorsExitTwo(t *testing.T) {
	for _, args := range [][]string{{"--no-such-flag"}} {
		if _, stderr, code := run(t, nil, args...); code != exitUsage {
			t.Errorf("sluice %v exited %d (stderr %q), want %d", args, code, stderr, exitUsage)
		}
	}
}
