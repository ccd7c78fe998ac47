package fluxconfig

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// DefaultNamespace is the namespace of an object that names none, as the
// Kubernetes API would place it.
const DefaultNamespace = "default"

// fluxGroupSuffix marks the API groups of Flux's own kinds.
const fluxGroupSuffix = ".toolkit.fluxcd.io"

// Read reads every .yaml and .yml file under dir of fsys (recursively, in
// lexical order) and returns the Flux objects Sluice handles. A file that is
// not YAML, an object of a handled kind at a version Flux never served, an
// object missing a required field, or two objects with one name are errors
// naming the file and the field; all of them are reported together.
func Read(fsys fs.FS, dir string) (*Config, error) {
	dir = path.Clean(strings.TrimPrefix(dir, "./"))
	files, err := yamlFiles(fsys, dir)
	if err != nil {
		return nil, err
	}
	cfg := &Config{}
	seen := map[string]Source{}
	var errs []error
	for _, file := range files {
		b, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", file, err)
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(file, dir), "/")
		if dir == "." {
			rel = file
		}
		docs, err := splitDocuments(b)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", path.Join(dir, rel), err))
			continue
		}
		for i, doc := range docs {
			src := Source{File: path.Join(dir, rel), Doc: i + 1}
			if err := cfg.add(doc, src, seen); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func yamlFiles(fsys fs.FS, dir string) ([]string, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return fs.SkipDir
			}
			return nil
		}
		if ext := path.Ext(p); ext == ".yaml" || ext == ".yml" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing config folder %s: %w", dir, err)
	}
	sort.Strings(files)
	return files, nil
}

func splitDocuments(b []byte) ([][]byte, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(b)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("splitting YAML documents: %w", err)
		}
		if len(bytes.TrimSpace(doc)) > 0 {
			docs = append(docs, doc)
		}
	}
}

// object is the part every Kubernetes object shares.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

func (c *Config) add(doc []byte, src Source, seen map[string]Source) error {
	where := fmt.Sprintf("%s (document %d)", src.File, src.Doc)
	js, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return fmt.Errorf("%s: not valid YAML: %w", where, err)
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil // a document of comments only
	}
	var obj object
	if err := json.Unmarshal(js, &obj); err != nil {
		return fmt.Errorf("%s: not a Kubernetes object: %w", where, err)
	}
	group, _, _ := strings.Cut(obj.APIVersion, "/")
	if !strings.HasSuffix(group, fluxGroupSuffix) {
		return nil // not Flux's: applied by no one here, nor Sluice's business
	}
	ns := obj.Metadata.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	id := obj.Kind + "/" + ns + "/" + obj.Metadata.Name
	versions, handled := servedVersions[obj.Kind]
	if !handled {
		c.Notes = append(c.Notes, Note{Severity: Warning, Object: id, Source: src,
			Message: fmt.Sprintf("%s is a Flux kind Sluice does not handle; it is ignored", obj.Kind)})
		return nil
	}
	if obj.Metadata.Name == "" {
		return fmt.Errorf("%s: %s: metadata.name is required", where, obj.Kind)
	}
	if prev, dup := seen[id]; dup {
		return fmt.Errorf("%s: %s is also defined in %s (document %d)", where, id, prev.File, prev.Doc)
	}
	seen[id] = src
	ref := Ref{Namespace: ns, Name: obj.Metadata.Name}
	if !versions[obj.APIVersion] {
		return c.invalid(obj.Kind, ref, src, fmt.Errorf("%s: %s: apiVersion %q is not one Flux served for %s", where, id, obj.APIVersion, obj.Kind))
	}
	if len(obj.Spec) == 0 || string(obj.Spec) == "null" {
		return c.invalid(obj.Kind, ref, src, fmt.Errorf("%s: %s: spec is required", where, id))
	}
	refusals := c.classify(obj.Kind, id, obj.Spec, src)
	if err := c.convert(obj.Kind, ref, obj.Metadata.Annotations, obj.Spec, src); err != nil {
		return c.invalid(obj.Kind, ref, src, fmt.Errorf("%s: %s: %w", where, id, err))
	}
	c.refuse(obj.Kind, refusals)
	if len(obj.Metadata.Labels) > 0 {
		if c.Labels == nil {
			c.Labels = map[string]map[string]string{}
		}
		c.Labels[id] = obj.Metadata.Labels
	}
	if obj.Kind == "ImagePolicy" {
		// An automation's policySelector selects on them.
		c.ImagePolicies[len(c.ImagePolicies)-1].Labels = obj.Metadata.Labels
	}
	return nil
}

// classify notes every spec field that Sluice does not use, and returns why
// the object is refused, when a field it cannot honour is set.
func (c *Config) classify(kind, id string, spec json.RawMessage, src Source) (refusals []string) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(spec, &fields) != nil {
		return nil // convert reports the error
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, f := range names {
		rule, known := specFields[kind][f]
		switch {
		case !known:
			c.Notes = append(c.Notes, Note{Severity: Warning, Object: id, Field: "spec." + f, Source: src,
				Message: "unknown field; it is ignored (a typo?)"})
		case rule.use == obsolete:
			c.Notes = append(c.Notes, Note{Severity: Info, Object: id, Field: "spec." + f, Source: src, Message: "obsolete by design: " + rule.why})
		case rule.use == unsupported:
			c.Notes = append(c.Notes, Note{Severity: Warning, Object: id, Field: "spec." + f, Source: src, Message: rule.why})
		case rule.use == refused && isSet(fields[f]):
			refusals = append(refusals, fmt.Sprintf("%s: spec.%s: %s", src.File, f, rule.why))
		}
	}
	return refusals
}

// isSet tells a field's value apart from an empty one (false, "", {}, []).
func isSet(v json.RawMessage) bool {
	switch strings.TrimSpace(string(v)) {
	case "", "null", "false", `""`, "{}", "[]":
		return false
	}
	return true
}

// invalid handles an object whose spec Sluice cannot read. A Kustomization or
// GitRepository is kept, refused with err: it fails alone (with what depends
// on it), and stays defined, so its objects are not taken for ones that left
// Git, while every other Kustomization goes on. An image kind's err is kept
// in ImageErrors: image automation fails on it, applying does not. An Alert
// or Provider's err is kept in NotificationErrors: its events are not sent.
func (c *Config) invalid(kind string, ref Ref, src Source, err error) error {
	switch kind {
	case "Kustomization":
		c.Kustomizations = append(c.Kustomizations, Kustomization{Ref: ref, Source: src, Refusals: []string{err.Error()}})
	case "GitRepository":
		c.GitRepositories = append(c.GitRepositories, GitRepository{Ref: ref, Source: src, Refusals: []string{err.Error()}})
	case "Alert", "Provider":
		c.NotificationErrors = append(c.NotificationErrors, err)
	default:
		c.ImageErrors = append(c.ImageErrors, err)
	}
	return nil
}

// refuse records refusals on the object convert just added, so that it
// alone is refused while it stays defined (a refused Kustomization is not
// one that left Git: its objects stay).
func (c *Config) refuse(kind string, refusals []string) {
	if len(refusals) == 0 {
		return
	}
	switch kind {
	case "GitRepository":
		c.GitRepositories[len(c.GitRepositories)-1].Refusals = refusals
	case "Kustomization":
		c.Kustomizations[len(c.Kustomizations)-1].Refusals = refusals
	}
}

func decodeSpec(spec json.RawMessage, v any) error {
	if err := json.Unmarshal(spec, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("spec.%s: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("spec: %w", err)
	}
	return nil
}
