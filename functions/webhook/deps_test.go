package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// forbiddenDeps are the import path prefixes the webhook must not link: it
// answers GitHub within its 10 s and starts cold often, so it carries no
// Git, Kubernetes or kustomize code (DESIGN.md, "Packages").
var forbiddenDeps = []string{
	"github.com/go-git/",
	"k8s.io/",
	"sigs.k8s.io/",
	"github.com/fluxcd/",
}

func forbidden(pkgs []string) []string {
	var bad []string
	for _, p := range pkgs {
		for _, prefix := range forbiddenDeps {
			if strings.HasPrefix(p, prefix) {
				bad = append(bad, p)
				break
			}
		}
	}
	return bad
}

func TestForbiddenMatcher(t *testing.T) {
	got := forbidden([]string{
		"github.com/go-git/go-git/v5", "k8s.io/client-go/rest", "sigs.k8s.io/kustomize/api/krusty",
		"github.com/fluxcd/pkg/ssa", "github.com/google/go-github/v50/github", "net/http",
		"github.com/aws/aws-sdk-go-v2/service/sqs", "example.com/k8s.io/x",
	})
	want := []string{"github.com/go-git/go-git/v5", "k8s.io/client-go/rest", "sigs.k8s.io/kustomize/api/krusty", "github.com/fluxcd/pkg/ssa"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("forbidden (-want +got):\n%s", diff)
	}
}

func TestNoGitKubernetesOrKustomize(t *testing.T) {
	out, err := exec.Command(goTool(), "list", "-deps", ".").Output()
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
	if bad := forbidden(pkgs); len(bad) > 0 {
		t.Errorf("the webhook links %d packages it must not:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
