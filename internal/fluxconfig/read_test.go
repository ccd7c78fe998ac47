package fluxconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func fixture(t *testing.T) *Config {
	t.Helper()
	root := filepath.Join("..", "..", "examples", "task-tool-cluster-config")
	cfg, err := Read(os.DirFS(root), "./clusters/prod")
	if err != nil {
		t.Fatalf("reading the fixture: %v", err)
	}
	return cfg
}

func TestReadFixture(t *testing.T) {
	cfg := fixture(t)
	src := func(f string) Source { return Source{File: "clusters/prod/" + f, Doc: 1} }
	ref := Ref{Namespace: "flux-system", Name: "task-tool"}
	want := &Config{
		GitRepositories: []GitRepository{{
			Ref: ref, Source: src("task-tool-source.yaml"),
			URL: "ssh://git@github.com/mamezou-tech/task-tool-cluster-config", Branch: "main", SecretRef: "task-tool-ssh-key",
		}},
		Kustomizations: []Kustomization{{
			Ref: ref, Source: src("task-tool-kustomization.yaml"),
			SourceRef: CrossRef{Kind: "GitRepository", Ref: ref}, Path: "./app/overlays/prod", Prune: true, TargetNamespace: "prod",
		}},
		ImageRepositories: []ImageRepository{{
			Ref: Ref{Namespace: "flux-system", Name: "task-service"}, Source: src("task-service-registry.yaml"),
			Image: "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service",
		}},
		ImagePolicies: []ImagePolicy{{
			Ref: Ref{Namespace: "flux-system", Name: "task-service"}, Source: src("task-service-policy.yaml"),
			ImageRepositoryRef: Ref{Namespace: "flux-system", Name: "task-service"}, SemverRange: "1.1.x",
		}},
		ImageUpdateAutomations: []ImageUpdateAutomation{{
			Ref: ref, Source: src("task-tool-automation.yaml"),
			SourceRef: CrossRef{Kind: "GitRepository", Ref: ref}, CheckoutBranch: "main", PushBranch: "main",
			AuthorName: "fluxcdbot", AuthorEmail: "fluxcdbot@users.noreply.github.com",
			MessageTemplate: "{{range .Updated.Images}}{{println .}}{{end}}", UpdatePath: "./app/overlays/prod", Strategy: "Setters",
		}},
	}
	got := *cfg
	got.Notes = nil
	if diff := cmp.Diff(want, &got); diff != "" {
		t.Errorf("Read mismatch (-want +got):\n%s", diff)
	}
	// Every interval is obsolete by design, and said so at info; nothing else is noted.
	intervals := 0
	for _, n := range cfg.Notes {
		if n.Field == "spec.interval" && n.Severity == Info {
			intervals++
		}
		if n.Severity == Warning {
			t.Errorf("unexpected warning: %+v", n)
		}
	}
	if intervals != 4 { // the ImagePolicy has none
		t.Errorf("%d interval notes, want 4: %+v", intervals, cfg.Notes)
	}
}

func TestReadErrors(t *testing.T) {
	const ks = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps, namespace: flux-system}\n"
	tests := []struct {
		name    string
		files   map[string]string
		wantErr []string
	}{
		{name: "not yaml", files: map[string]string{"c/bad.yaml": "kind: [unclosed"}, wantErr: []string{"c/bad.yaml", "not valid YAML"}},
		{name: "missing prune and sourceRef", files: map[string]string{"c/ks.yaml": ks + "spec:\n  path: ./apps\n"},
			wantErr: []string{"c/ks.yaml (document 1)", "Kustomization/flux-system/apps", "spec.sourceRef.name is required", "spec.prune is required"}},
		{name: "wrong type", files: map[string]string{"c/ks.yaml": ks + "spec:\n  prune: yes-please\n  sourceRef: {kind: GitRepository, name: r}\n"},
			wantErr: []string{"spec.prune"}},
		{name: "second document", files: map[string]string{"c/all.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n" +
			"apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: r}\nspec: {interval: 1m}\n"},
			wantErr: []string{"c/all.yaml (document 2)", "GitRepository/default/r", "spec.url is required"}},
		{name: "unserved version", files: map[string]string{"c/p.yaml": "apiVersion: image.toolkit.fluxcd.io/v9\nkind: ImagePolicy\nmetadata: {name: p}\nspec: {}\n"},
			wantErr: []string{`apiVersion "image.toolkit.fluxcd.io/v9"`}},
		{name: "two policies", files: map[string]string{"c/p.yaml": "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata: {name: p}\n" +
			"spec: {imageRepositoryRef: {name: r}, policy: {semver: {range: 1.x}, numerical: {order: asc}}}\n"},
			wantErr: []string{"exactly one of semver, alphabetical, numerical"}},
		{name: "duplicate", files: map[string]string{
			"c/a.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}}\n",
			"c/b.yaml": ks + "spec: {prune: false, sourceRef: {kind: GitRepository, name: r}}\n"},
			wantErr: []string{"c/b.yaml", "also defined in c/a.yaml"}},
		{name: "ignore path not a pointer", files: map[string]string{"c/ks.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, ignore: [{paths: [spec.replicas]}]}\n"},
			wantErr: []string{"spec.ignore[0].paths[0]", "JSON pointer"}},
		{name: "substituteFrom of another kind or without a name", files: map[string]string{"c/ks.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, postBuild: {substituteFrom: [{kind: Deployment, name: d}, {kind: Secret}]}}\n"},
			wantErr: []string{`spec.postBuild.substituteFrom[0].kind "Deployment" must be ConfigMap or Secret`, "spec.postBuild.substituteFrom[1].name is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, body := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			_, err := Read(fsys, "c")
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestReadVersionsAndNotes(t *testing.T) {
	fsys := fstest.MapFS{
		"c/v1beta1.yaml": {Data: []byte(`apiVersion: kustomize.toolkit.fluxcd.io/v1beta1
kind: Kustomization
metadata: {name: old, namespace: flux-system}
spec:
  postBuild:
    substitute: {a: "1"}
    substituteFrom:
      - {kind: ConfigMap, name: vars}
      - {kind: Secret, name: secret-vars, optional: true}
  interval: 10m
  prune: false
  sourceRef: {kind: GitRepository, name: repo}
  validation: client
  serviceAccountName: deployer
  patchesStrategicMerge:
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec: {replicas: 2}
  patchesJson6902:
    - target: {kind: Service, name: web}
      patch:
        - {op: add, path: /metadata/labels/x, value: "y"}
`)},
		"c/helm.yaml": {Data: []byte("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: redis, namespace: apps}\nspec: {}\n")},
		"c/ns.yaml":   {Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n")},
		"c/README.md": {Data: []byte("kind: not yaml at all: [")},
	}
	cfg, err := Read(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Kustomizations) != 1 || len(cfg.Kustomizations[0].Patches) != 2 {
		t.Fatalf("patches not converted: %+v", cfg.Kustomizations)
	}
	wantFrom := []SubstituteRef{{Kind: "ConfigMap", Name: "vars"}, {Kind: "Secret", Name: "secret-vars", Optional: true}}
	if diff := cmp.Diff(wantFrom, cfg.Kustomizations[0].SubstituteFrom); diff != "" {
		t.Errorf("substituteFrom (-want +got):\n%s", diff)
	}
	p := cfg.Kustomizations[0].Patches
	if !strings.Contains(p[0].Patch, "replicas: 2") || p[0].Target != nil {
		t.Errorf("strategic merge patch = %+v", p[0])
	}
	if p[1].Target == nil || p[1].Target.Kind != "Service" || !strings.Contains(p[1].Patch, "op: add") {
		t.Errorf("JSON 6902 patch = %+v", p[1])
	}
	got := map[string]Severity{}
	for _, n := range cfg.Notes {
		got[n.Object+" "+n.Field] = n.Severity
	}
	want := map[string]Severity{
		"Kustomization/flux-system/old spec.interval":           Info,
		"Kustomization/flux-system/old spec.validation":         Info,
		"Kustomization/flux-system/old spec.serviceAccountName": Warning,
		"HelmRelease/apps/redis ":                               Warning,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestLevels(t *testing.T) {
	k := func(name string, deps ...string) Kustomization {
		out := Kustomization{Ref: Ref{Namespace: "ns", Name: name}}
		for _, d := range deps {
			out.DependsOn = append(out.DependsOn, Ref{Namespace: "ns", Name: d})
		}
		return out
	}
	names := func(levels [][]Kustomization) [][]string {
		var out [][]string
		for _, l := range levels {
			var ns []string
			for _, k := range l {
				ns = append(ns, k.Name)
			}
			out = append(out, ns)
		}
		return out
	}
	tests := []struct {
		name    string
		ks      []Kustomization
		want    [][]string
		wantErr string
	}{
		{name: "independent", ks: []Kustomization{k("b"), k("a")}, want: [][]string{{"a", "b"}}},
		{name: "chain and fan", ks: []Kustomization{k("apps", "infra", "crds"), k("infra", "crds"), k("crds"), k("other")},
			want: [][]string{{"crds", "other"}, {"infra"}, {"apps"}}},
		{name: "missing", ks: []Kustomization{k("apps", "infra")}, wantErr: "ns/apps depends on ns/infra, which is not defined"},
		{name: "cycle", ks: []Kustomization{k("a", "b"), k("b", "c"), k("c", "a"), k("d")}, wantErr: "cycle: ns/a → ns/b → ns/c → ns/a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Levels(tt.ks)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
		})
	}
}
