package kube

import (
	"github.com/fluxcd/pkg/ssa/jsondiff"
	"github.com/fluxcd/pkg/ssa/utils"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
)

// unchanged reports whether a server-side apply of desired by Sluice would
// leave live exactly as it is, which makes its dry-run and its apply
// needless. It answers from live alone, and only yes when that is provable:
//
//   - Sluice's one Apply entry in live's managed fields owns exactly the
//     fields desired sets, at desired's API version: the apply would remove
//     nothing and take nothing over;
//   - no other manager owns a field desired sets (a field someone changed
//     after Sluice's apply moved to its updater), nor anything inside a list
//     desired sets (an atomic list someone replaced);
//   - every value desired sets is live's (a field someone removed is gone
//     from live);
//   - nothing makes the apply more than an apply: no exclusion or
//     if-not-present mark, no takeover to clean up, no ignore rule selecting
//     desired, no deletion under way.
//
// Any doubt answers no, and the object takes the dry-run path.
func unchanged(desired, live *unstructured.Unstructured, ignore jsondiff.CompiledIgnoreRules) bool {
	if live == nil || live.GetUID() == "" || live.GetDeletionTimestamp() != nil ||
		utils.AnyInMetadata(desired, excluded()) || utils.AnyInMetadata(live, excluded()) ||
		utils.AnyInMetadata(desired, ifNotPresent()) || selected(desired, ignore) || cleanupPending(desired, live) {
		return false
	}
	want := applied(desired.Object)
	var mine *fieldpath.Set
	for _, e := range live.GetManagedFields() {
		if e.Subresource != "" {
			continue
		}
		set, err := fieldSet(e)
		if err != nil {
			return false
		}
		if e.Manager == FieldManager && e.Operation == metav1.ManagedFieldsOperationApply {
			if mine != nil || e.APIVersion != desired.GetAPIVersion() {
				return false
			}
			mine = set
			continue
		}
		if overlaps(want, set) {
			return false
		}
	}
	return mine != nil && ownsExactly(want, mine) && contains(live.Object, want)
}

// applied is the part of obj that managed fields track: not its apiVersion
// and kind, nor its name and namespace, nor the null creationTimestamp
// that serialising an object leaves. Nor its status, which the API server
// drops from an apply where a status subresource exists (normalising gives a
// Namespace an empty one); where none exists Sluice owns the status fields
// it applied, and finding them owned and not wanted answers no.
func applied(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "apiVersion" && k != "kind" && k != "status" {
			out[k] = v
		}
	}
	if md, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(md))
		for k, v := range md {
			if k != "name" && k != "namespace" && (k != "creationTimestamp" || v != nil) {
				m[k] = v
			}
		}
		if len(m) == 0 {
			delete(out, "metadata")
		} else {
			out["metadata"] = m
		}
	}
	return out
}

// selected reports whether an ignore rule applies to obj: the apply may then
// send something other than obj.
func selected(obj *unstructured.Unstructured, rules jsondiff.CompiledIgnoreRules) bool {
	for sel := range rules {
		if sel.MatchUnstructured(obj) {
			return true
		}
	}
	return false
}

// cleanupPending reports whether an apply would first clean live up (see
// takeover).
func cleanupPending(desired, live *unstructured.Unstructured) bool {
	c := takeover()
	if utils.AnyInMetadata(desired, c.Exclusions) || utils.AnyInMetadata(live, c.Exclusions) {
		return false
	}
	for _, e := range live.GetManagedFields() {
		if takenOver(e) {
			return true
		}
	}
	for _, k := range c.Annotations {
		if _, ok := live.GetAnnotations()[k]; ok {
			return true
		}
	}
	for _, k := range c.Labels {
		if _, ok := live.GetLabels()[k]; ok {
			return true
		}
	}
	return false
}

// ownsExactly reports whether set holds the fields of want and no other:
// a map's keys as field names; a list either whole (an atomic list) or item
// by item, each item named by its key fields or its value (an associative
// list or a set), as the API server records them.
func ownsExactly(want map[string]any, set *fieldpath.Set) bool {
	n := 0
	for k, v := range want {
		pe := fieldpath.PathElement{FieldName: &k}
		child, hasChild := set.Children.Get(pe)
		switch v := v.(type) {
		case nil:
			return false
		case map[string]any:
			// Owned item by item, or whole (an atomic map, an empty map).
			if hasChild && !ownsExactly(v, child) || !hasChild && !set.Members.Has(pe) {
				return false
			}
		case []any:
			if hasChild {
				if !ownsItems(v, child) {
					return false
				}
			} else if !set.Members.Has(pe) {
				return false
			}
		default:
			if !set.Members.Has(pe) || hasChild {
				return false
			}
		}
		n++
	}
	// Members and children may name one field twice (a map owned as a
	// whole and by its keys): count the distinct names.
	names := map[string]bool{}
	for _, s := range []func(func(fieldpath.PathElement)){set.Members.Iterate, set.Children.Iterate} {
		ok := true
		s(func(pe fieldpath.PathElement) {
			if pe.FieldName == nil {
				ok = false
				return
			}
			names[*pe.FieldName] = true
		})
		if !ok {
			return false
		}
	}
	return len(names) == n
}

// ownsItems is ownsExactly for the items of a list that is not atomic.
func ownsItems(items []any, set *fieldpath.Set) bool {
	found := 0
	ok := true
	visit := func(pe fieldpath.PathElement) {
		if !ok {
			return
		}
		i := indexOf(items, pe)
		if i < 0 {
			ok = false
			return
		}
		found++
		if child, has := set.Children.Get(pe); has {
			m, isMap := items[i].(map[string]any)
			ok = isMap && ownsExactly(m, child)
		}
	}
	set.Members.Iterate(visit)
	set.Children.Iterate(func(pe fieldpath.PathElement) {
		if !set.Members.Has(pe) {
			visit(pe)
		}
	})
	return ok && found == len(items)
}

// overlaps reports whether set owns a field want sets, or anything inside a
// list want sets. Owning a map want sets (its "." entry) is not a field of
// its own: the map exists either way; owning a map whole is.
func overlaps(want map[string]any, set *fieldpath.Set) bool {
	hit := false
	for _, s := range []func(func(fieldpath.PathElement)){set.Members.Iterate, set.Children.Iterate} {
		s(func(pe fieldpath.PathElement) {
			if hit {
				return
			}
			if pe.FieldName == nil {
				hit = true
				return
			}
			v, in := want[*pe.FieldName]
			if !in {
				return
			}
			// A map owned item by item is looked into; owned whole (an
			// atomic map), it is a field like any other.
			child, byItem := set.Children.Get(pe)
			if m, isMap := v.(map[string]any); isMap && byItem {
				hit = overlaps(m, child)
				return
			}
			hit = true
		})
	}
	return hit
}

// contains reports whether every value want sets is live's: maps may hold
// more keys in live (defaults, others' fields), lists hold as many items,
// each containing want's.
func contains(live, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			lv, in := l[k]
			if !in || !contains(lv, wv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !contains(l[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return scalarEqual(live, want)
	}
}

// scalarEqual compares JSON scalars, numbers by value whatever their Go
// type (an int64 against a float64 a decoder may have made of it).
func scalarEqual(a, b any) bool {
	if a == b {
		return true
	}
	ai, aInt := a.(int64)
	bi, bInt := b.(int64)
	af, aFloat := a.(float64)
	bf, bFloat := b.(float64)
	switch {
	case aInt && bFloat:
		return float64(ai) == bf
	case aFloat && bInt:
		return af == float64(bi)
	}
	return false
}
