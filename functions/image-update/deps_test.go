package main

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// forbiddenDeps are what the image-update function must not link: it edits
// YAML in Git and talks to ECR, so it carries no Kubernetes client, no
// kustomize and none of the reconcile and drift functions' packages (a
// binary a third of theirs, which starts faster). fluxconfig's YAML
// decoding from apimachinery and sigs.k8s.io/yaml is what it does need.
var forbiddenDeps = []string{
	"k8s.io/client-go/",
	"k8s.io/api/",
	"sigs.k8s.io/kustomize/",
	"sigs.k8s.io/controller-runtime/",
	"github.com/fluxcd/",
	"github.com/sluice-gitops/sluice/internal/kube",
	"github.com/sluice-gitops/sluice/internal/render",
	"github.com/sluice-gitops/sluice/internal/desired",
	"github.com/sluice-gitops/sluice/internal/eksauth",
}

func forbidden(pkgs []string) []string {
	var bad []string
	for _, p := range pkgs {
		for _, prefix := range forbiddenDeps {
			if p == strings.TrimSuffix(prefix, "/") || strings.HasPrefix(p, prefix) {
				bad = append(bad, p)
				break
			}
		}
	}
	return bad
}

func TestForbiddenMatcher(t *testing.T) {
	got := forbidden([]string{
		"k8s.io/client-go/rest", "sigs.k8s.io/kustomize/api/krusty", "github.com/fluxcd/pkg/ssa",
		"github.com/sluice-gitops/sluice/internal/desired", "github.com/sluice-gitops/sluice/internal/kube",
		"k8s.io/apimachinery/pkg/util/yaml", "sigs.k8s.io/yaml", "github.com/sluice-gitops/sluice/internal/images",
		"github.com/go-git/go-git/v5",
	})
	want := []string{"k8s.io/client-go/rest", "sigs.k8s.io/kustomize/api/krusty", "github.com/fluxcd/pkg/ssa",
		"github.com/sluice-gitops/sluice/internal/desired", "github.com/sluice-gitops/sluice/internal/kube"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("forbidden (-want +got):\n%s", diff)
	}
}

func TestNoKubernetesOrKustomize(t *testing.T) {
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
		t.Errorf("the image-update function links %d packages it must not:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
