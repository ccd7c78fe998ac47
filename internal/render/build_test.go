package render_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

// appTree is a small repository: an app with a kustomization, a component,
// a folder of plain manifests without a kustomization, and an empty folder.
var appTree = map[string]string{
	"app/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - deployment.yaml
  - service.yaml
  - configmap.yaml
images:
  - name: web
    newName: registry.example.com/web
    newTag: "1.0"
`,
	"app/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: web
          envFrom:
            - configMapRef:
                name: web-config
        - name: sidecar
          image: busybox:1.0
`,
	"app/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
`,
	"app/configmap.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: hello ${name}
  TIER: ${tier:=backend}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: raw
  annotations:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  TEMPLATE: hello ${name}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: raw-label
  labels:
    kustomize.toolkit.fluxcd.io/substitute: disabled
data:
  TEMPLATE: hello ${name}
`,
	"components/extra/kustomization.yaml": `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - extra.yaml
labels:
  - pairs:
      extra: "yes"
`,
	"components/extra/extra.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: extra
data:
  FROM: component
`,
	"plain/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: plain
spec:
  selector:
    matchLabels:
      app: plain
  template:
    metadata:
      labels:
        app: plain
    spec:
      containers:
        - name: plain
          image: plain:1
`,
	"plain/nested/service.yml": `apiVersion: v1
kind: Service
metadata:
  name: plain
spec:
  ports:
    - port: 80
`,
	"plain/withkust/kustomization.yaml": `resources:
  - cm.yaml
`,
	"plain/withkust/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: from-sub
`,
	"plain/README.md":                 "not a manifest\n",
	"plain/.github/workflows/ci.yaml": "on: push\njobs: {}\n",
	"empty/.gitkeep":                  "",
}

func TestBuild(t *testing.T) {
	app := writeTree(t, appTree)
	const taskService = "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service"
	const webImage = "spec.template.spec.containers.0.image"
	tests := []struct {
		name   string
		root   string
		opts   render.Options
		want   []string
		fields []field
	}{
		{
			name: "fixture prod overlay",
			root: fixtureRoot,
			opts: render.Options{Path: "./app/overlays/prod", TargetNamespace: "prod"},
			want: fixtureProd,
			fields: []field{
				{"Deployment/prod/prod-task-service", webImage, taskService + ":1.0.0"},
				{"Deployment/prod/prod-task-service", "spec.template.spec.containers.0.envFrom.0.configMapRef.name", "prod-task-service-config-hb5m86c942"},
			},
		},
		{
			name: "images override merges with the overlay's entry",
			root: fixtureRoot,
			opts: render.Options{Path: "./app/overlays/prod", Images: []render.Image{{Name: "task-service", NewTag: "1.1.0"}}},
			want: fixtureProd,
			fields: []field{
				{"Deployment/prod/prod-task-service", webImage, taskService + ":1.1.0"},
				{"Deployment/prod/prod-task-web", webImage, "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-web:1.0.0"},
			},
		},
		{
			name: "image digest replaces the tag",
			root: fixtureRoot,
			opts: render.Options{Path: "./app/overlays/prod", Images: []render.Image{{Name: "task-service", Digest: "sha256:" + strings.Repeat("ab", 32)}}},
			want: fixtureProd,
			fields: []field{
				{"Deployment/prod/prod-task-service", webImage, taskService + "@sha256:" + strings.Repeat("ab", 32)},
			},
		},
		{
			name: "image the kustomization does not list is added",
			root: app,
			opts: render.Options{Path: "./app", Images: []render.Image{{Name: "busybox", NewTag: "1.36"}}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"Deployment//web", "spec.template.spec.containers.1.image", "busybox:1.36"},
				{"Deployment//web", webImage, "registry.example.com/web:1.0"},
			},
		},
		{
			name: "namePrefix replaces the overlay's and follows references",
			root: fixtureRoot,
			opts: render.Options{Path: "./app/overlays/prod", NamePrefix: "blue-"},
			want: replaceAll(fixtureProd, "/prod-", "/blue-"),
			fields: []field{
				{"Deployment/prod/blue-task-service", "spec.template.spec.containers.0.envFrom.0.configMapRef.name", "blue-task-service-config-hb5m86c942"},
			},
		},
		{
			name: "nameSuffix",
			root: app,
			opts: render.Options{Path: "./app", NameSuffix: "-v2"},
			want: []string{"ConfigMap//raw-label-v2", "ConfigMap//raw-v2", "ConfigMap//web-config-v2", "Service//web-v2", "Deployment//web-v2"},
			fields: []field{
				{"Deployment//web-v2", "spec.template.spec.containers.0.envFrom.0.configMapRef.name", "web-config-v2"},
			},
		},
		{
			name: "targetNamespace overrides the kustomization's namespace",
			root: fixtureRoot,
			opts: render.Options{Path: "./app/overlays/prod", TargetNamespace: "staging"},
			want: replaceAll(fixtureProd, "/prod/", "/staging/"),
		},
		{
			name: "strategic merge patch without a target",
			root: app,
			opts: render.Options{Path: "./app", Patches: []render.Patch{{
				Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n",
			}}},
			want:   []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{{"Deployment//web", "spec.replicas", int64(3)}},
		},
		{
			name: "strategic merge patch on every object a target selects",
			root: app,
			opts: render.Options{Path: "./app", Patches: []render.Patch{{
				Patch:  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    patched: \"yes\"\n",
				Target: &render.Selector{Version: "v1", Kind: "ConfigMap"},
			}}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//raw", "metadata.labels.patched", "yes"},
				{"ConfigMap//web-config", "metadata.labels.patched", "yes"},
				{"Service//web", "metadata.labels", "<missing>"},
			},
		},
		{
			name: "JSON 6902 patches with label and name selectors",
			root: app,
			opts: render.Options{Path: "./app", Patches: []render.Patch{
				{
					Patch:  `[{"op": "replace", "path": "/spec/replicas", "value": 5}]`,
					Target: &render.Selector{Group: "apps", Kind: "Deployment", LabelSelector: "app=web"},
				},
				{
					Patch:  "- op: add\n  path: /metadata/annotations\n  value:\n    patched: \"yes\"\n",
					Target: &render.Selector{Kind: "Service", Name: "we.*"},
				},
			}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"Deployment//web", "spec.replicas", int64(5)},
				{"Service//web", "metadata.annotations.patched", "yes"},
			},
		},
		{
			name: "components",
			root: app,
			opts: render.Options{Path: "./app", Components: []string{"../components/extra"}},
			want: []string{"ConfigMap//extra", "ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//extra", "data.FROM", "component"},
				{"Deployment//web", "metadata.labels.extra", "yes"},
			},
		},
		{
			name: "substitute with defaults and opt-outs",
			root: app,
			opts: render.Options{Path: "./app", Substitute: map[string]string{"name": "world\n"}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//web-config", "data.GREETING", "hello world"},
				{"ConfigMap//web-config", "data.TIER", "backend"},
				{"ConfigMap//raw", "data.TEMPLATE", "hello ${name}"},
				{"ConfigMap//raw-label", "data.TEMPLATE", "hello ${name}"},
			},
		},
		{
			name: "substitute overrides a default",
			root: app,
			opts: render.Options{Path: "./app", Substitute: map[string]string{"tier": "frontend"}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//web-config", "data.GREETING", "hello"}, // an unset variable is empty
				{"ConfigMap//web-config", "data.TIER", "frontend"},
			},
		},
		{
			name: "substituteFrom in order, substitute over them",
			root: app,
			opts: render.Options{Path: "./app",
				SubstituteFrom: []render.Variables{
					{Source: "ConfigMap a", Values: map[string]string{"name": "first", "tier": "first"}},
					{Source: "Secret b", Values: map[string]string{"tier": "sec\nond"}},
				},
				Substitute: map[string]string{"name": "override"}},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//web-config", "data.GREETING", "hello override"},
				{"ConfigMap//web-config", "data.TIER", "second"},
			},
		},
		{
			name: "no variables means no substitution, as in Flux",
			root: app,
			opts: render.Options{Path: "./app"},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"ConfigMap//web-config", "data.GREETING", "hello ${name}"},
				{"ConfigMap//web-config", "data.TIER", "${tier:=backend}"},
			},
		},
		{
			name: "commonMetadata wins over the objects' own",
			root: app,
			opts: render.Options{
				Path:              "./app",
				CommonLabels:      map[string]string{"team": "payments", "app": "shop"},
				CommonAnnotations: map[string]string{"owner": "payments@example.com"},
			},
			want: []string{"ConfigMap//raw", "ConfigMap//raw-label", "ConfigMap//web-config", "Service//web", "Deployment//web"},
			fields: []field{
				{"Deployment//web", "metadata.labels", map[string]any{"app": "shop", "team": "payments"}},
				{"Deployment//web", "spec.selector.matchLabels.app", "web"},
				{"Service//web", "metadata.annotations.owner", "payments@example.com"},
				{"ConfigMap//raw", "metadata.annotations", map[string]any{
					"kustomize.toolkit.fluxcd.io/substitute": "disabled", "owner": "payments@example.com",
				}},
			},
		},
		{
			name: "targetNamespace on a folder without kustomization.yaml",
			root: app,
			opts: render.Options{Path: "./plain", TargetNamespace: "apps"},
			want: []string{"ConfigMap/apps/from-sub", "Service/apps/plain", "Deployment/apps/plain"},
		},
		{
			name: "a path starting with / is relative to the root",
			root: app,
			opts: render.Options{Path: "/plain/withkust"},
			want: []string{"ConfigMap//from-sub"},
		},
		{
			name: "an empty folder yields no objects",
			root: app,
			opts: render.Options{Path: "./empty", TargetNamespace: "apps"},
			want: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render.Build(tt.root, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Errorf("objects (-want +got):\n%s", diff)
			}
			for _, f := range tt.fields {
				if diff := cmp.Diff(f.want, lookup(byID(got, f.id), f.path)); diff != "" {
					t.Errorf("%s %s (-want +got):\n%s", f.id, f.path, diff)
				}
			}
		})
	}
}

func replaceAll(list []string, old, new string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.Replace(s, old, new, 1)
	}
	return out
}

// TestBuildFixtureMatchesKubectl compares the fixture's prod overlay, object
// by object, with what kubectl kustomize printed for it (testdata/README.md).
func TestBuildFixtureMatchesKubectl(t *testing.T) {
	want := readObjects(t, "testdata/prod-overlay.kubectl.yaml")
	got, err := render.Build(fixtureRoot, render.Options{Path: "./app/overlays/prod"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("build differs from kubectl kustomize (-want +got):\n%s", diff)
	}
}

func readObjects(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objects []*unstructured.Unstructured
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return objects
		}
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &obj.Object); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, obj)
	}
}

func TestBuildErrors(t *testing.T) {
	outside := t.TempDir()
	root := writeTree(t, map[string]string{
		"app/kustomization.yaml":     "resources:\n  - cm.yaml\n",
		"app/cm.yaml":                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  KEY: ${value}\n",
		"badyaml/kustomization.yaml": "resources:\n  - bad.yaml\n",
		"badyaml/bad.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
		"badplain/bad.yaml":          "apiVersion: v1\nkind: ConfigMap\nmetadata: [oops\n",
		"badkust/kustomization.yaml": "resources: [oops\n",
		"remote/kustomization.yaml":  "resources:\n  - github.com/example/repo//deploy?ref=v1.0.0\n",
		"nested/kustomization.yaml":  "resources:\n  - ../url\n",
		"url/kustomization.yaml":     "resources:\n  - https://example.com/manifests.yaml\n",
		"escape/kustomization.yaml":  "resources:\n  - ../../outside.yaml\n",
		"noname/kustomization.yaml":  "resources:\n  - cm.yaml\n",
		"noname/cm.yaml":             "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels:\n    a: b\n",
	})
	if err := os.WriteFile(filepath.Join(filepath.Dir(root), "outside.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		opts     render.Options
		wantIs   error
		contains []string
	}{
		{name: "missing path", opts: render.Options{Path: "./nope"}, wantIs: render.ErrPathNotFound, contains: []string{`"./nope"`}},
		{name: "path climbing out of the root", opts: render.Options{Path: "../outside"}, wantIs: render.ErrPathEscapesRoot},
		{name: "path climbing out through a subfolder", opts: render.Options{Path: "./app/../../x"}, wantIs: render.ErrPathEscapesRoot},
		{name: "path escaping through a symbolic link", opts: render.Options{Path: "./link"}, wantIs: render.ErrPathEscapesRoot, contains: []string{"symbolic link"}},
		{name: "path is a file", opts: render.Options{Path: "./app/cm.yaml"}, contains: []string{"not a folder"}},
		{name: "bad YAML in a resource", opts: render.Options{Path: "./badyaml"}, contains: []string{`"./badyaml"`, "kustomize build failed", "bad.yaml"}},
		{name: "bad YAML in a folder without kustomization", opts: render.Options{Path: "./badplain"}, contains: []string{"badplain/bad.yaml is not Kubernetes YAML"}},
		{name: "bad kustomization file", opts: render.Options{Path: "./badkust"}, contains: []string{"parsing badkust/kustomization.yaml"}},
		{name: "remote base", opts: render.Options{Path: "./remote"}, wantIs: render.ErrNotLocal, contains: []string{"github.com/example/repo"}},
		{name: "URL in a nested kustomization", opts: render.Options{Path: "./nested"}, wantIs: render.ErrNotLocal, contains: []string{"url/kustomization.yaml: resources[0] refers to", "https://example.com/manifests.yaml"}},
		{name: "remote component", opts: render.Options{Path: "./app", Components: []string{"https://example.com/c"}}, wantIs: render.ErrNotLocal},
		{name: "absolute component", opts: render.Options{Path: "./app", Components: []string{"/etc"}}, wantIs: render.ErrNotLocal},
		{name: "resource outside the root", opts: render.Options{Path: "./escape"}, contains: []string{"kustomize build failed", "outside.yaml"}},
		{name: "object without a name", opts: render.Options{Path: "./noname"}, contains: []string{"kustomize build failed"}},
		{name: "invalid variable name", opts: render.Options{Path: "./app", Substitute: map[string]string{"1bad": "x", "ok": "y"}}, contains: []string{`substitute variable name "1bad" (from postBuild.substitute) is invalid`}},
		{name: "invalid variable name from a ConfigMap", opts: render.Options{Path: "./app", SubstituteFrom: []render.Variables{{Source: "ConfigMap prod/vars", Values: map[string]string{"my.key": "x"}}}}, contains: []string{`substitute variable name "my.key" (from ConfigMap prod/vars) is invalid`}},
		{name: "substitution that breaks the YAML", opts: render.Options{Path: "./app", Substitute: map[string]string{"value": "a: b: c"}}, contains: []string{"substituting variables in ConfigMap//cm"}},
		{name: "image without a name", opts: render.Options{Path: "./app", Images: []render.Image{{NewTag: "1"}}}, contains: []string{"image 0 has no name"}},
		{name: "empty patch", opts: render.Options{Path: "./app", Patches: []render.Patch{{Patch: " "}}}, contains: []string{"patch 0 is empty"}},
		{name: "patch whose target is missing", opts: render.Options{Path: "./app", Patches: []render.Patch{{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: nope\ndata:\n  a: b\n"}}}, contains: []string{"kustomize build failed", "nope"}},
		{name: "missing component", opts: render.Options{Path: "./app", Components: []string{"../nope"}}, contains: []string{"kustomize build failed", "nope"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render.Build(root, tt.opts)
			if err == nil {
				t.Fatalf("want an error, got %d objects", len(got))
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q is not %q", err, tt.wantIs)
			}
			path := tt.opts.Path
			for _, s := range append([]string{"building Kustomization path " + `"` + path + `"`}, tt.contains...) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not contain %q", err, s)
				}
			}
		})
	}
}

func TestBuildMissingRoot(t *testing.T) {
	_, err := render.Build(filepath.Join(t.TempDir(), "gone"), render.Options{Path: "./app"})
	if err == nil || !strings.Contains(err.Error(), "repository root") {
		t.Fatalf("want a repository root error, got %v", err)
	}
}

// TestBuildLeavesTreeUnchanged checks that no build writes into the tree
// (Flux's generator does, and would leak one Kustomization's options into
// the next build of the same folder).
func TestBuildLeavesTreeUnchanged(t *testing.T) {
	fixture := copyTree(t, fixtureRoot)
	app := writeTree(t, appTree)
	tests := []struct {
		name string
		root string
		opts render.Options
	}{
		{"overlay with every option", fixture, render.Options{
			Path: "./app/overlays/prod", TargetNamespace: "x", NamePrefix: "p-", NameSuffix: "-s",
			Images:     []render.Image{{Name: "task-service", NewTag: "9"}},
			Patches:    []render.Patch{{Patch: `[{"op": "add", "path": "/metadata/annotations", "value": {"x": "y"}}]`, Target: &render.Selector{Kind: "Service"}}},
			Substitute: map[string]string{"a": "b"}, CommonLabels: map[string]string{"c": "d"},
		}},
		{"folder without kustomization.yaml", app, render.Options{Path: "./plain", TargetNamespace: "x"}},
		{"component", app, render.Options{Path: "./app", Components: []string{"../components/extra"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := snapshot(t, tt.root)
			if _, err := render.Build(tt.root, tt.opts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(before, snapshot(t, tt.root)); diff != "" {
				t.Errorf("the tree changed (-before +after):\n%s", diff)
			}
			// A build without options sees the tree as it was.
			plain, err := render.Build(tt.root, render.Options{Path: tt.opts.Path})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range plain {
				if o.GetNamespace() == "x" {
					t.Errorf("%s kept the earlier build's targetNamespace", o.GetName())
				}
			}
		})
	}
}

// TestBuildConcurrent builds different Kustomizations of one tree at once
// (run with -race) and checks each result against the same build alone.
func TestBuildConcurrent(t *testing.T) {
	root := copyTree(t, fixtureRoot)
	for name, content := range appTree {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	builds := []render.Options{
		{Path: "./app/overlays/prod", TargetNamespace: "prod"},
		{Path: "./app/overlays/prod", NamePrefix: "blue-", Images: []render.Image{{Name: "task-service", NewTag: "1.1.0"}}},
		{Path: "./app/base", TargetNamespace: "base"},
		{Path: "./app", Substitute: map[string]string{"name": "world"}, CommonLabels: map[string]string{"a": "b"}},
		{Path: "./plain", TargetNamespace: "plain"},
		{Path: "./app", Components: []string{"../components/extra"}},
	}
	want := make([][]*unstructured.Unstructured, len(builds))
	for i, opts := range builds {
		var err error
		if want[i], err = render.Build(root, opts); err != nil {
			t.Fatal(err)
		}
	}
	const rounds = 4
	got := make([][]*unstructured.Unstructured, len(builds)*rounds)
	errs := make([]error, len(got))
	var wg sync.WaitGroup
	for i := range got {
		wg.Go(func() {
			got[i], errs[i] = render.Build(root, builds[i%len(builds)])
		})
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil {
			t.Errorf("build %d: %v", i, errs[i])
			continue
		}
		if diff := cmp.Diff(want[i%len(builds)], got[i]); diff != "" {
			t.Errorf("build %d (%s) differs when concurrent (-alone +concurrent):\n%s", i, builds[i%len(builds)].Path, diff)
		}
	}
}

// TestBuildOpenAPISchemaDoesNotLeak builds a kustomization that declares an
// OpenAPI schema (which kustomize keeps process-wide) between builds that do
// not: the schema gives Widget's items list a merge key, so a strategic
// merge patch merges items with it and replaces the list without it.
func TestBuildOpenAPISchemaDoesNotLeak(t *testing.T) {
	const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  items:\n    - id: a\n      value: \"1\"\n    - id: b\n      value: \"2\"\n"
	const patch = "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  items:\n    - id: a\n      value: \"9\"\n"
	const schema = `{"definitions": {"com.example.v1.Widget": {
  "type": "object",
  "properties": {
    "apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {"type": "object"},
    "spec": {"type": "object", "properties": {"items": {
      "type": "array",
      "items": {"type": "object", "properties": {"id": {"type": "string"}, "value": {"type": "string"}}},
      "x-kubernetes-patch-merge-key": "id",
      "x-kubernetes-patch-strategy": "merge"
    }}}
  },
  "x-kubernetes-group-version-kind": [{"group": "example.com", "kind": "Widget", "version": "v1"}]
}}}`
	root := writeTree(t, map[string]string{
		"schema/kustomization.yaml": "resources:\n  - widget.yaml\npatches:\n  - path: patch.yaml\nopenapi:\n  path: schema.json\n",
		"schema/schema.json":        schema,
		"schema/widget.yaml":        widget,
		"schema/patch.yaml":         patch,
		"plain/kustomization.yaml":  "resources:\n  - widget.yaml\npatches:\n  - path: patch.yaml\n",
		"plain/widget.yaml":         widget,
		"plain/patch.yaml":          patch,
		"nested/kustomization.yaml": "resources:\n  - ../schema\n",
	})
	merged := []any{map[string]any{"id": "a", "value": "9"}, map[string]any{"id": "b", "value": "2"}}
	replaced := []any{map[string]any{"id": "a", "value": "9"}}
	steps := []struct {
		path string
		want []any
	}{
		{"./plain", replaced},
		{"./schema", merged},
		{"./plain", replaced},
		{"./nested", merged},
		{"./plain", replaced},
	}
	for i, s := range steps {
		got, err := render.Build(root, render.Options{Path: s.path})
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(s.want, lookup(byID(got, "Widget//w"), "spec.items")); diff != "" {
			t.Errorf("step %d, %s: items (-want +got):\n%s", i, s.path, diff)
		}
	}
}

// TestBuildRecoversPanic feeds kustomize an object whose apiVersion, kind
// and name contain commas and colons, on which its name-reference tracking
// panics; the panic must come back as an error and leave the lock free.
func TestBuildRecoversPanic(t *testing.T) {
	root := writeTree(t, map[string]string{
		"odd/kustomization.yaml": "namespace: test\nnamePrefix: test\nresources:\n  - odd.yaml\n",
		"odd/odd.yaml":           "apiVersion: ENC[a,b:c]\nkind: ENC[a,b:c]\nmetadata:\n  name: ENC[a,b:c]\n  namespace: ENC[a,b:c]\n",
	})
	for i := range 2 {
		_, err := render.Build(root, render.Options{Path: "./odd"})
		if err == nil || !strings.Contains(err.Error(), `building Kustomization path "./odd": kustomize build panicked`) {
			t.Fatalf("build %d: want a recovered panic, got %v", i, err)
		}
	}
	if _, err := render.Build(fixtureRoot, render.Options{Path: "./app/overlays/prod"}); err != nil {
		t.Fatalf("a build after the panic: %v", err)
	}
}

// TestBuildGeneratedOverlay checks the overlay rendertest generates for the
// benchmarks: its size, kinds, and the references the overlay rewrites.
func TestBuildGeneratedOverlay(t *testing.T) {
	dir := t.TempDir()
	if err := rendertest.GenerateOverlay(dir, 1000); err != nil {
		t.Fatal(err)
	}
	objects, err := render.Build(dir, render.Options{Path: rendertest.OverlayPath, TargetNamespace: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, o := range objects {
		kinds[o.GetKind()]++
	}
	if diff := cmp.Diff(map[string]int{"ConfigMap": 334, "Deployment": 333, "Service": 333}, kinds); diff != "" {
		t.Errorf("kinds (-want +got):\n%s", diff)
	}
	for _, f := range []field{
		{"Deployment/bench/bench-app-1", "spec.template.spec.containers.0.image", rendertest.Image},
		{"Deployment/bench/bench-app-1", "spec.template.spec.containers.0.envFrom.0.configMapRef.name", "bench-config-0"},
		{"Deployment/bench/bench-app-1", "spec.replicas", int64(1)},
		{"Deployment/bench/bench-app-1", "metadata.labels.bench", "true"},
		{"Service/bench/bench-app-998", "spec.selector.app", "app-997"},
		{"Service/bench/bench-app-998", "metadata.annotations", map[string]any{"bench.example.com/generated": "true"}},
		{"ConfigMap/bench/bench-config-999", "data.INDEX", "999"},
	} {
		if diff := cmp.Diff(f.want, lookup(byID(objects, f.id), f.path)); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", f.id, f.path, diff)
		}
	}
}
