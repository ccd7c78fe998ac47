package main

import (
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/bintest"
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

func TestNoKubernetesOrKustomize(t *testing.T) {
	pkgs := bintest.Deps(t)
	if bad := bintest.Forbidden(pkgs, forbiddenDeps); len(bad) > 0 {
		t.Errorf("the image-update function links %d packages it must not:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
