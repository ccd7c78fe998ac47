package setters

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Result is what Update changed, nested file → object → changes as Flux's
// update.Result is, so that commit message templates written for Flux's
// `.Changed` read it unchanged.
type Result struct {
	// FileChanges maps each changed file (slash-separated, relative to the
	// updated root) to the changes in its objects.
	FileChanges map[string]ObjectChanges
	// Images maps each policy ("<ns>/<name>") whose markers changed at least
	// one value to the image it set.
	Images map[string]Image
	// Skipped lists the files that contain a marker but could not be parsed
	// or rewritten in place; they were left untouched.
	Skipped []SkippedFile
}

// ObjectChanges maps the objects of a file to the changes made in them.
type ObjectChanges map[ObjectID][]Change

// ObjectID identifies a Kubernetes object in a file. Files that are not
// objects (a kustomization.yaml without apiVersion and kind) have an empty
// ID in FileChanges, and no entry in Objects.
type ObjectID struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// String names the object as kubectl does, Kind/namespace/name, leaving out
// empty parts.
func (o ObjectID) String() string {
	var parts []string
	for _, p := range []string{o.Kind, o.Namespace, o.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// compare orders ObjectIDs for deterministic reports.
func (o ObjectID) compare(p ObjectID) int {
	return cmp.Or(cmp.Compare(o.APIVersion, p.APIVersion), cmp.Compare(o.Kind, p.Kind),
		cmp.Compare(o.Namespace, p.Namespace), cmp.Compare(o.Name, p.Name))
}

// Change is one value a setter replaced.
type Change struct {
	OldValue string
	NewValue string
	// Setter is the marker's setter name: "<ns>:<name>" for the full image,
	// "<ns>:<name>:tag", ":name" or ":digest" for a part.
	Setter string
}

// Policy returns the policy that made the change, as "<ns>/<name>".
func (c Change) Policy() string {
	ns, rest, _ := strings.Cut(c.Setter, ":")
	name, _, _ := strings.Cut(rest, ":")
	return ns + "/" + name
}

// SkippedFile is a file that contains a marker and was left alone.
type SkippedFile struct {
	Path   string
	Reason string
}

// Files returns the changed files, sorted.
func (r Result) Files() []string {
	return slices.Sorted(maps.Keys(r.FileChanges))
}

// Changes returns every distinct change, ordered by file, object and position.
func (r Result) Changes() []Change {
	seen := make(map[Change]bool)
	var out []Change
	for _, file := range r.Files() {
		objs := r.FileChanges[file]
		for _, id := range sortedIDs(objs) {
			for _, c := range objs[id] {
				if !seen[c] {
					seen[c] = true
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// Objects returns the changes by Kubernetes object, whichever file holds it.
// Changes in a file that is not an object (a kustomization.yaml without
// apiVersion and kind, a plain values file) are left out: they have no
// object to name, so a template ranging over .Changed.Objects never prints
// an empty id. Flux drops such changes altogether; Sluice makes them, and
// they are in FileChanges and Changes.
func (r Result) Objects() ObjectChanges {
	out := make(ObjectChanges)
	for _, file := range r.Files() {
		for id, changes := range r.FileChanges[file] {
			if id != (ObjectID{}) {
				out[id] = append(out[id], changes...)
			}
		}
	}
	return out
}

// UpdatedImages returns the images that changed at least one value, sorted by
// reference.
func (r Result) UpdatedImages() []Image {
	imgs := slices.Collect(maps.Values(r.Images))
	slices.SortFunc(imgs, func(a, b Image) int { return cmp.Compare(a.String(), b.String()) })
	return slices.CompactFunc(imgs, func(a, b Image) bool { return a == b })
}

// addChange records one change in file for object id.
func (r *Result) addChange(file string, id ObjectID, c Change, img Image) {
	if r.FileChanges == nil {
		r.FileChanges = make(map[string]ObjectChanges)
		r.Images = make(map[string]Image)
	}
	if r.FileChanges[file] == nil {
		r.FileChanges[file] = make(ObjectChanges)
	}
	r.FileChanges[file][id] = append(r.FileChanges[file][id], c)
	r.Images[c.Policy()] = img
}

func (r *Result) skip(file string, err error) {
	r.Skipped = append(r.Skipped, SkippedFile{Path: file, Reason: err.Error()})
}

func sortedIDs(objs ObjectChanges) []ObjectID {
	return slices.SortedFunc(maps.Keys(objs), ObjectID.compare)
}

// String summarises the result for logs.
func (r Result) String() string {
	return fmt.Sprintf("%d files changed, %d changes, %d files skipped", len(r.FileChanges), len(r.Changes()), len(r.Skipped))
}
