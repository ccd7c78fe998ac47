package render

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"

	securefs "github.com/fluxcd/pkg/kustomize/filesys"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

var (
	// ErrPathEscapesRoot means a Kustomization's path leads outside the
	// working tree, by ".." or through a symbolic link.
	ErrPathEscapesRoot = errors.New("path escapes the repository root")
	// ErrPathNotFound means a Kustomization's path does not exist.
	ErrPathNotFound = errors.New("path not found")
	// ErrNotLocal means a build refers to something outside the working tree
	// (a remote base, a URL, an absolute component): render never fetches.
	ErrNotLocal = errors.New("not a local path (render reads only the repository's working tree)")
)

// Build builds the Kustomization whose options are opts, in the working tree
// of a clone at root, into objects: the kustomize build of opts.Path with
// Flux's overrides, then variable substitution and common metadata. Objects
// come in kustomize's order (as `kubectl kustomize` prints them, or as the
// kustomization's sortOptions say), which depends only on the input.
//
// Build reads nothing outside root, writes nothing, and may be called
// concurrently; the kustomize part of concurrent builds runs one at a time.
// Errors name opts.Path and say what failed.
func Build(root string, opts Options) ([]*unstructured.Unstructured, error) {
	objects, err := build(root, opts)
	if err != nil {
		return nil, fmt.Errorf("building Kustomization path %q: %w", displayPath(opts.Path), err)
	}
	return objects, nil
}

func build(root string, opts Options) ([]*unstructured.Unstructured, error) {
	vars, err := substitutionVars(opts)
	if err != nil {
		return nil, err
	}
	realRoot, err := resolveRoot(root)
	if err != nil {
		return nil, err
	}
	dir, err := resolvePath(realRoot, opts.Path)
	if err != nil {
		return nil, err
	}
	fsys, err := securefs.MakeFsOnDiskSecure(realRoot)
	if err != nil {
		return nil, fmt.Errorf("opening repository root %s: %w", root, err)
	}
	kus, err := generateLocked(fsys, realRoot, dir, opts)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{kus.file: kus.content}
	if opts.Decryptor != nil {
		// Outside kustomize's lock: decryption may ask KMS, and other
		// Kustomizations' builds need not wait for it.
		plain, err := decryptSources(fsys, realRoot, dir, kus.parsed, opts.Decryptor)
		if err != nil {
			return nil, err
		}
		maps.Copy(files, plain)
	}
	docs, err := runKustomize(overlayFS{FileSystem: fsys, files: files}, realRoot, dir, kus, vars, opts.Decryptor != nil)
	if err != nil {
		return nil, err
	}
	objects := make([]*unstructured.Unstructured, 0, len(docs))
	for _, d := range docs {
		obj, err := d.object(vars, opts.Decryptor)
		if err != nil {
			return nil, err
		}
		setCommonMetadata(obj, opts.CommonLabels, opts.CommonAnnotations)
		objects = append(objects, obj)
	}
	// As Flux before it applies: a Secret still encrypted (no
	// spec.decryption, or a sops field without a MAC) is never applied.
	if err := checkEncrypted(objects); err != nil {
		return nil, err
	}
	return objects, nil
}

// kustomizeMu serialises kustomize builds. kustomize keeps process-wide state
// that concurrent builds race on (concurrent map read and write panics,
// kubernetes-sigs/kustomize#3659; Flux's generator Build holds a mutex for
// the same reason), and the OpenAPI schema a kustomization declares is
// process-wide too.
var kustomizeMu sync.Mutex

// document is one built object, serialised while kustomize's lock is held:
// as JSON, or as YAML when variables are to be substituted in it (Flux
// substitutes in the YAML text). An object to decrypt stays JSON until it
// is decrypted, outside the lock.
type document struct {
	id         string
	data       []byte
	substitute bool
	decrypt    bool
}

// generateLocked runs generate under kustomize's lock: listing the
// manifests of a folder without a kustomization parses them with
// kustomize's code.
func generateLocked(fsys filesys.FileSystem, root, dir string, opts Options) (kus kustomization, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize build panicked: %v", r)
		}
	}()
	return generate(fsys, root, dir, opts)
}

// runKustomize builds dir, with the kustomization kus (which fsys serves),
// into documents. kustomize panics on some malformed input; the panic
// becomes the error, as in Flux, so one bad Kustomization cannot take down
// the others being reconciled.
func runKustomize(fsys filesys.FileSystem, root, dir string, kus kustomization, vars map[string]string, decrypt bool) (docs []document, err error) {
	kustomizeMu.Lock()
	defer kustomizeMu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize build panicked: %v", r)
		}
	}()

	if err := checkGuard(); err != nil {
		return nil, err
	}
	// kustomize's built-in OpenAPI schema is loaded before every build (a
	// no-op once loaded), so a schema a kustomization declares adds to it,
	// as in Flux. A declared schema replaces kustomize's process-wide one and
	// would leak into later builds: after such a build the built-in schema
	// is restored.
	_ = openapi.Schema()
	confined := &confinedFS{FileSystem: fsys, root: root}
	defer func() {
		if _, openAPI, _ := confined.result(); openAPI {
			openapi.ResetOpenAPI()
			_ = openapi.Schema()
		}
	}()
	_ = guard.take() // forget requests refused outside a build

	// Objects come in kubectl kustomize's order: the kustomization's
	// sortOptions, else kustomize's legacy order, which sortLegacy gives
	// in n log n where kustomize's takes n².
	reorder := krusty.ReorderOptionNone
	if kus.parsed.SortOptions != nil {
		reorder = krusty.ReorderOptionUnspecified
	}
	k := krusty.MakeKustomizer(&krusty.Options{
		Reorder: reorder,
		// As Flux: a kustomization may load files outside its folder; the
		// secure file system still keeps every read inside root.
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	m, err := k.Run(confined, dir)
	// A refused load fails the build even when kustomize went on without
	// it (it tries a refused resource URL as a Git base, say), and its
	// error says more than kustomize's ("missing kustomization file").
	if err := refusal(confined, root); err != nil {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("kustomize build failed: %w", err)
	}
	resources := m.Resources()
	if kus.parsed.SortOptions == nil {
		sortLegacy(resources)
	}
	for _, res := range resources {
		d, err := newDocument(res, len(vars) > 0, decrypt)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func newDocument(res *resource.Resource, substitute, decrypt bool) (document, error) {
	d := document{id: fmt.Sprintf("%s/%s/%s", res.GetKind(), res.GetNamespace(), res.GetName())}
	if res.GetApiVersion() == "" || res.GetKind() == "" || res.GetName() == "" {
		return document{}, fmt.Errorf("object without apiVersion, kind or name: %s", res.MustString())
	}
	d.substitute = substitute &&
		res.GetLabels()[substituteKey] != substituteDisabled &&
		res.GetAnnotations()[substituteKey] != substituteDisabled
	d.decrypt = decrypt && toDecrypt(res.GetKind(), res.Field("sops") != nil, res.GetAnnotations())
	var err error
	if d.substitute && !d.decrypt {
		d.data, err = res.AsYAML()
	} else {
		d.data, err = res.MarshalJSON()
	}
	if err != nil {
		return document{}, fmt.Errorf("serialising %s: %w", d.id, err)
	}
	return d, nil
}

func (d document) object(vars map[string]string, dec Decryptor) (*unstructured.Unstructured, error) {
	data := d.data
	if d.decrypt {
		var err error
		if data, err = decryptDocument(dec, data, d.substitute); err != nil {
			return nil, fmt.Errorf("decrypting %s: %w", d.id, err)
		}
	}
	if d.substitute {
		var err error
		if data, err = substitute(data, vars); err != nil {
			return nil, fmt.Errorf("substituting variables in %s: %w", d.id, err)
		}
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", d.id, err)
	}
	return obj, nil
}

// setCommonMetadata sets Flux's commonMetadata on obj: its labels and
// annotations win over the object's own.
func setCommonMetadata(obj *unstructured.Unstructured, labels, annotations map[string]string) {
	if len(labels) > 0 {
		obj.SetLabels(merged(obj.GetLabels(), labels))
	}
	if len(annotations) > 0 {
		obj.SetAnnotations(merged(obj.GetAnnotations(), annotations))
	}
}

func merged(dst, src map[string]string) map[string]string {
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// resolveRoot returns root as an absolute path with symbolic links resolved,
// the form kustomize's file system gives every path it hands back.
func resolveRoot(root string) (string, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("repository root %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("repository root %s: %w", root, err)
	}
	return real, nil
}

// resolvePath turns a Kustomization's path into the folder to build. As in
// Flux, the path is relative to the root whether or not it starts with "/";
// unlike Flux, which clamps a path that climbs out of the root back into it,
// such a path is an error, since it cannot be what the author meant.
func resolvePath(root, path string) (string, error) {
	rel := filepath.Clean(filepath.FromSlash(strings.TrimLeft(path, "/")))
	if !filepath.IsLocal(rel) {
		return "", ErrPathEscapesRoot
	}
	real, err := filepath.EvalSymlinks(filepath.Join(root, rel))
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrPathNotFound
	}
	if err != nil {
		return "", fmt.Errorf("resolving the path: %w", err)
	}
	if r, err := filepath.Rel(root, real); err != nil || !filepath.IsLocal(r) {
		return "", fmt.Errorf("%w: it leads to %s through a symbolic link", ErrPathEscapesRoot, real)
	}
	info, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("resolving the path: %w", err)
	}
	if !info.IsDir() {
		return "", errors.New("path is a file, not a folder")
	}
	return real, nil
}

func displayPath(path string) string {
	if path == "" {
		return "./"
	}
	return path
}
