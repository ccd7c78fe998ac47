package setters

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

const digest = "sha256:6745aaad46d795c9836632e1fb62f24b7e7f4c843144da8e47a5465c411a14be"

// testImages are the policies of the golden cases, after Flux's update_test.go.
var testImages = map[string]Image{
	"automation-ns/policy":             {Name: "index.repo.fake/updated", Tag: "v1.0.1"},
	"automation-ns/unchanged":          {Name: "image", Tag: "v1.0.0"},
	"automation-ns/policy-with-digest": {Name: "image", Tag: "v1.0.0", Digest: digest},
	"automation-ns/calver":             {Name: "reg.example/app", Tag: "1.10"},
}

func TestUpdateGolden(t *testing.T) {
	policy := testImages["automation-ns/policy"]
	withDigest := testImages["automation-ns/policy-with-digest"]
	kustomization := ObjectID{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization"}
	deployment := ObjectID{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "bar", Name: "foo"}
	full := Change{OldValue: "image:v1.0.0", NewValue: "index.repo.fake/updated:v1.0.1", Setter: "automation-ns:policy"}
	tests := []struct {
		name       string
		want       Result
		wantWrites []string
	}{
		{
			name: "markers",
			want: Result{
				FileChanges: map[string]ObjectChanges{
					"kustomization.yml": {kustomization: {
						{OldValue: "replaced", NewValue: "index.repo.fake/updated", Setter: "automation-ns:policy:name"},
						{OldValue: "v1", NewValue: "v1.0.1", Setter: "automation-ns:policy:tag"},
						{OldValue: "sha256:1234567890abcdef", NewValue: digest, Setter: "automation-ns:policy-with-digest:digest"},
						{OldValue: "1.0", NewValue: "1.10", Setter: "automation-ns:calver:tag"},
						{OldValue: "image", NewValue: "image:v1.0.0@" + digest, Setter: "automation-ns:policy-with-digest"},
					}},
					"Kustomization": {kustomization: {
						{OldValue: "replaced", NewValue: "index.repo.fake/updated", Setter: "automation-ns:policy:name"},
						{OldValue: "v1", NewValue: "v1.0.1", Setter: "automation-ns:policy:tag"},
					}},
					"apps/deployment.yaml": {
						deployment: {full, full, full, full, full},
						{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "bar", Name: "report"}: {full},
					},
					"apps/list.yaml": {
						{APIVersion: "v1", Kind: "Pod", Name: "one"}: {full},
						{APIVersion: "v1", Kind: "Pod", Name: "two"}: {full},
					},
				},
				Images: map[string]Image{
					"automation-ns/policy":             policy,
					"automation-ns/policy-with-digest": withDigest,
					"automation-ns/calver":             testImages["automation-ns/calver"],
				},
			},
			wantWrites: []string{"Kustomization", "apps/deployment.yaml", "apps/list.yaml", "kustomization.yml"},
		},
		{
			name: "unparsable",
			want: Result{
				FileChanges: map[string]ObjectChanges{
					"good.yaml": {{APIVersion: "v1", Kind: "Pod", Name: "good"}: {full}},
				},
				Images: map[string]Image{"automation-ns/policy": policy},
				Skipped: []SkippedFile{
					{Path: "block.yaml", Reason: "line 6: cannot rewrite the value in place: block scalar"},
					{Path: "broken.yaml", Reason: "parsing YAML: yaml: line 3: did not find expected key"},
				},
			},
			wantWrites: []string{"good.yaml"},
		},
		{
			name:       "ignored",
			want:       Result{},
			wantWrites: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyTree(t, filepath.Join("testdata", tt.name, "original"))
			rec := &recordingFS{FS: Root(openRoot(t, dir))}
			got, err := Update(rec, testImages)
			if err != nil {
				t.Fatalf("Update: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWrites, rec.sortedWrites()); diff != "" {
				t.Errorf("written files (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(readTree(t, filepath.Join("testdata", tt.name, "expected")), readTree(t, dir)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			// Updating again changes nothing: the markers now hold their values.
			again, err := Update(rec, testImages)
			if err != nil || len(again.FileChanges) != 0 {
				t.Errorf("second Update = %v, %v; want no changes", again, err)
			}
		})
	}
}

// TestUpdateFixture updates the fixture's overlay as the tutorial's automation
// does: only the newTag line changes; the :name marker already holds the name.
func TestUpdateFixture(t *testing.T) {
	fixture := filepath.Join("..", "..", "examples", "task-tool-cluster-config", "app")
	dir := copyTree(t, fixture)
	name := "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service"
	img := Image{Name: name, Tag: "1.1.1"}
	got, err := Update(Root(openRoot(t, dir)), map[string]Image{"flux-system/task-service": img})
	if err != nil {
		t.Fatal(err)
	}
	want := Result{
		FileChanges: map[string]ObjectChanges{"overlays/prod/kustomization.yaml": {{}: {
			{OldValue: "1.0.0", NewValue: "1.1.1", Setter: "flux-system:task-service:tag"},
		}}},
		Images: map[string]Image{"flux-system/task-service": img},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Result (-want +got):\n%s", diff)
	}
	wantTree := readTree(t, fixture)
	const (
		before = `    newTag: 1.0.0 # {"$imagepolicy": "flux-system:task-service:tag"}` + "\n"
		after  = `    newTag: 1.1.1 # {"$imagepolicy": "flux-system:task-service:tag"}` + "\n"
	)
	k := wantTree["overlays/prod/kustomization.yaml"]
	if strings.Count(k, before) != 1 {
		t.Fatalf("fixture kustomization.yaml has no single line %q", before)
	}
	wantTree["overlays/prod/kustomization.yaml"] = strings.Replace(k, before, after, 1)
	if diff := cmp.Diff(wantTree, readTree(t, dir)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
}

func TestUpdateInPlace(t *testing.T) {
	img := Image{Name: "reg.example/app", Tag: "2.0.0"}
	tests := []struct {
		name, src, want string
		image           Image
		skipped         string // reason, when the file is skipped
	}{
		{name: "crlf line ends", src: "a: 1\r\nimage: app:1.0.0 # {\"$imagepolicy\": \"ns:p\"}\r\nb: 2\r\n",
			want: "a: 1\r\nimage: reg.example/app:2.0.0 # {\"$imagepolicy\": \"ns:p\"}\r\nb: 2\r\n"},
		{name: "no final newline", src: `image: app:1.0.0 # {"$imagepolicy": "ns:p:tag"}`,
			want: `image: 2.0.0 # {"$imagepolicy": "ns:p:tag"}`},
		{name: "unicode before the value", src: "ünïcödé: [x]\nkey€: app:1 # {\"$imagepolicy\": \"ns:p\"}\n",
			want: "ünïcödé: [x]\nkey€: reg.example/app:2.0.0 # {\"$imagepolicy\": \"ns:p\"}\n"},
		{name: "anchor kept", src: "image: &img app:1 # {\"$imagepolicy\": \"ns:p\"}\nother: *img\n",
			want: "image: &img reg.example/app:2.0.0 # {\"$imagepolicy\": \"ns:p\"}\nother: *img\n"},
		{name: "tab before comment", src: "tag: 1.0.0\t# {\"$imagepolicy\": \"ns:p:tag\"}\n",
			want: "tag: 2.0.0\t# {\"$imagepolicy\": \"ns:p:tag\"}\n"},
		{name: "value that must be quoted", image: Image{Name: "app", Tag: "yes"}, src: "tag: no # {\"$imagepolicy\": \"ns:p:tag\"}\n",
			want: "tag: \"yes\" # {\"$imagepolicy\": \"ns:p:tag\"}\n"},
		{name: "single quote inside", image: Image{Name: "app", Tag: "it's"}, src: "tag: 'x' # {\"$imagepolicy\": \"ns:p:tag\"}\n",
			want: "tag: 'it''s' # {\"$imagepolicy\": \"ns:p:tag\"}\n"},
		{name: "digest cleared", src: "d: sha256:abc # {\"$imagepolicy\": \"ns:p:digest\"}\n",
			want: "d: \"\" # {\"$imagepolicy\": \"ns:p:digest\"}\n"},
		{name: "multi-line double quoted", src: "image: \"app:\\\n  1.0\" # {\"$imagepolicy\": \"ns:p\"}\n",
			want: "image: \"reg.example/app:2.0.0\" # {\"$imagepolicy\": \"ns:p\"}\n"},
		{name: "sequence item head comment", src: "images:\n  # {\"$imagepolicy\": \"ns:p\"}\n  - app:1\n  - app:1\n",
			want: "images:\n  # {\"$imagepolicy\": \"ns:p\"}\n  - reg.example/app:2.0.0\n  - app:1\n"},
		{name: "multi-line plain", src: "image: app\n  :1 # {\"$imagepolicy\": \"ns:p\"}\n",
			skipped: "line 1: cannot rewrite the value in place: plain value \"app :1\" spans lines"},
		{name: "literal block", src: "image: | # {\"$imagepolicy\": \"ns:p\"}\n  app:1\n",
			skipped: "line 1: cannot rewrite the value in place: block scalar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := &memFS{MapFS: fstest.MapFS{"f.yaml": {Data: []byte(tt.src)}}}
			image := img
			if tt.image != (Image{}) {
				image = tt.image
			}
			res, err := Update(fsys, map[string]Image{"ns/p": image})
			if err != nil {
				t.Fatal(err)
			}
			if tt.skipped != "" {
				want := []SkippedFile{{Path: "f.yaml", Reason: tt.skipped}}
				if diff := cmp.Diff(want, res.Skipped); diff != "" || len(fsys.writes) != 0 {
					t.Errorf("Skipped (-want +got):\n%s\nwrites: %v", diff, fsys.writes)
				}
				return
			}
			if len(res.Skipped) != 0 {
				t.Fatalf("skipped: %v", res.Skipped)
			}
			if diff := cmp.Diff(tt.want, string(fsys.MapFS["f.yaml"].Data)); diff != "" {
				t.Errorf("file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUpdateInvalidInput(t *testing.T) {
	tests := []struct {
		name   string
		images map[string]Image
		want   string
	}{
		{name: "key without namespace", images: map[string]Image{"p": {Name: "a", Tag: "1"}}, want: `policy key "p" is not <namespace>/<name>`},
		{name: "key with colon", images: map[string]Image{"ns/p:tag": {Name: "a", Tag: "1"}}, want: `policy key "ns/p:tag" is not <namespace>/<name>`},
		{name: "empty name", images: map[string]Image{"ns/p": {Tag: "1"}}, want: "image for policy ns/p: empty name"},
		{name: "empty tag", images: map[string]Image{"ns/p": {Name: "a"}}, want: "image for policy ns/p: empty tag"},
		{name: "whitespace", images: map[string]Image{"ns/p": {Name: "a b", Tag: "1"}}, want: "contains whitespace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Update(&memFS{MapFS: fstest.MapFS{}}, tt.images)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Update error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseImage(t *testing.T) {
	tests := []struct {
		ref     string
		want    Image
		wantErr string
	}{
		{ref: "app:1.0", want: Image{Name: "app", Tag: "1.0"}},
		{ref: "localhost:5000/team/app:v2", want: Image{Name: "localhost:5000/team/app", Tag: "v2"}},
		{ref: "image:v1.0.0@" + digest, want: Image{Name: "image", Tag: "v1.0.0", Digest: digest}},
		{ref: "localhost:5000/app", wantErr: "has no tag"},
		{ref: "app@" + digest, wantErr: "has no tag"},
		{ref: ":1.0", wantErr: "empty name"},
		{ref: "app:", wantErr: "empty tag"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			got, err := ParseImage(tt.ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseImage error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || got.String() != tt.ref {
				t.Errorf("ParseImage (-want +got):\n%s\nString() = %q", diff, got.String())
			}
		})
	}
}

func TestResultProjections(t *testing.T) {
	a := ObjectID{Kind: "Deployment", Namespace: "bar", Name: "a"}
	b := ObjectID{Kind: "CronJob", Namespace: "bar", Name: "b"}
	c1 := Change{OldValue: "1", NewValue: "2", Setter: "ns:p:tag"}
	c2 := Change{OldValue: "x:1", NewValue: "x:2", Setter: "ns:q"}
	r := Result{FileChanges: map[string]ObjectChanges{
		"z.yaml":      {a: {c1}},
		"a.yaml":      {a: {c2}, b: {c1}},
		"values.yaml": {{}: {c1}}, // not an object: in Files and Changes, not in Objects
	}, Images: map[string]Image{"ns/p": {Name: "p", Tag: "2"}, "ns/q": {Name: "x", Tag: "2"}}}
	if diff := cmp.Diff([]string{"a.yaml", "values.yaml", "z.yaml"}, r.Files()); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Change{c1, c2}, r.Changes()); diff != "" {
		t.Errorf("Changes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ObjectChanges{a: {c2, c1}, b: {c1}}, r.Objects()); diff != "" {
		t.Errorf("Objects (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]Image{{Name: "p", Tag: "2"}, {Name: "x", Tag: "2"}}, r.UpdatedImages()); diff != "" {
		t.Errorf("UpdatedImages (-want +got):\n%s", diff)
	}
	if got := c1.Policy(); got != "ns/p" {
		t.Errorf("Policy() = %q, want ns/p", got)
	}
	if got := a.String(); got != "Deployment/bar/a" {
		t.Errorf("ObjectID.String() = %q", got)
	}
}

// recordingFS records which files Update writes.
type recordingFS struct {
	FS
	writes []string
}

func (r *recordingFS) WriteFile(name string, data []byte) error {
	r.writes = append(r.writes, name)
	return r.FS.WriteFile(name, data)
}

func (r *recordingFS) sortedWrites() []string {
	// WalkDir visits in lexical order, so writes are already sorted.
	return r.writes
}

// memFS is an in-memory FS.
type memFS struct {
	fstest.MapFS
	writes []string
}

func (m *memFS) WriteFile(name string, data []byte) error {
	f, ok := m.MapFS[name]
	if !ok {
		return fs.ErrNotExist
	}
	m.MapFS[name] = &fstest.MapFile{Data: data, Mode: f.Mode}
	m.writes = append(m.writes, name)
	return nil
}

// copyTree copies src into a new temporary directory.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := make(map[string]string)
	err := fs.WalkDir(os.DirFS(dir), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(os.DirFS(dir), name)
		files[name] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// openRoot opens dir as an os.Root closed when the test ends.
func openRoot(t *testing.T, dir string) *os.Root {
	t.Helper()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}
