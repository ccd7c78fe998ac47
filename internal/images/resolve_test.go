package images

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/registry"
	"github.com/sluice-gitops/sluice/internal/setters"
)

func TestResolve(t *testing.T) {
	seed := []string{"1.0.0", "1.1.0"}
	tests := []struct {
		name     string
		tags     map[string][]string // ECR repository (in the default account) → tags pushed in order
		deleted  []string            // tags of task-service deleted afterwards
		repos    []fluxconfig.ImageRepository
		policies []fluxconfig.ImagePolicy
		want     map[string]string // policy → tag
		wantErrs []string          // substrings, each naming the policy
	}{
		{
			name:     "seed: 1.1.x of 1.0.0 and 1.1.0",
			tags:     map[string][]string{taskService: seed},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{"flux-system/task-service": "1.1.0"},
		},
		{
			name:     "seed: 1.1.1 pushed, then 2.0.0 and 1.2.0",
			tags:     map[string][]string{taskService: {"1.0.0", "1.1.0", "1.1.1", "2.0.0", "1.2.0"}},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{"flux-system/task-service": "1.1.1"},
		},
		{
			name:     "deleting the newest tag selects the one before, as Flux",
			tags:     map[string][]string{taskService: {"1.0.0", "1.1.0", "1.1.1"}},
			deleted:  []string{"1.1.1"},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{"flux-system/task-service": "1.1.0"},
		},
		{
			name:     "default exclusionList drops cosign signatures",
			tags:     map[string][]string{taskService: {"a", "zz.sig"}},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{{Ref: ref("latest"), ImageRepositoryRef: ref("task-service"), Alphabetical: "asc"}},
			want:     map[string]string{"flux-system/latest": "a"},
		},
		{
			name:     "an exclusionList replaces the default",
			tags:     map[string][]string{taskService: {"a", "b-rc", "zz.sig"}},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService, "-rc$")},
			policies: []fluxconfig.ImagePolicy{{Ref: ref("latest"), ImageRepositoryRef: ref("task-service"), Alphabetical: "asc"}},
			want:     map[string]string{"flux-system/latest": "zz.sig"},
		},
		{
			name:  "numerical with filterTags extract",
			tags:  map[string][]string{taskService: {"main-9-a1", "main-10-b2", "dev-99-c3", "1.0.0"}},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{{Ref: ref("main"), ImageRepositoryRef: ref("task-service"), Numerical: "asc",
				FilterPattern: `^main-(?P<ts>\d+)-`, FilterExtract: "$ts"}},
			want: map[string]string{"flux-system/main": "main-10-b2"},
		},
		{
			name:  "2,500 tags across pages, one listing for two policies",
			tags:  map[string][]string{taskService: manyTags(2500)},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{
				semverPolicy("newest", "task-service", ">=0.0.0"),
				semverPolicy("first-minor", "task-service", "0.0.x"),
			},
			want: map[string]string{"flux-system/newest": "0.24.99", "flux-system/first-minor": "0.0.99"},
		},
		{
			name:  "policies of two repositories",
			tags:  map[string][]string{taskService: seed, "mamezou-tech/task-web": {"2.0.0", "2.1.0"}},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService), imageRepo("task-web", host+"/mamezou-tech/task-web")},
			policies: []fluxconfig.ImagePolicy{
				semverPolicy("task-service", "task-service", "1.x"),
				semverPolicy("task-web", "task-web", "2.0.x"),
			},
			want: map[string]string{"flux-system/task-service": "1.1.0", "flux-system/task-web": "2.0.0"},
		},
		{
			name:     "no tag in range: left out, not an error",
			tags:     map[string][]string{taskService: {"2.0.0"}},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{},
		},
		{
			name:     "a suspended ImageRepository is not read",
			tags:     map[string][]string{taskService: seed},
			repos:    []fluxconfig.ImageRepository{{Ref: ref("task-service"), Image: host + "/" + taskService, Suspend: true}},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{},
		},
		{
			name:     "an image outside ECR is left out",
			repos:    []fluxconfig.ImageRepository{imageRepo("podinfo", "ghcr.io/stefanprodan/podinfo")},
			policies: []fluxconfig.ImagePolicy{semverPolicy("podinfo", "podinfo", "6.x")},
			want:     map[string]string{},
		},
		{
			name:  "an invalid range names its policy; the others still resolve",
			tags:  map[string][]string{taskService: seed},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{
				semverPolicy("broken", "task-service", "1.x.x.x"),
				semverPolicy("task-service", "task-service", "1.1.x"),
			},
			want:     map[string]string{"flux-system/task-service": "1.1.0"},
			wantErrs: []string{`ImagePolicy flux-system/broken: invalid semver range "1.x.x.x"`},
		},
		{
			name:     "an invalid exclusionList names the policy and the repository",
			tags:     map[string][]string{taskService: seed},
			repos:    []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService, "(")},
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{},
			wantErrs: []string{`ImagePolicy flux-system/task-service: ImageRepository flux-system/task-service: invalid exclusionList pattern "("`},
		},
		{
			name:  "a suspended ImagePolicy is not evaluated",
			tags:  map[string][]string{taskService: seed},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{func() fluxconfig.ImagePolicy {
				p := semverPolicy("task-service", "task-service", "1.1.x")
				p.Suspend = true
				return p
			}()},
			want: map[string]string{},
		},
		{
			name:  "a cross-namespace ImageRepository without accessFrom is refused",
			tags:  map[string][]string{taskService: seed},
			repos: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
			policies: []fluxconfig.ImagePolicy{{Ref: fluxconfig.Ref{Namespace: "apps", Name: "web"}, ImageRepositoryRef: ref("task-service"), SemverRange: "1.x"},
				semverPolicy("task-service", "task-service", "1.1.x")},
			want:     map[string]string{"flux-system/task-service": "1.1.0"},
			wantErrs: []string{"ImagePolicy apps/web: ImageRepository flux-system/task-service cannot be used from namespace apps: it has no spec.accessFrom"},
		},
		{
			name:  "accessFrom by namespace name",
			tags:  map[string][]string{taskService: seed},
			repos: []fluxconfig.ImageRepository{withAccess(imageRepo("task-service", host+"/"+taskService), map[string]string{"kubernetes.io/metadata.name": "apps"})},
			policies: []fluxconfig.ImagePolicy{{Ref: fluxconfig.Ref{Namespace: "apps", Name: "web"}, ImageRepositoryRef: ref("task-service"), SemverRange: "1.x"},
				{Ref: fluxconfig.Ref{Namespace: "other", Name: "web"}, ImageRepositoryRef: ref("task-service"), SemverRange: "1.x"}},
			want:     map[string]string{"apps/web": "1.1.0"},
			wantErrs: []string{"ImagePolicy other/web: ImageRepository flux-system/task-service cannot be used from namespace other: no spec.accessFrom.namespaceSelectors matches it"},
		},
		{
			name:     "accessFrom with an empty selector admits every namespace",
			tags:     map[string][]string{taskService: seed},
			repos:    []fluxconfig.ImageRepository{withAccess(imageRepo("task-service", host+"/"+taskService), map[string]string{})},
			policies: []fluxconfig.ImagePolicy{{Ref: fluxconfig.Ref{Namespace: "apps", Name: "web"}, ImageRepositoryRef: ref("task-service"), SemverRange: "1.x"}},
			want:     map[string]string{"apps/web": "1.1.0"},
		},
		{
			name:     "accessFrom on a label Sluice cannot know admits none",
			tags:     map[string][]string{taskService: seed},
			repos:    []fluxconfig.ImageRepository{withAccess(imageRepo("task-service", host+"/"+taskService), map[string]string{"team": "web"})},
			policies: []fluxconfig.ImagePolicy{{Ref: fluxconfig.Ref{Namespace: "apps", Name: "web"}, ImageRepositoryRef: ref("task-service"), SemverRange: "1.x"}},
			want:     map[string]string{},
			wantErrs: []string{"Sluice reads no namespace labels from the cluster"},
		},
		{
			name:     "a missing ImageRepository",
			policies: []fluxconfig.ImagePolicy{semverPolicy("task-service", "nope", "1.1.x")},
			want:     map[string]string{},
			wantErrs: []string{"ImagePolicy flux-system/task-service: its ImageRepository flux-system/nope is not defined"},
		},
		{
			name:     "a repository ECR does not have",
			repos:    []fluxconfig.ImageRepository{imageRepo("gone", host+"/mamezou-tech/gone")},
			policies: []fluxconfig.ImagePolicy{semverPolicy("gone", "gone", "1.x")},
			want:     map[string]string{},
			wantErrs: []string{"ImagePolicy flux-system/gone: ECR repository not found: listing tags of 'mamezou-tech/gone' in registry 111122223333"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clients, counts := ecrStandIn(t)
			for repo, tags := range tt.tags {
				for _, tag := range tags {
					srv.PushTag(account, repo, tag)
				}
			}
			for _, tag := range tt.deleted {
				srv.DeleteTag(account, taskService, tag)
			}
			cfg := &fluxconfig.Config{ImageRepositories: tt.repos, ImagePolicies: tt.policies}
			got, err := NewResolver(clients).Resolve(context.Background(), cfg, tt.policies)
			for _, want := range tt.wantErrs {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("error %v; want it to say %q", err, want)
				}
			}
			if len(tt.wantErrs) == 0 && err != nil {
				t.Errorf("unexpected error: %v", err)
			}
			if diff := cmp.Diff(tt.want, Tags(got)); diff != "" {
				t.Errorf("tags (-want +got):\n%s", diff)
			}
			for name, img := range got {
				if !strings.HasPrefix(img.Name, host+"/") || img.Digest != "" {
					t.Errorf("%s: image %+v is not host/repository:tag", name, img)
				}
			}
			if len(tt.tags) == 1 && len(tt.repos) == 1 && counts.ListImages() > pages(len(tt.tags[taskService])) {
				t.Errorf("%d ListImages calls: the repository was listed more than once", counts.ListImages())
			}
		})
	}
}

func TestResolveFullImage(t *testing.T) {
	srv, clients, _ := ecrStandIn(t)
	srv.PushTag(account, taskService, "1.1.1")
	cfg := &fluxconfig.Config{
		ImageRepositories: []fluxconfig.ImageRepository{imageRepo("task-service", host+"/"+taskService)},
		ImagePolicies:     []fluxconfig.ImagePolicy{semverPolicy("task-service", "task-service", "1.1.x")},
	}
	got, err := NewResolver(clients).Resolve(context.Background(), cfg, cfg.ImagePolicies)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]setters.Image{"flux-system/task-service": {Name: host + "/" + taskService, Tag: "1.1.1"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("images (-want +got):\n%s", diff)
	}
	if s := got["flux-system/task-service"].String(); s != "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service:1.1.1" {
		t.Errorf("full reference %q", s)
	}
}

// TestResolveClientPerRegion checks that ECR is called in each registry's
// own region, with one client per region kept across calls.
func TestResolveClientPerRegion(t *testing.T) {
	srv, clients, counts := ecrStandIn(t)
	other := "444455556666"
	srv.PushTag(account, taskService, "1.0.0")
	srv.PushTag(other, taskService, "2.0.0")
	cfg := &fluxconfig.Config{
		ImageRepositories: []fluxconfig.ImageRepository{
			imageRepo("tokyo", host+"/"+taskService),
			imageRepo("virginia", other+".dkr.ecr.us-east-1.amazonaws.com/"+taskService),
		},
		ImagePolicies: []fluxconfig.ImagePolicy{
			semverPolicy("tokyo", "tokyo", "*"),
			semverPolicy("virginia", "virginia", "*"),
		},
	}
	r := NewResolver(clients)
	for range 3 {
		got, err := r.Resolve(context.Background(), cfg, cfg.ImagePolicies)
		if err != nil {
			t.Fatal(err)
		}
		// The account comes from the image host: each registry has its own tags.
		if diff := cmp.Diff(map[string]string{"flux-system/tokyo": "1.0.0", "flux-system/virginia": "2.0.0"}, Tags(got)); diff != "" {
			t.Fatalf("tags (-want +got):\n%s", diff)
		}
	}
	if diff := cmp.Diff(map[string]int{"ap-northeast-1": 1, "us-east-1": 1}, counts.Made()); diff != "" {
		t.Errorf("clients made by region (-want +got):\n%s", diff)
	}
	if n := counts.ListImages(); n != 6 {
		t.Errorf("%d ListImages calls, want 6: the registry is read on every call, never cached", n)
	}
}

func TestResolveRepositoryNotFoundIsWrapped(t *testing.T) {
	_, clients, _ := ecrStandIn(t)
	cfg := &fluxconfig.Config{
		ImageRepositories: []fluxconfig.ImageRepository{imageRepo("gone", host+"/mamezou-tech/gone")},
		ImagePolicies:     []fluxconfig.ImagePolicy{semverPolicy("gone", "gone", "*")},
	}
	_, err := NewResolver(clients).Resolve(context.Background(), cfg, cfg.ImagePolicies)
	if !errors.Is(err, registry.ErrRepositoryNotFound) {
		t.Fatalf("error %v does not wrap registry.ErrRepositoryNotFound", err)
	}
}

// manyTags returns n semver tags 0.<i/100>.<i%100>.
func manyTags(n int) []string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("0.%d.%d", i/100, i%100)
	}
	return tags
}

// pages is how many ListImages pages of 1,000 n tags take.
func pages(n int) int { return max(1, (n+999)/1000) }
