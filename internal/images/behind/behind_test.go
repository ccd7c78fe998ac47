package behind

import (
	"context"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/awstest"
	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/drift"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/registry"
)

// The drift handler takes a Checker as its Images.
var _ drift.Images = (*Checker)(nil)

// TestBehindOnSnapshot opens the fixture from a real Git server as the drift
// function does and asks which policies are behind the registry.
func TestBehindOnSnapshot(t *testing.T) {
	ctx := context.Background()
	srv, err := gittest.Start("x-access-token", "t0ken")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	url := srv.URL("task-tool-cluster-config.git")
	if _, err := srv.Seed("task-tool-cluster-config.git", "main", filepath.Join("..", "..", "..", "examples", "task-tool-cluster-config"), func(dir string) error {
		return gittest.SetGitRepositoryURL(dir, "clusters/prod", url)
	}); err != nil {
		t.Fatal(err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	ecrSrv := awstest.NewECRServer()
	t.Cleanup(ecrSrv.Close)
	c := New(images.NewResolver(func(region string) registry.API {
		return ecr.New(ecr.Options{Region: region, BaseEndpoint: aws.String(ecrSrv.URL()),
			Credentials: credentials.NewStaticCredentialsProvider("AKIDBEHINDTEST", "secret", "")})
	}))
	snap, err := desired.Open(ctx, git, desired.Repository{URL: url, Branch: "main", ConfigPath: "clusters/prod"})
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	overlay := filepath.Join(snap.Dir(), "app", "overlays", "prod", "kustomization.yaml")
	before := sum(t, overlay)
	steps := []struct {
		push string
		want []string
	}{
		{push: "1.0.0", want: nil},
		{push: "1.1.0", want: []string{"flux-system/task-service"}},
		{push: "2.0.0", want: []string{"flux-system/task-service"}},
	}
	for _, s := range steps {
		ecrSrv.PushTag(awstest.ECRAccountID, "mamezou-tech/task-service", s.push)
		got, err := c.Behind(ctx, snap)
		if err != nil {
			t.Fatalf("after pushing %s: %v", s.push, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("after pushing %s, behind (-want +got):\n%s", s.push, diff)
		}
	}
	if sum(t, overlay) != before {
		t.Error("Behind changed the snapshot's clone")
	}
}

func sum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
