package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/gittest"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/render/rendertest"
)

// input is one of the two things applied: the fixture or the generated overlay.
type input struct {
	name string
	// root is the kustomize tree and path the Kustomization builds in it.
	root, path string
	// configPath holds the Flux objects in the seeded config repository.
	configPath string
	// seed edits a copy of root into a config repository whose one
	// Kustomization, named ns, applies path into namespace ns.
	seed func(dir, url, ns string) error
	// objects is how many objects path renders to.
	objects int
}

func (b *bench) fixture() input {
	return input{
		name: "fixture", root: filepath.Join(b.root, "examples", "task-tool-cluster-config"),
		path: "./app/overlays/prod", configPath: "clusters/prod", objects: 9,
		seed: func(dir, url, ns string) error {
			k := "clusters/prod/task-tool-kustomization.yaml"
			return errors.Join(gittest.SetGitRepositoryURL(dir, "clusters/prod", url),
				replaceIn(dir, k, "targetNamespace: prod", "targetNamespace: "+ns),
				replaceIn(dir, k, "name: task-tool\n  namespace", "name: "+ns+"\n  namespace"))
		},
	}
}

// generated is rendertest's overlay of n objects, generated on first use.
func (b *bench) generated(n int) (input, error) {
	root, ok := b.overlays[n]
	if !ok {
		root = filepath.Join(b.work, fmt.Sprintf("generated-%d", n))
		if err := rendertest.GenerateOverlay(root, n); err != nil {
			return input{}, err
		}
		b.overlays[n] = root
	}
	return input{
		name: "generated", root: root, path: rendertest.OverlayPath, configPath: "clusters/bench", objects: n,
		seed: func(dir, url, ns string) error {
			return writeFile(filepath.Join(dir, "clusters", "bench", "flux.yaml"), fmt.Sprintf(fluxObjects, url, ns, rendertest.OverlayPath))
		},
	}, nil
}

// fluxObjects are the config folder of the generated overlay's repository:
// the source and one Kustomization, as a Flux user would write them.
const fluxObjects = `apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata:
  name: bench
  namespace: flux-system
spec:
  interval: 1m0s
  ref:
    branch: main
  url: %[1]s
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[2]s
  namespace: flux-system
spec:
  interval: 10m0s
  path: %[3]s
  prune: true
  sourceRef:
    kind: GitRepository
    name: bench
  targetNamespace: %[2]s
`

func replaceIn(dir, rel, old, new string) error {
	p := filepath.Join(dir, rel)
	data, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if !strings.Contains(string(data), old) {
		return fmt.Errorf("%s does not contain %q", rel, old)
	}
	return os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644)
}

// configRepo is a config repository on the bench's Git server whose one
// Kustomization applies an input into its own namespace.
type configRepo struct {
	url   string
	ns    string
	repo  desired.Repository
	git   *gitrepo.Repo
	owner kube.Owner
}

// seedRepo creates a fresh namespace and a config repository that applies in
// into it.
func (b *bench) seedRepo(ctx context.Context, in input, what string) (*configRepo, error) {
	ns, err := b.namespace(ctx, what)
	if err != nil {
		return nil, err
	}
	return b.newRepo(in, ns)
}

// newRepo creates a config repository named after ns whose Kustomization
// applies in into ns. Its path has GitHub's owner/name form, so the reconcile
// binary's commit statuses reach the statuses stand-in.
func (b *bench) newRepo(in input, ns string) (*configRepo, error) {
	name := "bench/" + ns + ".git"
	url := b.git.URL(name)
	if _, err := b.git.Seed(name, branch, in.root, func(dir string) error { return in.seed(dir, url, ns) }); err != nil {
		return nil, fmt.Errorf("seeding %s: %w", name, err)
	}
	git, err := gitrepo.New(url, gitrepo.Credentials{Password: gitToken})
	if err != nil {
		return nil, err
	}
	return &configRepo{url: url, ns: ns, git: git,
		repo:  desired.Repository{URL: url, Branch: branch, ConfigPath: in.configPath},
		owner: desired.Owner(desired.Repository{URL: url, Branch: branch, ConfigPath: in.configPath}, fluxconfig.Ref{Namespace: "flux-system", Name: ns})}, nil
}

// rendered is an input rendered for one namespace, both ways: Sluice's
// objects (labelled for its ApplySet, as the reconcile function labels them)
// and kubectl's kustomization and built YAML.
type rendered struct {
	ns        string
	owner     kube.Owner
	objects   []*unstructured.Unstructured
	kustomize string // folder for kubectl -k
	yaml      string // file for kubectl -f
}

// renderFor creates a fresh namespace and renders in into it, for Sluice's
// apply and for kubectl: a kustomization that sets the namespace on top of
// the input's path, as Flux's targetNamespace does, and its build.
func (b *bench) renderFor(ctx context.Context, in input, what string) (*rendered, error) {
	ns, err := b.namespace(ctx, what)
	if err != nil {
		return nil, err
	}
	// The apply-only rows have no config repository: a bench installation.
	r := &rendered{ns: ns, owner: kube.Owner{Installation: "bench", Namespace: "flux-system", Name: ns}}
	d, err := timed(func() (err error) {
		r.objects, err = render.Build(in.root, render.Options{Path: in.path, TargetNamespace: ns})
		return err
	})
	if err != nil {
		return nil, err
	}
	if b.renders[in.objects] == nil {
		b.renders[in.objects] = &result{}
	}
	b.renders[in.objects].add(d)
	if len(r.objects) != in.objects {
		return nil, fmt.Errorf("%s renders %d objects, want %d", in.name, len(r.objects), in.objects)
	}
	kube.SetOwner(r.objects, r.owner)
	r.kustomize = filepath.Join(b.work, "kubectl", ns)
	rel, err := filepath.Rel(r.kustomize, filepath.Join(in.root, in.path))
	if err != nil {
		return nil, err
	}
	k := fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: %s\nresources:\n  - %s\n", ns, filepath.ToSlash(rel))
	if err := writeFile(filepath.Join(r.kustomize, "kustomization.yaml"), k); err != nil {
		return nil, err
	}
	p, err := b.kubectlRun(ctx, "kustomize", r.kustomize)
	if err != nil || p.code != 0 {
		return nil, fmt.Errorf("kubectl kustomize %s: %v %s", r.kustomize, err, p.tail())
	}
	r.yaml = filepath.Join(b.work, "kubectl", ns+".yaml")
	return r, os.WriteFile(r.yaml, p.stdout, 0o644)
}
