package render

import (
	"cmp"
	"slices"

	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/resid"
)

// kustomize's legacy order ("DO NOT CHANGE" upstream): these kinds first and
// last, in this order; every other kind between them.
var (
	legacyFirst = []string{
		"Namespace", "ResourceQuota", "StorageClass", "CustomResourceDefinition",
		"ServiceAccount", "PodSecurityPolicy", "Role", "ClusterRole", "RoleBinding",
		"ClusterRoleBinding", "ConfigMap", "Secret", "Endpoints", "Service",
		"LimitRange", "PriorityClass", "PersistentVolume", "PersistentVolumeClaim",
		"Deployment", "StatefulSet", "CronJob", "PodDisruptionBudget",
	}
	legacyLast = []string{"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"}
	legacyRank = func() map[string]int {
		rank := map[string]int{}
		for i, k := range legacyFirst {
			rank[k] = i - len(legacyFirst)
		}
		for i, k := range legacyLast {
			rank[k] = i + 1
		}
		return rank
	}()
)

// sortLegacy puts resources in kustomize's legacy order, the order `kubectl
// kustomize` prints when a kustomization has no sortOptions. kustomize's own
// sort re-appends every object to its resource map after sorting, and each
// append compares the object's id with every object already there: that is
// quadratic, a few hundred milliseconds at 1,000 objects. This sort reads
// each id once. Ids are unique in a build, so the order is total and any
// sort gives kustomize's.
func sortLegacy(resources []*resource.Resource) {
	type keyed struct {
		res *resource.Resource
		id  resid.ResId
		// gvk and id are kustomize's sort strings for the kind and the
		// object; they are compared as strings, separators included.
		gvk, obj string
		rank     int
	}
	keys := make([]keyed, len(resources))
	for i, r := range resources {
		id := r.CurId()
		keys[i] = keyed{res: r, id: id, gvk: legacyGVKString(id.Gvk), obj: legacyIDString(id), rank: legacyRank[id.Kind]}
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		if !a.id.Gvk.Equals(b.id.Gvk) {
			if a.rank != b.rank {
				return cmp.Compare(a.rank, b.rank)
			}
			if a.id.Kind == "Namespace" && b.id.Kind == "Namespace" && (a.id.Group == "" || b.id.Group == "") {
				// kustomize puts core Namespaces after those of other
				// groups of the same kind.
				return cmp.Compare(b.gvk, a.gvk)
			}
			return cmp.Compare(a.gvk, b.gvk)
		}
		return cmp.Compare(a.obj, b.obj)
	})
	for i := range keys {
		resources[i] = keys[i].res
	}
}

func legacyGVKString(gvk resid.Gvk) string {
	return orDefault(gvk.Group, "~G") + "_" + orDefault(gvk.Version, "~V") + "_" + orDefault(gvk.Kind, "~K")
}

func legacyIDString(id resid.ResId) string {
	return id.Gvk.String() + "|" + orDefault(id.Namespace, "~X") + "|" + orDefault(id.Name, "~N")
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
