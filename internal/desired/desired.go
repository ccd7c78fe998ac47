// Package desired is what Git wants the cluster to hold: the config
// repository's branch head, its Flux objects, and each Kustomization rendered
// exactly as the reconcile function applies it (the drift function compares
// the same objects).
package desired

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sluice-gitops/sluice/internal/configrepo"
	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/repoid"
)

// Git clones the config repository.
type Git interface {
	Clone(ctx context.Context, branch string) (*gitrepo.Checkout, error)
}

var _ Git = (*gitrepo.Repo)(nil)

// Repository is the config repository Sluice serves, as every function reads
// it from its environment.
type Repository = configrepo.Repository

// SourceSuspended reports whether the GitRepository k applies from is
// suspended: as in Flux, nothing new is applied from it until it is resumed.
func (s *Snapshot) SourceSuspended(k fluxconfig.Kustomization) bool {
	for _, g := range s.Config.GitRepositories {
		if g.Ref == k.SourceRef.Ref {
			return g.Suspend
		}
	}
	return false
}

// Owner is the inventory owner of the Kustomization ref in repo's installation.
func Owner(repo Repository, ref fluxconfig.Ref) kube.Owner {
	return kube.Owner{Installation: repo.Installation(), Namespace: ref.Namespace, Name: ref.Name}
}

// Snapshot is the branch head checked out, with its Flux objects.
type Snapshot struct {
	Repository Repository
	Revision   string
	Config     *fluxconfig.Config
	// dir holds the files; cleanup, when set, removes a clone of them.
	dir     string
	cleanup func() error
	keys    Keys
}

// Option changes how a Snapshot renders.
type Option func(*Snapshot)

// WithKeys decrypts the Kustomizations that set spec.decryption with keys;
// without it (or with nil keys), each of them fails alone.
func WithKeys(keys Keys) Option {
	return func(s *Snapshot) { s.keys = keys }
}

// Open clones the branch head once and reads its Flux objects, logging what
// Sluice does not act on. Close removes the clone.
func Open(ctx context.Context, git Git, repo Repository, opts ...Option) (*Snapshot, error) {
	co, err := git.Clone(ctx, repo.Branch)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(ctx, co.Dir, repo.ConfigPath)
	if err != nil {
		co.Close()
		return nil, fmt.Errorf("reading Flux objects from %s at %s: %w", repo.ConfigPath, co.Head, err)
	}
	snap := &Snapshot{Repository: repo, Revision: co.Head, Config: cfg, dir: co.Dir, cleanup: co.Close}
	for _, o := range opts {
		o(snap)
	}
	return snap, nil
}

func readConfig(ctx context.Context, dir, configPath string) (*fluxconfig.Config, error) {
	cfg, err := fluxconfig.Read(os.DirFS(dir), configPath)
	if err != nil {
		return nil, err
	}
	for _, err := range cfg.ImageErrors {
		slog.WarnContext(ctx, "an image object cannot be read; image automation fails on it, applying goes on", "error", err)
	}
	for _, n := range cfg.Notes {
		level := slog.LevelInfo
		if n.Severity == fluxconfig.Warning {
			level = slog.LevelWarn
		}
		slog.Log(ctx, level, n.Message, "object", n.Object, "field", n.Field, "file", n.Source.File)
	}
	return cfg, nil
}

// Close removes the clone; a snapshot of a local folder (OpenDir) is left
// as it is.
func (s *Snapshot) Close() error {
	if s.cleanup == nil {
		return nil
	}
	return s.cleanup()
}

// Select returns the Kustomizations named "<ns>/<name>" (all when names is
// empty), and the names that no longer exist.
func (s *Snapshot) Select(names []string) (selected []fluxconfig.Kustomization, unknown []string) {
	if len(names) == 0 {
		return s.Config.Kustomizations, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	for _, k := range s.Config.Kustomizations {
		if want[k.Ref.String()] {
			selected = append(selected, k)
			delete(want, k.Ref.String())
		}
	}
	for n := range want {
		unknown = append(unknown, n)
	}
	return selected, unknown
}

// Render builds k's objects from the clone, labelled as members of its
// ApplySet, with the variables of k's postBuild.substituteFrom read through
// vars. Its source must be the config repository at the configured branch.
func (s *Snapshot) Render(ctx context.Context, k fluxconfig.Kustomization, vars Variables) ([]*unstructured.Unstructured, error) {
	if len(k.Refusals) > 0 {
		return nil, fmt.Errorf("Kustomization %s is refused, nothing applied or deleted: %s", k.Ref, strings.Join(k.Refusals, "; "))
	}
	if err := s.checkSource(k); err != nil {
		return nil, err
	}
	opts := RenderOptions(k)
	from, err := SubstituteFrom(ctx, k, vars)
	if err != nil {
		return nil, fmt.Errorf("Kustomization %s: %w", k.Ref, err)
	}
	opts.SubstituteFrom = from
	if opts.Decryptor, err = s.decryptor(ctx, k); err != nil {
		return nil, fmt.Errorf("Kustomization %s: %w", k.Ref, err)
	}
	// A local folder (Revision "") may change under the same commit: it is
	// never memoised.
	var objs []*unstructured.Unstructured
	ok := false
	if s.Revision != "" {
		objs, ok = renders.get(s.Revision, opts)
	}
	if !ok {
		var err error
		if objs, err = render.Build(s.dir, opts); err != nil {
			return nil, fmt.Errorf("Kustomization %s: %w", k.Ref, err)
		}
		if s.Revision != "" {
			renders.put(s.Revision, opts, objs)
		}
	}
	kube.SetOwner(objs, Owner(s.Repository, k.Ref))
	return objs, nil
}

func (s *Snapshot) checkSource(k fluxconfig.Kustomization) error {
	for _, g := range s.Config.GitRepositories {
		if g.Ref != k.SourceRef.Ref {
			continue
		}
		if len(g.Refusals) > 0 {
			return fmt.Errorf("Kustomization %s: its GitRepository %s is refused: %s", k.Ref, g.Ref, strings.Join(g.Refusals, "; "))
		}
		if !repoid.Same(g.URL, s.Repository.URL) {
			return fmt.Errorf("Kustomization %s: its GitRepository %s (%s) is not the config repository %s; other sources are not supported yet", k.Ref, g.Ref, g.URL, s.Repository.ID())
		}
		if g.Branch != "" && g.Branch != s.Repository.Branch || g.Tag != "" || g.SemVer != "" || g.Commit != "" || g.RefName != "" {
			return fmt.Errorf("Kustomization %s: its GitRepository %s must follow branch %s (SLUICE_GIT_BRANCH), the branch Sluice is woken for", k.Ref, g.Ref, s.Repository.Branch)
		}
		return nil
	}
	return fmt.Errorf("Kustomization %s: its source GitRepository %s is not defined in %s", k.Ref, k.SourceRef.Ref, s.Repository.ConfigPath)
}

// RenderOptions converts k's build options.
func RenderOptions(k fluxconfig.Kustomization) render.Options {
	o := render.Options{
		Path:              path.Clean("./" + k.Path),
		TargetNamespace:   k.TargetNamespace,
		NamePrefix:        k.NamePrefix,
		NameSuffix:        k.NameSuffix,
		Components:        k.Components,
		Substitute:        k.Substitute,
		CommonLabels:      k.CommonLabels,
		CommonAnnotations: k.CommonAnnots,
	}
	for _, img := range k.Images {
		o.Images = append(o.Images, render.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.Patches {
		rp := render.Patch{Patch: p.Patch}
		if t := p.Target; t != nil {
			rp.Target = &render.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
				LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
		}
		o.Patches = append(o.Patches, rp)
	}
	return o
}

// IgnoreRules converts k's spec.ignore.
func IgnoreRules(k fluxconfig.Kustomization) []kube.IgnoreRule {
	var out []kube.IgnoreRule
	for _, r := range k.Ignore {
		kr := kube.IgnoreRule{Paths: r.Paths}
		if t := r.Target; t != nil {
			kr.Target = &kube.Selector{Group: t.Group, Version: t.Version, Kind: t.Kind, Name: t.Name, Namespace: t.Namespace,
				LabelSelector: t.LabelSelector, AnnotationSelector: t.AnnotationSelector}
		}
		out = append(out, kr)
	}
	return out
}
