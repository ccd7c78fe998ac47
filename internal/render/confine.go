package render

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	sigsyaml "sigs.k8s.io/yaml"
)

// confinedFS is the file system every kustomize build reads through. The
// file system under it (Flux's secure file system) keeps every read inside
// the clone, whatever ".." or symbolic link a path takes. confinedFS adds
// the one network access kustomize makes without asking the file system
// and without an HTTP request (which netGuard refuses): cloning a Git
// repository with the git command. kustomize clones only in its loader's
// New, and New is called only for the entries of a kustomization's
// resources (and bases), components, generators, transformers and
// validators; every kustomization kustomize builds is read through
// ReadFile first, so confinedFS checks those entries there and refuses
// the kustomization when one of them is not a local path.
//
// It also records the files read, so that a refused URL can be traced to
// the file and field that hold it, and whether a kustomization declares an
// OpenAPI schema (which kustomize keeps in process-wide state).
type confinedFS struct {
	filesys.FileSystem
	root string

	mu      sync.Mutex
	read    []string
	openAPI bool
	refused error
}

// ReadFile reads path and, for a kustomization file, refuses it when it
// refers to something kustomize would clone.
func (c *confinedFS) ReadFile(path string) ([]byte, error) {
	data, err := c.FileSystem.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.read = append(c.read, path)
	if !slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return data, nil
	}
	var k kustypes.Kustomization
	if sigsyaml.Unmarshal(data, &k) != nil {
		return data, nil // kustomize reports the parse error itself
	}
	if len(k.OpenAPI) > 0 {
		c.openAPI = true
	}
	if err := checkBases(relTo(c.root, path), k); err != nil {
		if c.refused == nil {
			c.refused = err
		}
		return nil, err
	}
	return data, nil
}

// result returns what the build recorded.
func (c *confinedFS) result() (read []string, openAPI bool, refused error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.read), c.openAPI, c.refused
}

// checkBases refuses the entries of k that kustomize would hand to its
// loader's New and that are not local paths.
func checkBases(file string, k kustypes.Kustomization) error {
	lists := []struct {
		field     string
		entries   []string
		mayInline bool
	}{
		{"resources", k.Resources, false}, {"bases", k.Bases, false}, {"components", k.Components, false},
		{"generators", k.Generators, true}, {"transformers", k.Transformers, true}, {"validators", k.Validators, true},
	}
	var errs []error
	for _, l := range lists {
		for i, e := range l.entries {
			if l.mayInline && isInline(e) {
				continue
			}
			if isRemote(e) || filepath.IsAbs(e) {
				errs = append(errs, fmt.Errorf("%s: %s[%d] refers to %q: %w", file, l.field, i, e, ErrNotLocal))
			}
		}
	}
	return errors.Join(errs...)
}

// inlineConfigs parses generators and transformers entries as kustomize
// does, to tell an inline plugin configuration from a path.
var inlineConfigs = resmap.NewFactory(provider.NewDepProvider().GetResourceFactory())

// isInline reports whether kustomize reads a generators, transformers or
// validators entry as an inline plugin configuration (objects in YAML)
// rather than as a path: the same parse kustomize tries first.
func isInline(entry string) (inline bool) {
	defer func() {
		if recover() != nil {
			inline = false // kustomize's parser panics on some input; then it is read as a path
		}
	}()
	_, err := inlineConfigs.NewResMapFromBytes([]byte(entry))
	return err == nil
}

// userAt is the "user@" that makes kustomize read an entry as an scp-style
// Git address (user@host:path).
var userAt = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// isRemote reports whether kustomize could read ref as a Git repository or
// URL: any URL scheme, kustomize's "git::" prefix, an scp-style user@, or a
// github.com address (kustomize's repospec.go accepts exactly these forms,
// and needs one of them; the test is wider than that, never narrower).
func isRemote(ref string) bool {
	lower := strings.ToLower(strings.TrimSpace(ref))
	if strings.Contains(lower, "://") || userAt.MatchString(lower) {
		return true
	}
	for _, prefix := range []string{"git::", "gh:", "github.com/", "github.com:"} {
		if strings.HasPrefix(lower, prefix) {
			return true
		}
	}
	return false
}

// locateRefusal names the file and field that hold url, among the files a
// build read, as "<file>: <field path>"; or "" when none holds it.
func locateRefusal(fsys filesys.FileSystem, root string, read []string, url string) string {
	for _, path := range read {
		data, err := fsys.ReadFile(path)
		if err != nil || !bytes.Contains(data, []byte(url)) {
			continue
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for doc := 1; ; doc++ {
			var n yaml.Node
			if dec.Decode(&n) != nil {
				break
			}
			if field := findScalar(&n, url, ""); field != "" {
				where := relTo(root, path)
				if name := objectName(&n); name != "" {
					where += " (" + name + ")"
				}
				return where + ": " + field
			}
		}
	}
	return ""
}

// findScalar returns the path ("files[0]", "patches[1].path") of the first
// scalar under n that contains s.
func findScalar(n *yaml.Node, s, at string) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if f := findScalar(c, s, at); f != "" {
				return f
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if at != "" {
				key = at + "." + key
			}
			if f := findScalar(n.Content[i+1], s, key); f != "" {
				return f
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if f := findScalar(c, s, at+"["+strconv.Itoa(i)+"]"); f != "" {
				return f
			}
		}
	case yaml.ScalarNode:
		if strings.Contains(n.Value, s) {
			return at
		}
	}
	return ""
}

// objectName is "Kind name" of a YAML document that is an object (a builtin
// generator's or transformer's configuration), or "".
func objectName(doc *yaml.Node) string {
	var obj struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
	}
	if doc.Decode(&obj) != nil || obj.Kind == "" || obj.Kind == kustypes.KustomizationKind || obj.Kind == kustypes.ComponentKind {
		return ""
	}
	return strings.TrimSpace(obj.Kind + " " + obj.Metadata.Name)
}

// refusal is the error of a build whose loads were refused: a kustomization
// that refers to a Git repository, or a URL that kustomize tried to fetch,
// named with the file and field that hold it.
func refusal(c *confinedFS, root string) error {
	read, _, refused := c.result()
	urls := guard.take()
	slices.Sort(urls)
	errs := []error{refused}
	for _, u := range slices.Compact(urls) {
		where := locateRefusal(c.FileSystem, root, read, u)
		if where == "" {
			where = "a file of the build"
		}
		errs = append(errs, fmt.Errorf("%s refers to %q: %w", where, u, ErrNotLocal))
	}
	return errors.Join(errs...)
}
