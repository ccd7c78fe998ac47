package kube

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// takeoverFields lists, as JSON pointers, the fields of live that the next
// apply of desired removes because it takes over the fields of the managers
// that applied the object before Sluice (see takeover), and that a dry-run
// therefore cannot show: after the takeover Sluice owns them, and desired
// no longer sets them. dryRun is the server's answer to the dry-run apply of
// desired, whose managed fields say what Sluice will own.
func takeoverFields(desired, live, dryRun *unstructured.Unstructured, ignore jsondiff.CompiledIgnoreRules) ([]string, error) {
	cleanup := takeover()
	if live == nil || dryRun == nil || live.GetUID() == "" ||
		utils.AnyInMetadata(desired, cleanup.Exclusions) || utils.AnyInMetadata(live, cleanup.Exclusions) {
		return nil, nil
	}
	taken, mine, others := &fieldpath.Set{}, &fieldpath.Set{}, &fieldpath.Set{}
	for _, e := range dryRun.GetManagedFields() {
		set, err := fieldSet(e)
		if err != nil {
			return nil, err
		}
		switch {
		case e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply && e.Subresource == "":
			mine = mine.Union(set)
		case takenOver(e):
			taken = taken.Union(set)
		default:
			others = others.Union(set)
		}
	}
	// A map or list item that desired or another manager still fills stays,
	// though an Update recorded it as a field of its own.
	removed := taken.Difference(withParents(mine)).Difference(withParents(others))
	var fields []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] && !ignored(desired, p, ignore) {
			seen[p] = true
			fields = append(fields, p)
		}
	}
	// Set.All's iterator cannot stop early: walk a copy of the paths.
	var paths []fieldpath.Path
	removed.Iterate(func(p fieldpath.Path) { paths = append(paths, p.Copy()) })
	for _, p := range paths {
		if reported(removed, paths, p) {
			add(pointer(p, live.Object))
		}
	}
	for _, md := range []struct {
		path       string
		keys       []string
		live, want map[string]string
	}{
		{"/metadata/annotations/", cleanup.Annotations, live.GetAnnotations(), desired.GetAnnotations()},
		{"/metadata/labels/", cleanup.Labels, live.GetLabels(), desired.GetLabels()},
	} {
		for _, k := range md.keys {
			if _, in := md.live[k]; in {
				if _, wanted := md.want[k]; !wanted {
					add(md.path + pointerEscaper.Replace(k))
				}
			}
		}
	}
	return fields, nil
}

// takenOver reports whether an apply's cleanup makes e's fields Sluice's,
// matching managers as ssa does (by prefix and operation, main resource only).
func takenOver(e metav1.ManagedFieldsEntry) bool {
	if e.Subresource != "" {
		return false
	}
	for _, m := range takeoverManagers {
		if e.Operation == m.OperationType && strings.HasPrefix(e.Manager, m.Name) {
			return true
		}
	}
	return false
}

func fieldSet(e metav1.ManagedFieldsEntry) (*fieldpath.Set, error) {
	set := &fieldpath.Set{}
	if e.FieldsV1 == nil {
		return set, nil
	}
	if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
		return nil, fmt.Errorf("reading the managed fields of %s: %w", e.Manager, err)
	}
	return set, nil
}

// withParents is set with every prefix of its members.
func withParents(set *fieldpath.Set) *fieldpath.Set {
	out := &fieldpath.Set{}
	set.Iterate(func(p fieldpath.Path) {
		for i := 1; i <= len(p); i++ {
			out.Insert(p[:i].Copy())
		}
	})
	return out
}

// reported says whether p is one of the fields to name: a removed list
// item is one field, not one per field of the item; a map whose fields are
// named is not named itself.
func reported(set *fieldpath.Set, paths []fieldpath.Path, p fieldpath.Path) bool {
	for i := 1; i < len(p); i++ {
		if p[i-1].FieldName == nil && set.Has(p[:i]) {
			return false
		}
	}
	if p[len(p)-1].FieldName != nil {
		for _, q := range paths {
			if len(q) > len(p) && q[:len(p)].Equals(p) {
				return false
			}
		}
	}
	return true
}

// pointer writes p as a JSON pointer into obj, finding the index of each
// keyed list item in obj; an item it cannot find is written as the key.
func pointer(p fieldpath.Path, obj any) string {
	var b strings.Builder
	cur := obj
	for _, pe := range p {
		b.WriteByte('/')
		switch {
		case pe.FieldName != nil:
			b.WriteString(pointerEscaper.Replace(*pe.FieldName))
			m, _ := cur.(map[string]any)
			cur = m[*pe.FieldName]
		case pe.Index != nil:
			b.WriteString(strconv.Itoa(*pe.Index))
			cur = item(cur, *pe.Index)
		default:
			i := indexOf(cur, pe)
			if i < 0 {
				b.WriteString(pointerEscaper.Replace(pe.String()))
				cur = nil
				continue
			}
			b.WriteString(strconv.Itoa(i))
			cur = item(cur, i)
		}
	}
	return b.String()
}

func item(list any, i int) any {
	l, _ := list.([]any)
	if i < 0 || i >= len(l) {
		return nil
	}
	return l[i]
}

// indexOf finds the item of list that pe (a key or a set value) names.
func indexOf(list any, pe fieldpath.PathElement) int {
	l, _ := list.([]any)
	for i, it := range l {
		switch {
		case pe.Value != nil:
			if value.Equals(value.NewValueInterface(it), *pe.Value) {
				return i
			}
		case pe.Key != nil:
			m, ok := it.(map[string]any)
			if !ok {
				continue
			}
			match := true
			for _, f := range *pe.Key {
				if v, in := m[f.Name]; !in || !value.Equals(value.NewValueInterface(v), f.Value) {
					match = false
					break
				}
			}
			if match {
				return i
			}
		}
	}
	return -1
}

// ignored reports whether an ignore rule that selects obj covers pointer p.
func ignored(obj *unstructured.Unstructured, p string, rules jsondiff.CompiledIgnoreRules) bool {
	for sel, paths := range rules {
		if !sel.MatchUnstructured(obj) {
			continue
		}
		for _, ip := range paths {
			if p == ip || strings.HasPrefix(p, strings.TrimSuffix(ip, "/")+"/") {
				return true
			}
		}
	}
	return false
}
