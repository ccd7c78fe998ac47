package render_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-gitops/sluice/internal/render"
)

// remoteServer is an HTTP server that answers every request with a
// ConfigMap (so a fetch that went through would succeed) and counts them.
func remoteServer(t *testing.T) (url string, requests *atomic.Int64) {
	t.Helper()
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\ndata:\n  KEY: value\n"))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests
}

const cmResource = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  KEY: value\n"

// TestBuildNeverLeavesTheClone points every kind of load kustomize makes at
// a local HTTP server (or a Git repository on it): the server receives no
// request, and the build fails naming the file and field that refer to it.
func TestBuildNeverLeavesTheClone(t *testing.T) {
	url, requests := remoteServer(t)
	gitURL := url + "/repo.git"
	tests := []struct {
		name  string
		files map[string]string
		opts  render.Options
		// where is the file and field the error must name.
		where string
		ref   string
	}{
		{
			name: "ConfigMapGenerator config under generators",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ngenerators: [gen.yaml]\n",
				"app/gen.yaml":           "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: admin\nfiles:\n  - " + url + "/admin\n",
			},
			where: "app/gen.yaml (ConfigMapGenerator admin): files[0]", ref: url + "/admin",
		},
		{
			name: "inline ConfigMapGenerator under generators",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ngenerators:\n  - |\n    apiVersion: builtin\n    kind: ConfigMapGenerator\n    metadata:\n      name: admin\n    envs:\n      - " + url + "/env\n",
			},
			where: "app/kustomization.yaml: generators[0]", ref: url + "/env",
		},
		{
			name: "PatchTransformer config under transformers",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ntransformers: [patch.yaml]\n",
				"app/patch.yaml":         "apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: " + url + "/patch\ntarget:\n  kind: ConfigMap\n",
			},
			where: "app/patch.yaml (PatchTransformer p): path", ref: url + "/patch",
		},
		{
			name: "configMapGenerator files",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: c\n    files:\n      - key=" + url + "/file\n",
			},
			where: "app/kustomization.yaml: configMapGenerator[0].files[0]", ref: url + "/file",
		},
		{
			name: "configMapGenerator envs",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n  - name: c\n    envs:\n      - " + url + "/env\n",
			},
			where: "app/kustomization.yaml: configMapGenerator[0].envs[0]", ref: url + "/env",
		},
		{
			name: "secretGenerator files",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nsecretGenerator:\n  - name: s\n    files:\n      - " + url + "/secret\n",
			},
			where: "app/kustomization.yaml: secretGenerator[0].files[0]", ref: url + "/secret",
		},
		{
			name: "secretGenerator envs",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nsecretGenerator:\n  - name: s\n    envs:\n      - " + url + "/env\n",
			},
			where: "app/kustomization.yaml: secretGenerator[0].envs[0]", ref: url + "/env",
		},
		{
			name: "patch path",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\npatches:\n  - path: " + url + "/patch\n",
			},
			where: "app/kustomization.yaml: patches[0].path", ref: url + "/patch",
		},
		{
			name: "openapi path",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nopenapi:\n  path: " + url + "/schema.json\n",
			},
			where: "app/kustomization.yaml: openapi.path", ref: url + "/schema.json",
		},
		{
			name: "crds",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ncrds:\n  - " + url + "/crd.json\n",
			},
			where: "app/kustomization.yaml: crds[0]", ref: url + "/crd.json",
		},
		{
			name: "replacements path",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nreplacements:\n  - path: " + url + "/replacement.yaml\n",
			},
			where: "app/kustomization.yaml: replacements[0].path", ref: url + "/replacement.yaml",
		},
		{
			name: "resource URL in a base",
			files: map[string]string{
				"app/kustomization.yaml":  "resources: [cm.yaml, ../base]\n",
				"base/kustomization.yaml": "resources:\n  - " + url + "/manifests.yaml\n",
			},
			where: "base/kustomization.yaml: resources[0]", ref: url + "/manifests.yaml",
		},
		{
			name: "Git repository as a resource",
			files: map[string]string{
				"app/kustomization.yaml": "resources:\n  - cm.yaml\n  - " + gitURL + "//deploy?ref=main\n",
			},
			where: "app/kustomization.yaml: resources[1]", ref: gitURL,
		},
		{
			name: "Git repository as a component",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ncomponents:\n  - " + gitURL + "\n",
			},
			where: "app/kustomization.yaml: components[0]", ref: gitURL,
		},
		{
			name: "scp-style Git address as a base",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\nbases:\n  - git@127.0.0.1:org/repo.git\n",
			},
			where: "app/kustomization.yaml: bases[0]", ref: "git@127.0.0.1:org/repo.git",
		},
		{
			name: "Git repository as a generator folder",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ngenerators:\n  - " + gitURL + "//gen\n",
			},
			where: "app/kustomization.yaml: generators[0]", ref: gitURL,
		},
		{
			name: "Git address that also parses as YAML, under generators",
			files: map[string]string{
				"app/kustomization.yaml": "resources: [cm.yaml]\ngenerators:\n  - \"git@127.0.0.1:org/repo: x\"\n",
			},
			where: "app/kustomization.yaml: generators[0]", ref: "git@127.0.0.1:org/repo: x",
		},
		{
			name:  "Git repository as a Flux component",
			files: map[string]string{"app/kustomization.yaml": "resources: [cm.yaml]\n"},
			opts:  render.Options{Components: []string{gitURL}},
			where: "component", ref: gitURL,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.files["app/cm.yaml"] = cmResource
			root := writeTree(t, tt.files)
			tt.opts.Path = "./app"
			before := requests.Load()
			objs, err := render.Build(root, tt.opts)
			if n := requests.Load() - before; n != 0 {
				t.Errorf("the server received %d requests", n)
			}
			if err == nil {
				t.Fatalf("want an error, got %d objects", len(objs))
			}
			if !errors.Is(err, render.ErrNotLocal) {
				t.Errorf("error %q is not ErrNotLocal", err)
			}
			for _, s := range []string{`building Kustomization path "./app"`, tt.where, tt.ref} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}

// TestBuildReadsNothingOutsideTheClone reads files outside the clone by
// every path form kustomize accepts: each build fails, and the outside
// file's content appears nowhere.
func TestBuildReadsNothingOutsideTheClone(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.env")
	if err := os.WriteFile(secret, []byte("TOKEN=outside-the-clone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := filepath.Join(outside, "cm.yaml")
	if err := os.WriteFile(cm, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside-the-clone\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		kust  string
		extra map[string]string // more files in app/
		link  string            // a symbolic link app/<link> to the outside folder
	}{
		{name: "absolute generator file", kust: "configMapGenerator:\n  - name: c\n    envs: [" + secret + "]\n"},
		{name: "generator file through ..", kust: "configMapGenerator:\n  - name: c\n    envs: [../../" + filepath.Base(outside) + "/secret.env]\n"},
		{name: "generator file through a symbolic link", kust: "configMapGenerator:\n  - name: c\n    envs: [out/secret.env]\n", link: "out"},
		{name: "resource through a symbolic link", kust: "resources: [out/cm.yaml]\n", link: "out"},
		{name: "absolute resource", kust: "resources: [" + cm + "]\n"},
		{name: "base folder through a symbolic link", kust: "resources: [out]\n", link: "out"},
		{name: "generator config with an absolute file", kust: "generators: [gen.yaml]\n",
			extra: map[string]string{"gen.yaml": "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata:\n  name: g\nenvs: [" + secret + "]\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The clone is a folder next to outside, so that ".." reaches it.
			root := filepath.Join(filepath.Dir(outside), "clone-"+strings.ReplaceAll(tt.name, " ", "-"))
			files := map[string]string{"app/kustomization.yaml": tt.kust}
			for k, v := range tt.extra {
				files["app/"+k] = v
			}
			for name, content := range files {
				p := filepath.Join(root, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			if tt.link != "" {
				if err := os.Symlink(outside, filepath.Join(root, "app", tt.link)); err != nil {
					t.Fatal(err)
				}
			}
			objs, err := render.Build(root, render.Options{Path: "./app"})
			if err == nil {
				t.Fatalf("want an error, got %v", ids(objs))
			}
			if strings.Contains(err.Error(), "outside-the-clone") {
				t.Errorf("the error shows the outside file's content: %v", err)
			}
		})
	}
}

// TestBuildAllowsURLsAsValues: URLs that are values, not loads (an
// annotation set by an inline transformer, a resource's data), build.
func TestBuildAllowsURLsAsValues(t *testing.T) {
	url, requests := remoteServer(t)
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml": "resources: [cm.yaml]\ncommonAnnotations: {home: \"" + url + "/home\"}\ntransformers:\n  - |\n    apiVersion: builtin\n    kind: AnnotationsTransformer\n    metadata: {name: docs}\n    annotations: {docs: \"" + url + "/docs\"}\n    fieldSpecs: [{path: metadata/annotations, create: true}]\n",
		"app/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  url: " + url + "/data\n",
	})
	objs, err := render.Build(root, render.Options{Path: "./app"})
	if err != nil {
		t.Fatal(err)
	}
	cm := byID(objs, "ConfigMap//cm")
	for path, want := range map[string]string{"metadata.annotations.docs": url + "/docs", "metadata.annotations.home": url + "/home", "data.url": url + "/data"} {
		if got := lookup(cm, path); got != want {
			t.Errorf("%s = %v, want %s", path, got, want)
		}
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("the server received %d requests", n)
	}
}
