package render

import (
	"fmt"
	"path/filepath"
	"strings"

	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// inspection is what inspect learns about the kustomizations a build loads.
type inspection struct {
	// openAPI is true when one of them declares an openapi schema, which
	// kustomize stores in process-wide state (see runKustomize).
	openAPI bool
}

// inspect walks the kustomizations that building top (the kustomization of
// dir, read from file) loads, before kustomize does: kustomize would fetch a remote base or
// URL itself (git clone, HTTP GET) before any file system check, and render
// reads nothing but the working tree. A reference that is remote is an
// ErrNotLocal error naming the kustomization that holds it.
func inspect(fsys filesys.FileSystem, root, dir, file string, top kustypes.Kustomization) (inspection, error) {
	var in inspection
	seen := map[string]bool{}
	var walk func(dir, file string, k kustypes.Kustomization) error
	walk = func(dir, file string, k kustypes.Kustomization) error {
		if seen[dir] {
			return nil
		}
		seen[dir] = true
		k.FixKustomization()
		if len(k.OpenAPI) > 0 {
			in.openAPI = true
		}
		for _, ref := range fileRefs(k) {
			if isRemote(ref) {
				return fmt.Errorf("%s refers to %q: %w", relTo(root, file), ref, ErrNotLocal)
			}
		}
		for _, ref := range dirRefs(k) {
			if isRemote(ref) {
				return fmt.Errorf("%s refers to %q: %w", relTo(root, file), ref, ErrNotLocal)
			}
			sub := filepath.Join(dir, ref)
			if !fsys.IsDir(sub) {
				continue
			}
			subFile, data, err := findKustomizationFile(fsys, sub)
			if err != nil || subFile == "" {
				continue // kustomize reports a missing or unreadable kustomization itself
			}
			var subK kustypes.Kustomization
			if err := yaml.Unmarshal(data, &subK); err != nil {
				return fmt.Errorf("parsing %s: %w", relTo(root, subFile), err)
			}
			if err := walk(sub, subFile, subK); err != nil {
				return err
			}
		}
		return nil
	}
	return in, walk(dir, file, top)
}

// dirRefs are the references of k that may name a folder holding another
// kustomization (or a remote base).
func dirRefs(k kustypes.Kustomization) []string {
	var refs []string
	for _, list := range [][]string{k.Resources, k.Components, k.Crds, k.Configurations, k.Generators, k.Transformers, k.Validators} {
		for _, r := range list {
			if !strings.Contains(r, "\n") { // generators and transformers may be inline YAML
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// fileRefs are the references of k that name a single file to load.
func fileRefs(k kustypes.Kustomization) []string {
	refs := []string{k.OpenAPI["path"]}
	for _, p := range k.Patches {
		refs = append(refs, p.Path)
	}
	for _, p := range k.PatchesJson6902 {
		refs = append(refs, p.Path)
	}
	for _, p := range k.PatchesStrategicMerge {
		if s := string(p); !strings.Contains(s, "\n") {
			refs = append(refs, s)
		}
	}
	for _, r := range k.Replacements {
		refs = append(refs, r.Path)
	}
	for _, g := range k.ConfigMapGenerator {
		refs = append(refs, generatorFiles(g.GeneratorArgs)...)
	}
	for _, g := range k.SecretGenerator {
		refs = append(refs, generatorFiles(g.GeneratorArgs)...)
	}
	return refs
}

func generatorFiles(g kustypes.GeneratorArgs) []string {
	refs := append([]string{g.EnvSource}, g.EnvSources...)
	for _, f := range g.FileSources {
		if _, path, ok := strings.Cut(f, "="); ok {
			f = path
		}
		refs = append(refs, f)
	}
	return refs
}

// isRemote reports whether kustomize would fetch ref over the network: a URL,
// or one of the git repository forms kustomize clones (as Flux's
// IsLocalRelativePath lists them, plus kustomize's ".git//" and "?ref=").
func isRemote(ref string) bool {
	lower := strings.ToLower(ref)
	if strings.Contains(lower, "://") {
		return true
	}
	for _, prefix := range []string{"git::", "gh:", "git@", "github.com:", "github.com/"} {
		if strings.HasPrefix(lower, prefix) {
			return true
		}
	}
	return strings.Contains(lower, ".git//") || strings.Contains(lower, "?ref=") || strings.Contains(lower, "_git/")
}
