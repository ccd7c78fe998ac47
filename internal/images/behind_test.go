package images

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
)

var fixture = filepath.Join("..", "..", "examples", "task-tool-cluster-config")

const overlay = "app/overlays/prod/kustomization.yaml"

// checkout copies the fixture, as a clone of its branch would hold it,
// after edit (nil for none).
func checkout(t *testing.T, edit func(dir string)) (string, *fluxconfig.Config) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(fixture)); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(dir)
	}
	cfg, err := fluxconfig.Read(os.DirFS(dir), "clusters/prod")
	if err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func replaceIn(t *testing.T, dir, file, old, new string) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s does not contain %q", file, old)
	}
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// treeSums hashes every file under dir, to tell that nothing was written.
func treeSums(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		sums[p] = sha256.Sum256(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func TestBehind(t *testing.T) {
	const marker = `newTag: 1.0.0 # {"$imagepolicy": "flux-system:task-service:tag"}`
	tests := []struct {
		name   string
		tags   []string
		edit   func(t *testing.T, dir string)
		url    string
		branch string
		want   []string
	}{
		{name: "fixture at 1.0.0, registry at 1.1.0", tags: []string{"1.0.0", "1.1.0"}, want: []string{"flux-system/task-service"}},
		{name: "Git already holds the selected tag", tags: []string{"1.0.0", "1.1.0"},
			edit: func(t *testing.T, dir string) { replaceIn(t, dir, overlay, "newTag: 1.0.0 # {", "newTag: 1.1.0 # {") }},
		{name: "no tag in range", tags: []string{"2.0.0"}},
		{name: "the name marker counts too", tags: []string{"1.1.0"}, want: []string{"flux-system/task-service"},
			edit: func(t *testing.T, dir string) {
				replaceIn(t, dir, overlay, "newTag: 1.0.0 # {", "newTag: 1.1.0 # {")
				replaceIn(t, dir, overlay, "amazonaws.com/mamezou-tech/task-service # {", "amazonaws.com/mamezou-tech/task-service-old # {")
			}},
		{name: "markers outside the update path are not the automation's", tags: []string{"1.1.0"},
			edit: func(t *testing.T, dir string) {
				replaceIn(t, dir, "clusters/prod/task-tool-automation.yaml", "path: ./app/overlays/prod", "path: ./app/base")
			}},
		{name: "another branch has no automation", tags: []string{"1.1.0"}, branch: "staging"},
		{name: "another repository has no automation", tags: []string{"1.1.0"}, url: "https://github.com/mamezou-tech/k8s-tutorial"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clients, _ := ecrStandIn(t)
			for _, tag := range tt.tags {
				srv.PushTag(account, taskService, tag)
			}
			dir, cfg := checkout(t, func(dir string) {
				if tt.edit != nil {
					tt.edit(t, dir)
				}
			})
			url, branch := tt.url, tt.branch
			if url == "" {
				url = configURL
			}
			if branch == "" {
				branch = "main"
			}
			before := treeSums(t, dir)
			got, err := NewResolver(clients).Behind(context.Background(), dir, cfg, url, branch)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("behind (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, treeSums(t, dir)); diff != "" {
				t.Errorf("Behind wrote into the checkout:\n%s", diff)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, overlay)); tt.edit == nil && !strings.Contains(string(b), marker) {
				t.Errorf("the fixture's marker line changed")
			}
		})
	}
}

func TestBehindReportsErrors(t *testing.T) {
	_, clients, _ := ecrStandIn(t)
	dir, cfg := checkout(t, func(dir string) {
		replaceIn(t, dir, "clusters/prod/task-service-policy.yaml", "range: 1.1.x", "range: 1.1.x.x")
	})
	got, err := NewResolver(clients).Behind(context.Background(), dir, cfg, configURL, "main")
	if err == nil || !strings.Contains(err.Error(), `ImagePolicy flux-system/task-service: invalid semver range "1.1.x.x"`) {
		t.Errorf("error %v does not name the policy and its range", err)
	}
	if len(got) != 0 {
		t.Errorf("behind %v with no resolvable policy", got)
	}
}

// TestUpdatePathSymlinkOutside: an update path that reaches outside the
// checkout through a symbolic link is refused, for reading as for writing.
func TestUpdatePathSymlinkOutside(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "k.yaml"), []byte("image: x:1.0.0 # {\"$imagepolicy\": \"flux-system:task-service:tag\"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv, clients, _ := ecrStandIn(t)
	srv.PushTag(account, taskService, "1.1.0")
	dir, cfg := checkout(t, func(dir string) {
		if err := os.Symlink(outside, filepath.Join(dir, "linked")); err != nil {
			t.Fatal(err)
		}
		replaceIn(t, dir, "clusters/prod/task-tool-automation.yaml", "path: ./app/overlays/prod", "path: ./linked")
	})
	got, err := NewResolver(clients).Behind(context.Background(), dir, cfg, configURL, "main")
	if err == nil || !strings.Contains(err.Error(), `ImageUpdateAutomation flux-system/task-tool: reading the setters under linked: spec.update.path "./linked"`) {
		t.Errorf("error %v, want the update path refused", err)
	}
	if len(got) != 0 {
		t.Errorf("behind %v, read through the link", got)
	}
	a := Automation{ImageUpdateAutomation: cfg.ImageUpdateAutomations[0], Path: "linked"}
	if r, err := a.OpenPath(dir); err == nil {
		r.Close()
		t.Errorf("OpenPath opened a folder outside the checkout")
	}
}
