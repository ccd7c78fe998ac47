package fluxconfig

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
			SourceRef: CrossRef{Kind: "GitRepository", Ref: ref}, Path: "./app/overlays/prod", Prune: true, TargetNamespace: "prod", DeletionPolicy: DeletionPolicyMirrorPrune,
			Interval: 5 * time.Minute,
		}},
		ImageRepositories: []ImageRepository{{
			Ref: Ref{Namespace: "flux-system", Name: "task-service"}, Source: src("task-service-registry.yaml"),
			Image: "111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service",
		}},
		ImagePolicies: []ImagePolicy{{
			Ref: Ref{Namespace: "flux-system", Name: "task-service"}, Source: src("task-service-policy.yaml"),
			ImageRepositoryRef: Ref{Namespace: "flux-system", Name: "task-service"}, SemverRange: "1.1.x", DigestReflection: ReflectNever,
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
		{name: "digest reflection policy", files: map[string]string{"c/p.yaml": "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: p}\n" +
			"spec: {imageRepositoryRef: {name: r}, policy: {semver: {range: 1.x}}, digestReflectionPolicy: Sometimes}\n"},
			wantErr: []string{"c/p.yaml", "ImagePolicy/default/p", `spec.digestReflectionPolicy "Sometimes" is not one of Never, IfNotPresent, Always`}},
		{name: "policy selector", files: map[string]string{"c/a.yaml": "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: {name: a}\n" +
			"spec: {sourceRef: {name: r}, git: {commit: {author: {email: a@b}}}, policySelector: {matchExpressions: [{key: app, operator: Near}]}}\n"},
			wantErr: []string{"ImageUpdateAutomation/default/a", "spec.policySelector", `"Near" is not a valid label selector operator`}},
		{name: "signing key type", files: map[string]string{"c/a.yaml": "apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImageUpdateAutomation\nmetadata: {name: a}\n" +
			"spec: {sourceRef: {name: r}, git: {commit: {author: {email: a@b}, signingKey: {secretRef: {name: k}, type: x509}}}}\n"},
			wantErr: []string{"ImageUpdateAutomation/default/a", `spec.git.commit.signingKey.type "x509" is not gpg or ssh`}},
		{name: "ignore path not a pointer", files: map[string]string{"c/ks.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, ignore: [{paths: [spec.replicas]}]}\n"},
			wantErr: []string{"spec.ignore[0].paths[0]", "JSON pointer"}},
		{name: "unknown deletion policy", files: map[string]string{"c/ks.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, deletionPolicy: Keep}\n"},
			wantErr: []string{"c/ks.yaml", `spec.deletionPolicy "Keep" is not one of MirrorPrune, Delete, WaitForTermination, Orphan`}},
		{name: "substituteFrom of another kind or without a name", files: map[string]string{"c/ks.yaml": ks + "spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, postBuild: {substituteFrom: [{kind: Deployment, name: d}, {kind: Secret}]}}\n"},
			wantErr: []string{`spec.postBuild.substituteFrom[0].kind "Deployment" must be ConfigMap or Secret`, "spec.postBuild.substituteFrom[1].name is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, body := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(body)}
			}
			cfg, err := Read(fsys, "c")
			if err == nil {
				// An invalid Kustomization or GitRepository fails alone.
				var refusals []string
				for _, k := range cfg.Kustomizations {
					refusals = append(refusals, k.Refusals...)
				}
				for _, g := range cfg.GitRepositories {
					refusals = append(refusals, g.Refusals...)
				}
				for _, err := range cfg.ImageErrors {
					refusals = append(refusals, err.Error())
				}
				if len(refusals) == 0 {
					t.Fatal("no error and no refusal")
				}
				err = errors.New(strings.Join(refusals, "; "))
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
		"Kustomization/flux-system/old spec.interval":   Info,
		"Kustomization/flux-system/old spec.validation": Info,
		"HelmRelease/apps/redis ":                       Warning,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	// Impersonation changes what may be applied: refused, never warned about.
	if r := cfg.Kustomizations[0].Refusals; len(r) != 1 || !strings.Contains(r[0], "c/v1beta1.yaml: spec.serviceAccountName: Sluice applies with its own IAM identity") {
		t.Errorf("refusals = %q", r)
	}
}

// TestReadImageFields covers the image kinds' fields beyond the fixture's:
// each reaches the model, and none is noted as unknown or unsupported.
func TestReadImageFields(t *testing.T) {
	fsys := fstest.MapFS{"c/images.yaml": {Data: []byte(`apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageRepository
metadata: {name: app, namespace: images}
spec:
  image: 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/app
  accessFrom:
    namespaceSelectors:
      - matchLabels: {kubernetes.io/metadata.name: apps}
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImagePolicy
metadata: {name: app, namespace: apps, labels: {team: a}}
spec:
  imageRepositoryRef: {name: app, namespace: images}
  policy: {semver: {range: 1.x}}
  digestReflectionPolicy: IfNotPresent
  suspend: true
  interval: 5m
---
apiVersion: image.toolkit.fluxcd.io/v1
kind: ImageUpdateAutomation
metadata: {name: auto, namespace: apps}
spec:
  sourceRef: {kind: GitRepository, name: config}
  policySelector: {matchLabels: {team: a}}
  git:
    commit:
      author: {email: bot@example.com}
      messageTemplate: '{{ .Values.env }}'
      messageTemplateValues: {env: prod}
      signingKey: {secretRef: {name: gpg}}
    push: {branch: auto, refspec: "refs/heads/auto:refs/heads/auto-copy", options: {ci.skip: ""}}
`)}}
	cfg, err := Read(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.ImageRepositories[0].AccessFrom; !cmp.Equal(got, []map[string]string{{"kubernetes.io/metadata.name": "apps"}}) {
		t.Errorf("accessFrom = %v", got)
	}
	p := cfg.ImagePolicies[0]
	if p.DigestReflection != ReflectIfNotPresent || !p.Suspend || p.Labels["team"] != "a" {
		t.Errorf("policy = %+v", p)
	}
	a := cfg.ImageUpdateAutomations[0]
	want := ImageUpdateAutomation{
		Ref: Ref{Namespace: "apps", Name: "auto"}, Source: a.Source, SourceRef: CrossRef{Kind: "GitRepository", Ref: Ref{Namespace: "apps", Name: "config"}},
		PushBranch: "auto", AuthorEmail: "bot@example.com", MessageTemplate: "{{ .Values.env }}",
		MessageTemplateValues: map[string]string{"env": "prod"}, SigningKey: &SigningKey{SecretRef: "gpg", Type: "gpg"},
		PushRefspec: "refs/heads/auto:refs/heads/auto-copy", PushOptions: map[string]string{"ci.skip": ""},
		PolicySelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "a"}},
		UpdatePath:     ".", Strategy: "Setters",
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("automation (-want +got):\n%s", diff)
	}
	for _, n := range cfg.Notes {
		if n.Severity == Warning {
			t.Errorf("unexpected warning: %+v", n)
		}
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
		name        string
		ks          []Kustomization
		want        [][]string
		wantBlocked map[string]string
	}{
		{name: "independent", ks: []Kustomization{k("b"), k("a")}, want: [][]string{{"a", "b"}}},
		{name: "chain and fan", ks: []Kustomization{k("apps", "infra", "crds"), k("infra", "crds"), k("crds"), k("other")},
			want: [][]string{{"crds", "other"}, {"infra"}, {"apps"}}},
		{name: "missing blocks only its dependents", ks: []Kustomization{k("apps", "infra"), k("web", "apps"), k("other"), k("late", "other")},
			want: [][]string{{"other"}, {"late"}},
			wantBlocked: map[string]string{
				"apps": "dependency ns/infra is not defined",
				"web":  "dependency ns/apps is blocked (dependency ns/infra is not defined)",
			}},
		{name: "cycle", ks: []Kustomization{k("a", "b"), k("b", "c"), k("c", "a"), k("d")},
			want: [][]string{{"d"}},
			wantBlocked: map[string]string{
				"a": "dependencies form a cycle: ns/a → ns/b → ns/c → ns/a",
				"b": "dependencies form a cycle: ns/a → ns/b → ns/c → ns/a",
				"c": "dependencies form a cycle: ns/a → ns/b → ns/c → ns/a",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, blocked := Levels(tt.ks)
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("levels (-want +got):\n%s", diff)
			}
			gotBlocked := map[string]string{}
			for r, why := range blocked {
				gotBlocked[r.Name] = why
			}
			if diff := cmp.Diff(tt.wantBlocked, gotBlocked, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("blocked (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWaitTimeout: the default timeout is Flux's GetTimeout.
func TestWaitTimeout(t *testing.T) {
	tests := []struct {
		name              string
		timeout, interval time.Duration
		want              time.Duration
	}{
		{name: "timeout set", timeout: 3 * time.Minute, interval: 10 * time.Minute, want: 3 * time.Minute},
		{name: "interval less 30s", interval: 10 * time.Minute, want: 9*time.Minute + 30*time.Second},
		{name: "short interval: 30s", interval: 45 * time.Second, want: 30 * time.Second},
		{name: "short timeout: 30s", timeout: 5 * time.Second, interval: 10 * time.Minute, want: 30 * time.Second},
		{name: "neither", want: 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (Kustomization{Timeout: tt.timeout, Interval: tt.interval}).WaitTimeout(); got != tt.want {
				t.Errorf("WaitTimeout = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestHealthCheckAPIVersionDefault: a check without apiVersion names an
// apps/v1 object, as in Flux (a Deployment, not a core object).
func TestHealthCheckAPIVersionDefault(t *testing.T) {
	fsys := fstest.MapFS{"c/k.yaml": {Data: []byte(`apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  prune: true
  sourceRef: {kind: GitRepository, name: repo}
  healthChecks:
    - {kind: Deployment, name: web, namespace: apps}
    - {apiVersion: v1, kind: Service, name: web, namespace: apps}
`)}}
	cfg, err := Read(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectRef{
		{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", Namespace: "apps"},
		{APIVersion: "v1", Kind: "Service", Name: "web", Namespace: "apps"},
	}
	if diff := cmp.Diff(want, cfg.Kustomizations[0].HealthChecks); diff != "" {
		t.Errorf("health checks (-want +got):\n%s", diff)
	}
}

// One Kustomization or GitRepository that Sluice cannot read is refused
// alone: the read goes on, the others are intact, and the invalid one stays
// defined (a Kustomization that left Git would have its objects pruned).
func TestInvalidObjectsFailAlone(t *testing.T) {
	fsys := fstest.MapFS{
		"c/good.yaml": {Data: []byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: good, namespace: flux-system}\n" +
			"spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, path: ./good}\n")},
		"c/typo.yaml": {Data: []byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: typo, namespace: flux-system}\n" +
			"spec: {prune: yes-please, sourceRef: {kind: GitRepository, name: r}}\n")},
		"c/future.yaml": {Data: []byte("apiVersion: kustomize.toolkit.fluxcd.io/v2\nkind: Kustomization\nmetadata: {name: future, namespace: flux-system}\nspec: {}\n")},
		"c/src.yaml":    {Data: []byte("apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata: {name: r, namespace: flux-system}\nspec: {interval: 1m}\n")},
		"c/policy.yaml": {Data: []byte("apiVersion: image.toolkit.fluxcd.io/v1\nkind: ImagePolicy\nmetadata: {name: p, namespace: flux-system}\nspec: {imageRepositoryRef: {name: r}}\n")},
	}
	cfg, err := Read(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, k := range cfg.Kustomizations {
		got[k.Name] = strings.Join(k.Refusals, "; ")
	}
	if got["good"] != "" || cfg.Kustomizations[1].Path != "./good" {
		t.Errorf("the valid Kustomization = %+v", cfg.Kustomizations)
	}
	if !strings.Contains(got["typo"], "c/typo.yaml (document 1): Kustomization/flux-system/typo") || !strings.Contains(got["typo"], "spec.prune") {
		t.Errorf("typo refused with %q", got["typo"])
	}
	if !strings.Contains(got["future"], `apiVersion "kustomize.toolkit.fluxcd.io/v2"`) {
		t.Errorf("future refused with %q", got["future"])
	}
	if len(cfg.GitRepositories) != 1 || !strings.Contains(strings.Join(cfg.GitRepositories[0].Refusals, ""), "spec.url is required") {
		t.Errorf("GitRepository = %+v", cfg.GitRepositories)
	}
	// An image object is no reason to stop applying: image automation
	// fails on it instead.
	if len(cfg.ImagePolicies) != 0 || len(cfg.ImageErrors) != 1 || !strings.Contains(cfg.ImageErrors[0].Error(), "c/policy.yaml (document 1): ImagePolicy/flux-system/p") {
		t.Errorf("image errors = %v, policies = %+v", cfg.ImageErrors, cfg.ImagePolicies)
	}
}

// spec.decryption is read as Flux serves it; a provider other than sops,
// or a secretRef without a name, refuses the Kustomization alone.
func TestReadDecryption(t *testing.T) {
	tests := []struct {
		name, decryption string
		want             *Decryption
		refusal          string
	}{
		{name: "age and KMS", decryption: "{provider: sops, secretRef: {name: sops-age}}", want: &Decryption{Provider: "sops", SecretRef: "sops-age"}},
		{name: "KMS only", decryption: "{provider: sops}", want: &Decryption{Provider: "sops"}},
		{name: "other provider", decryption: "{provider: vault}", want: &Decryption{Provider: "vault"}, refusal: `spec.decryption.provider "vault" is not "sops"`},
		{name: "nameless secretRef", decryption: "{provider: sops, secretRef: {}}", want: &Decryption{Provider: "sops"}, refusal: "spec.decryption.secretRef.name is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"c/k.yaml": {Data: []byte("apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: k, namespace: apps}\n" +
				"spec: {prune: true, sourceRef: {kind: GitRepository, name: r}, decryption: " + tt.decryption + "}\n")}}
			cfg, err := Read(fsys, "c")
			if err != nil || len(cfg.Kustomizations) != 1 {
				t.Fatalf("Read = %+v, %v", cfg, err)
			}
			k := cfg.Kustomizations[0]
			refusals := strings.Join(k.Refusals, "; ")
			if tt.refusal == "" && refusals != "" || !strings.Contains(refusals, tt.refusal) {
				t.Errorf("refusals = %q, want %q", refusals, tt.refusal)
			}
			if tt.refusal == "" {
				if diff := cmp.Diff(tt.want, k.Decryption); diff != "" {
					t.Errorf("decryption (-want +got):\n%s", diff)
				}
			}
		})
	}
}
