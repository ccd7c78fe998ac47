package main

import (
	"strings"
	"testing"

	"github.com/sluice-gitops/sluice/internal/bintest"
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

func TestNoGitKubernetesOrKustomize(t *testing.T) {
	pkgs := bintest.Deps(t)
	if bad := bintest.Forbidden(pkgs, forbiddenDeps); len(bad) > 0 {
		t.Errorf("the webhook links %d packages it must not:\n%s", len(bad), strings.Join(bad, "\n"))
	}
}
