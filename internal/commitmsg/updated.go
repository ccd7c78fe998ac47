package commitmsg

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/sluice-gitops/sluice/internal/setters"
)

// Updated is Flux's pre-v1 update result: file → object → images.
type Updated struct {
	Files map[string]FileResult

	images []ImageRef // in first-seen order, so that messages are stable
}

// FileResult is the images updated in the objects of one file.
type FileResult struct {
	Objects map[setters.ObjectID][]ImageRef
}

// Images returns every image that changed a value, once each, in the order
// of files, objects and changes.
func (u Updated) Images() []ImageRef {
	return u.images
}

// Objects returns the images updated in each Kubernetes object, whichever
// file holds it; files that are not objects are left out, as in
// setters.Result.Objects.
func (u Updated) Objects() map[setters.ObjectID][]ImageRef {
	out := make(map[setters.ObjectID][]ImageRef)
	for _, f := range u.Files {
		for id, refs := range f.Objects {
			if id != (setters.ObjectID{}) {
				out[id] = append(out[id], refs...)
			}
		}
	}
	return out
}

// newUpdated projects a setters.Result onto the pre-v1 form, listing an image
// once per object, as Flux did.
func newUpdated(r setters.Result) Updated {
	u := Updated{Files: make(map[string]FileResult)}
	seen := make(map[ImageRef]bool)
	for _, file := range r.Files() {
		fr := FileResult{Objects: make(map[setters.ObjectID][]ImageRef)}
		objs := r.FileChanges[file]
		for _, id := range slices.SortedFunc(maps.Keys(objs), compareIDs) {
			for _, c := range objs[id] {
				ref, ok := newImageRef(r, c)
				if !ok || slices.Contains(fr.Objects[id], ref) {
					continue
				}
				fr.Objects[id] = append(fr.Objects[id], ref)
				if !seen[ref] {
					seen[ref] = true
					u.images = append(u.images, ref)
				}
			}
		}
		u.Files[file] = fr
	}
	return u
}

func newImageRef(r setters.Result, c setters.Change) (ImageRef, bool) {
	img, ok := r.Images[c.Policy()]
	if !ok {
		return ImageRef{}, false
	}
	ns, name, _ := strings.Cut(c.Policy(), "/")
	return ImageRef{image: img, policy: NamespacedName{Namespace: ns, Name: name}}, true
}

func compareIDs(a, b setters.ObjectID) int {
	return cmp.Or(cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}
