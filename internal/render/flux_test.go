package render_test

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	fluxkustomize "github.com/fluxcd/pkg/kustomize"
	ssautil "github.com/fluxcd/pkg/ssa/utils"
	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/render"
)

// TestBuildMatchesFlux builds each case with render and with Flux's own
// code, as kustomize-controller runs it (fluxcd/pkg/kustomize's generator
// writing into a copy of the tree, SecureBuild, SubstituteVariables without
// a cluster, then fluxcd/pkg/ssa's SetCommonMetadata), and compares the
// objects. Flux does not sort its build output; both are compared sorted.
// Flux's generator is linked only into this test: it imports
// controller-runtime and client-go, which render, a pure package, must not.
func TestBuildMatchesFlux(t *testing.T) {
	tree := map[string]string{}
	for name, content := range appTree {
		// Left out of Flux's artifact by source-controller, not by its
		// generator: render skips it itself (see TestBuild).
		if !strings.Contains(name, ".github/") {
			tree[name] = content
		}
	}
	// A kustomization without resources, which Flux's generator gives
	// buildMetadata: [originAnnotations].
	tree["genonly/kustomization.yaml"] = "configMapGenerator:\n  - name: gen\n    literals:\n      - A=b\n"
	app := writeTree(t, tree)
	tests := []struct {
		name string
		root string
		opts render.Options
	}{
		{"fixture prod overlay", fixtureRoot, render.Options{Path: "./app/overlays/prod", TargetNamespace: "prod"}},
		{"fixture base", fixtureRoot, render.Options{Path: "./app/base"}},
		{"images merge", fixtureRoot, render.Options{Path: "./app/overlays/prod", Images: []render.Image{
			{Name: "task-service", NewTag: "1.1.0"},
			{Name: "task-web", NewName: "registry.example.com/web"},
			{Name: "task-reporter", Digest: "sha256:" + strings.Repeat("cd", 32)},
			{Name: "unused", NewTag: "2"},
		}}},
		{"name prefix and suffix", fixtureRoot, render.Options{Path: "./app/overlays/prod", NamePrefix: "blue-", NameSuffix: "-x"}},
		{"target namespace", fixtureRoot, render.Options{Path: "./app/overlays/prod", TargetNamespace: "staging"}},
		{"patches", app, render.Options{Path: "./app", Patches: []render.Patch{
			{Patch: "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 3\n"},
			{Patch: `[{"op": "replace", "path": "/spec/replicas", "value": 5}]`, Target: &render.Selector{Group: "apps", Kind: "Deployment", LabelSelector: "app=web"}},
			{Patch: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: any\n  labels:\n    patched: \"yes\"\n", Target: &render.Selector{Kind: "ConfigMap", Name: "raw.*"}},
			{Patch: "- op: add\n  path: /metadata/annotations\n  value:\n    a: b\n", Target: &render.Selector{Version: "v1", Kind: "Service", AnnotationSelector: "!nope"}},
		}}},
		{"components", app, render.Options{Path: "./app", Components: []string{"../components/extra"}}},
		{"substitute", app, render.Options{Path: "./app", Substitute: map[string]string{"name": "world\n", "tier": "front"}}},
		{"substitute with defaults only", app, render.Options{Path: "./app", Substitute: map[string]string{"unused": "x"}}},
		{"common metadata", app, render.Options{Path: "./app", CommonLabels: map[string]string{"app": "shop", "t": "p"}, CommonAnnotations: map[string]string{"o": "p"}}},
		{"folder without kustomization.yaml", app, render.Options{Path: "./plain", TargetNamespace: "apps"}},
		{"kustomization without resources", app, render.Options{Path: "./genonly", Components: []string{"../components/extra"}}},
		{"empty folder", app, render.Options{Path: "./empty", TargetNamespace: "apps"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := render.Build(tt.root, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			want := fluxBuild(t, tt.root, tt.opts)
			if diff := cmp.Diff(sortedByID(want), sortedByID(got)); diff != "" {
				t.Errorf("render differs from Flux (-flux +render):\n%s", diff)
			}
		})
	}
}

// fluxBuild builds opts as kustomize-controller does, on a copy of root.
func fluxBuild(t *testing.T, root string, opts render.Options) []*unstructured.Unstructured {
	t.Helper()
	work := copyTree(t, root)
	dir := filepath.Join(work, filepath.FromSlash(opts.Path))
	ks := fluxKustomization(opts)
	if _, err := fluxkustomize.NewGenerator(work, ks).WriteFile(dir); err != nil {
		t.Fatalf("flux generator: %v", err)
	}
	m, err := fluxkustomize.SecureBuild(work, dir, false)
	if err != nil {
		t.Fatalf("flux build: %v", err)
	}
	var objects []*unstructured.Unstructured
	for _, res := range m.Resources() {
		if opts.Substitute != nil {
			if _, err := fluxkustomize.SubstituteVariables(context.Background(), nil, ks, res,
				fluxkustomize.SubstituteWithDryRun(true)); err != nil {
				t.Fatalf("flux substitute: %v", err)
			}
		}
		data, err := res.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON(data); err != nil {
			t.Fatal(err)
		}
		objects = append(objects, obj)
	}
	if opts.CommonLabels != nil || opts.CommonAnnotations != nil {
		ssautil.SetCommonMetadata(objects, opts.CommonLabels, opts.CommonAnnotations)
	}
	return objects
}

// fluxKustomization is the Flux Kustomization object that opts describe.
func fluxKustomization(opts render.Options) unstructured.Unstructured {
	spec := map[string]any{"path": opts.Path}
	setString := func(key, value string) {
		if value != "" {
			spec[key] = value
		}
	}
	setString("targetNamespace", opts.TargetNamespace)
	setString("namePrefix", opts.NamePrefix)
	setString("nameSuffix", opts.NameSuffix)
	if len(opts.Images) > 0 {
		var images []any
		for _, img := range opts.Images {
			images = append(images, map[string]any{"name": img.Name, "newName": img.NewName, "newTag": img.NewTag, "digest": img.Digest})
		}
		spec["images"] = images
	}
	if len(opts.Patches) > 0 {
		var patches []any
		for _, p := range opts.Patches {
			patch := map[string]any{"patch": p.Patch}
			if s := p.Target; s != nil {
				patch["target"] = map[string]any{
					"group": s.Group, "version": s.Version, "kind": s.Kind, "name": s.Name, "namespace": s.Namespace,
					"labelSelector": s.LabelSelector, "annotationSelector": s.AnnotationSelector,
				}
			}
			patches = append(patches, patch)
		}
		spec["patches"] = patches
	}
	if len(opts.Components) > 0 {
		var components []any
		for _, c := range opts.Components {
			components = append(components, c)
		}
		spec["components"] = components
	}
	if opts.Substitute != nil {
		substitute := map[string]any{}
		for k, v := range opts.Substitute {
			substitute[k] = v
		}
		spec["postBuild"] = map[string]any{"substitute": substitute}
	}
	return unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kustomize.toolkit.fluxcd.io/v1",
		"kind":       "Kustomization",
		"metadata":   map[string]any{"name": "test", "namespace": "flux-system"},
		"spec":       spec,
	}}
}

func sortedByID(objects []*unstructured.Unstructured) []*unstructured.Unstructured {
	out := append([]*unstructured.Unstructured(nil), objects...)
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].GroupVersionKind().String()+"/"+out[i].GetNamespace()+"/"+out[i].GetName() <
			out[j].GroupVersionKind().String()+"/"+out[j].GetNamespace()+"/"+out[j].GetName()
	})
	return out
}
