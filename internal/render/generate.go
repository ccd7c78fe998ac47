package render

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/fluxcd/pkg/sourceignore"
	"github.com/fluxcd/pkg/sourceignore/gitignore"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// kustomization is the kustomization file that the build of dir reads: its
// path (the folder's own file, or kustomization.yaml when the folder has
// none) and the content Flux's options give it. Flux's kustomize-controller
// writes this content over the folder's file before building; Sluice serves
// it through overlayFS instead, so the working tree is never modified.
type kustomization struct {
	file    string
	content []byte
	parsed  kustypes.Kustomization
}

// generate computes the kustomization file for dir as Flux's generator does:
// the folder's own kustomization (or one listing every manifest under the
// folder), with targetNamespace, namePrefix/nameSuffix, patches, components
// and images from opts laid over it.
func generate(fsys filesys.FileSystem, root, dir string, opts Options) (kustomization, error) {
	kus := kustypes.Kustomization{TypeMeta: kustypes.TypeMeta{
		APIVersion: kustypes.KustomizationVersion,
		Kind:       kustypes.KustomizationKind,
	}}
	file, data, err := findKustomizationFile(fsys, dir)
	if err != nil {
		return kustomization{}, err
	}
	if file != "" {
		if err := yaml.Unmarshal(data, &kus); err != nil {
			return kustomization{}, fmt.Errorf("parsing %s: %w", relTo(root, file), err)
		}
		if len(kus.Resources) == 0 {
			// As Flux, which does this so that the rewritten file is never
			// rejected as an empty kustomization. It also makes kustomize
			// annotate objects with their origin; keeping it keeps the
			// objects identical to Flux's (TestBuildMatchesFlux).
			kus.BuildMetadata = []string{kustypes.OriginAnnotations}
		}
	} else {
		file = filepath.Join(dir, konfig.DefaultKustomizationFileName())
		resources, err := scanManifests(fsys, root, dir)
		if err != nil {
			return kustomization{}, err
		}
		if len(resources) == 0 {
			// As Flux: a placeholder keeps an empty folder from failing the
			// build as an empty kustomization; it yields no objects.
			kus.Namespace = "_placeholder"
		}
		kus.Resources = resources
	}
	if err := applyOptions(&kus, opts); err != nil {
		return kustomization{}, err
	}
	content, err := yaml.Marshal(kus)
	if err != nil {
		return kustomization{}, fmt.Errorf("writing the kustomization for %s: %w", relTo(root, dir), err)
	}
	return kustomization{file: file, content: content, parsed: kus}, nil
}

// findKustomizationFile returns the path and content of dir's kustomization
// file, or an empty path when it has none.
func findKustomizationFile(fsys filesys.FileSystem, dir string) (string, []byte, error) {
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, name)
		if fsys.Exists(p) && !fsys.IsDir(p) {
			data, err := fsys.ReadFile(p)
			if err != nil {
				return "", nil, fmt.Errorf("reading %s: %w", p, err)
			}
			return p, data, nil
		}
	}
	return "", nil, nil
}

// applyOptions lays Flux's build options over kus, as the kustomize-controller
// does: scalar fields replace, patches and components append, images merge
// by name.
func applyOptions(kus *kustypes.Kustomization, opts Options) error {
	if opts.TargetNamespace != "" {
		kus.Namespace = opts.TargetNamespace
	}
	if opts.NamePrefix != "" {
		kus.NamePrefix = opts.NamePrefix
	}
	if opts.NameSuffix != "" {
		kus.NameSuffix = opts.NameSuffix
	}
	for i, p := range opts.Patches {
		if strings.TrimSpace(p.Patch) == "" {
			return fmt.Errorf("patch %d is empty", i)
		}
		kus.Patches = append(kus.Patches, kustypes.Patch{Patch: p.Patch, Target: kustomizeSelector(p.Target)})
	}
	for _, c := range opts.Components {
		if isRemote(c) || filepath.IsAbs(c) {
			return fmt.Errorf("component %q: %w", c, ErrNotLocal)
		}
		kus.Components = append(kus.Components, c)
	}
	for i, img := range opts.Images {
		if img.Name == "" {
			return fmt.Errorf("image %d has no name", i)
		}
		mergeImage(kus, img)
	}
	return nil
}

// mergeImage adds img to kus.Images, or updates the entry of the same name.
// Fields img leaves empty keep the kustomization's value, as an overlay
// would; a tag and a digest are one choice, so setting either replaces both
// (a stale digest next to a new tag would silently win at pull time).
func mergeImage(kus *kustypes.Kustomization, img Image) {
	for i := range kus.Images {
		if kus.Images[i].Name != img.Name {
			continue
		}
		if img.NewName != "" {
			kus.Images[i].NewName = img.NewName
		}
		if img.NewTag != "" || img.Digest != "" {
			kus.Images[i].NewTag = img.NewTag
			kus.Images[i].Digest = img.Digest
		}
		return
	}
	kus.Images = append(kus.Images, kustypes.Image{
		Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest,
	})
}

func kustomizeSelector(s *Selector) *kustypes.Selector {
	if s == nil {
		return nil
	}
	out := &kustypes.Selector{LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
	out.Group, out.Version, out.Kind = s.Group, s.Version, s.Kind
	out.Name, out.Namespace = s.Name, s.Namespace
	return out
}

// scanManifests lists, as kustomization resources relative to dir, every
// YAML file under dir and every sub-folder that has its own kustomization
// (which is not descended into), in lexical order. A YAML file that is not
// Kubernetes objects is an error, as in Flux. Files that source-controller
// leaves out of an artifact by default (.git, CI folders, images) and those
// matched by .sourceignore files are skipped, since Flux never sees them.
func scanManifests(fsys filesys.FileSystem, root, dir string) ([]string, error) {
	ignore, err := ignoreMatcher(root)
	if err != nil {
		return nil, err
	}
	factory := provider.NewDefaultDepProvider().GetResourceFactory()
	var resources []string
	err = fsys.Walk(dir, func(path string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		if ignore.Match(splitPath(relTo(root, path)), info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel := "./" + filepath.ToSlash(relTo(dir, path))
		if info.IsDir() {
			if f, _, err := findKustomizationFile(fsys, path); err != nil {
				return err
			} else if f != "" {
				resources = append(resources, rel)
				return filepath.SkipDir
			}
			return nil
		}
		if ext := filepath.Ext(path); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		data, err := fsys.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading %s: %w", relTo(root, path), err)
		}
		if err := decodes(factory, data); err != nil {
			return fmt.Errorf("%s is not Kubernetes YAML: %w", relTo(root, path), err)
		}
		resources = append(resources, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing the manifests under %s: %w", relTo(root, dir), err)
	}
	return resources, nil
}

// decodes reports whether data parses as Kubernetes objects. kustomize's
// parser panics on some malformed input; the panic becomes the error.
func decodes(factory *resource.Factory, data []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("parser panicked: %v", r)
		}
	}()
	_, err = factory.SliceFromBytes(data)
	return err
}

// ignoreMatcher matches the paths, relative to root, that source-controller
// would leave out of the artifact: its default exclusions and the patterns
// of every .sourceignore file in the tree.
func ignoreMatcher(root string) (gitignore.Matcher, error) {
	patterns, err := sourceignore.LoadIgnorePatterns(root, nil)
	if err != nil {
		return nil, fmt.Errorf("reading .sourceignore files: %w", err)
	}
	return sourceignore.NewDefaultMatcher(patterns, nil), nil
}

func splitPath(rel string) []string {
	return strings.Split(filepath.ToSlash(rel), "/")
}

// relTo returns path relative to base for messages and resource lists;
// paths outside base are returned unchanged.
func relTo(base, path string) string {
	rel, err := filepath.Rel(base, path)
	if err != nil || !filepath.IsLocal(rel) {
		return path
	}
	return rel
}
