package bintest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestForbidden(t *testing.T) {
	prefixes := []string{"k8s.io/client-go/", "sigs.k8s.io/kustomize/", "github.com/fluxcd/", "github.com/go-git/",
		"github.com/sluice-gitops/sluice/internal/kube"}
	got := Forbidden([]string{
		"github.com/go-git/go-git/v5", "k8s.io/client-go/rest", "k8s.io/client-go", "sigs.k8s.io/kustomize/api/krusty",
		"github.com/fluxcd/pkg/ssa", "github.com/google/go-github/v50/github", "net/http", "k8s.io/apimachinery/pkg/util/yaml",
		"example.com/k8s.io/client-go/x", "github.com/sluice-gitops/sluice/internal/kube", "github.com/sluice-gitops/sluice/internal/images",
	}, prefixes)
	want := []string{"github.com/go-git/go-git/v5", "k8s.io/client-go/rest", "k8s.io/client-go", "sigs.k8s.io/kustomize/api/krusty",
		"github.com/fluxcd/pkg/ssa", "github.com/sluice-gitops/sluice/internal/kube"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Forbidden (-want +got):\n%s", diff)
	}
}
