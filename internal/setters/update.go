package setters

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// token is what a file must contain to be examined at all, as in Flux's
// ScreeningLocalReader: it spares parsing files that cannot hold a marker
// (Helm templates, say, which are not YAML).
const token = `"$imagepolicy"`

// setter is the value one marker name sets and the policy it comes from.
type setter struct {
	value  string
	policy string
	image  Image
}

// Update sets every marked scalar in the YAML files of fsys to the images
// selected by policy, keyed "<namespace>/<name>", and writes the files that
// changed (only those). It examines, as Flux does, the files named *.yaml,
// *.yml or Kustomization that contain the string "$imagepolicy" in quotes.
// A file that does not parse is reported in Result.Skipped, not an error; an
// invalid policy key or image, or failing to read or write the tree, is.
func Update(fsys FS, images map[string]Image) (Result, error) {
	setters, err := setterTable(images)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = walkMarked(fsys, func(name string, src []byte) error {
		return updateFile(fsys, name, src, setters, &res)
	})
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// walkMarked calls fn with the name and content of every file of fsys that
// may hold markers: Flux's candidates (below) that contain the string
// "$imagepolicy" in quotes.
func walkMarked(fsys fs.FS, fn func(name string, src []byte) error) error {
	return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", name, err)
		}
		if d.IsDir() {
			// Git's own files are never manifests.
			if d.Name() == ".git" {
				return fs.SkipDir
			}
			return nil
		}
		// A link would be written through to a file elsewhere, under
		// another name; its target is updated where it lives, if in the tree.
		if !d.Type().IsRegular() || !candidate(name) {
			return nil
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if !bytes.Contains(src, []byte(token)) {
			return nil
		}
		return fn(name, src)
	})
}

// candidate is Flux's rule for which files hold manifests: the extension is
// exactly .yaml or .yml, or the name is exactly Kustomization.
func candidate(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml" || path.Base(name) == "Kustomization"
}

// setterTable returns the four setters of each policy, by marker name.
func setterTable(images map[string]Image) (map[string]setter, error) {
	table := make(map[string]setter, 4*len(images))
	for key, img := range images {
		ns, name, ok := strings.Cut(key, "/")
		if !ok || ns == "" || name == "" || strings.ContainsAny(key, ": ") || strings.Count(key, "/") != 1 {
			return nil, fmt.Errorf("policy key %q is not <namespace>/<name>", key)
		}
		if err := img.validate(); err != nil {
			return nil, fmt.Errorf("image for policy %s: %w", key, err)
		}
		base := ns + ":" + name
		table[base] = setter{value: img.String(), policy: key, image: img}
		table[base+":tag"] = setter{value: img.Tag, policy: key, image: img}
		table[base+":name"] = setter{value: img.Name, policy: key, image: img}
		// Flux sets a :digest marker to the empty string when the policy has
		// no digest; so does this.
		table[base+":digest"] = setter{value: img.Digest, policy: key, image: img}
	}
	return table, nil
}

// updateFile rewrites the marked scalars of one file and records the changes.
func updateFile(fsys FS, name string, src []byte, setters map[string]setter, res *Result) error {
	docs, err := parse(src)
	if err != nil {
		res.skip(name, err)
		return nil
	}
	var edits []edit
	for _, obj := range objects(docs) {
		walk(obj.node, func(n *yaml.Node) {
			s, ok := setters[markerName(n)]
			if ok && n.Value != s.value {
				edits = append(edits, edit{node: n, value: s.value, object: obj.id,
					change: Change{OldValue: n.Value, NewValue: s.value, Setter: markerName(n)}, image: s.image})
			}
		})
	}
	if len(edits) == 0 {
		return nil
	}
	out, err := rewrite(src, docs, edits)
	if err != nil {
		res.skip(name, err)
		return nil
	}
	if err := fsys.WriteFile(name, out); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	for _, e := range edits {
		res.addChange(name, e.object, e.change, e.image)
	}
	return nil
}

// parse decodes every document of a YAML stream.
func parse(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parsing YAML: %w", err)
		}
		docs = append(docs, &doc)
	}
}

// markerName returns the setter a scalar's comment names, or "". As in kyaml's
// fieldmeta, only the line comment is read when there is one, else the head
// comment; the comment, less its leading '#'s, must be a JSON object of
// strings, such as {"$imagepolicy": "flux-system:app:tag"}.
func markerName(n *yaml.Node) string {
	c := n.LineComment
	if c == "" {
		c = n.HeadComment
	}
	if c == "" {
		return ""
	}
	var m map[string]string
	if json.Unmarshal([]byte(strings.TrimLeft(c, "#")), &m) != nil {
		return ""
	}
	return m["$imagepolicy"]
}

// object is a node whose changes are reported under one ObjectID.
type object struct {
	id   ObjectID
	node *yaml.Node
}

// objects returns the objects of a file as kyaml's reader sees them: each
// document, or, for a file that is one List or ResourceList, its items (and
// nothing else of it: kyaml's reader drops the rest).
func objects(docs []*yaml.Node) []object {
	var roots []*yaml.Node
	for _, d := range docs {
		if len(d.Content) > 0 {
			roots = append(roots, d.Content[0])
		}
	}
	if len(roots) == 1 {
		kind := scalarField(roots[0], "kind")
		if items := field(roots[0], "items"); (kind == "List" || kind == "ResourceList") && items != nil {
			roots = items.Content
		}
	}
	objs := make([]object, 0, len(roots))
	for _, r := range roots {
		meta := field(r, "metadata")
		objs = append(objs, object{node: r, id: ObjectID{
			APIVersion: scalarField(r, "apiVersion"),
			Kind:       scalarField(r, "kind"),
			Namespace:  scalarField(meta, "namespace"),
			Name:       scalarField(meta, "name"),
		}})
	}
	return objs
}

// field returns the value of key in mapping n, or nil.
func field(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func scalarField(n *yaml.Node, key string) string {
	if v := field(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// walk calls visit for every scalar value under n, as kyaml's setter filter
// visits fields: mapping values (not keys) and sequence items; aliases are not
// followed.
func walk(n *yaml.Node, visit func(*yaml.Node)) {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walk(c, visit)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			walk(n.Content[i], visit)
		}
	case yaml.ScalarNode:
		visit(n)
	}
}
