package kube

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// listMin is how many objects of one kind in one namespace make one LIST
// cheaper than a GET each. A LIST also returns the objects of that kind
// that are not Sluice's, so a few objects are read one by one.
const listMin = 16

// listPage bounds the objects one LIST response holds, and so the memory
// that reading a large namespace takes.
const listPage = 500

// readLive reads the live state of objs from the cluster: one LIST per kind
// and namespace that holds at least listMin of them, a GET for the others.
// Objects it could not read (a kind the cluster does not know, a read
// refused) are left out: ssa reads them itself and deals with the error as
// it always did. The answers are keyed as ssa's own GET of desired objects
// asks (keyOf).
func (m *Manager) readLive(ctx context.Context, objs []*unstructured.Unstructured) map[objKey]liveAnswer {
	type group struct {
		gvk       schema.GroupVersionKind
		resource  schema.GroupResource
		namespace string
		members   []int // indexes into objs
	}
	groups := map[string]*group{}
	var order []*group
	for i, o := range objs {
		gvk := o.GroupVersionKind()
		mapping, err := m.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			continue
		}
		ns := o.GetNamespace()
		if mapping.Scope.Name() == meta.RESTScopeNameRoot {
			ns = ""
		}
		id := gvk.String() + "|" + ns
		if groups[id] == nil {
			groups[id] = &group{gvk: gvk, resource: mapping.Resource.GroupResource(), namespace: ns}
			order = append(order, groups[id])
		}
		groups[id].members = append(groups[id].members, i)
	}
	answers := make([]*liveAnswer, len(objs))
	var g errgroup.Group
	g.SetLimit(concurrency)
	for _, grp := range order {
		if len(grp.members) >= listMin {
			g.Go(func() error {
				byName, err := m.list(ctx, grp.gvk, grp.namespace)
				if err != nil {
					return nil
				}
				for _, i := range grp.members {
					name := objs[i].GetName()
					if live, ok := byName[name]; ok {
						answers[i] = &liveAnswer{obj: live}
					} else {
						answers[i] = &liveAnswer{err: apierrors.NewNotFound(grp.resource, name)}
					}
				}
				return nil
			})
			continue
		}
		for _, i := range grp.members {
			g.Go(func() error {
				live := &unstructured.Unstructured{}
				live.SetGroupVersionKind(objs[i].GroupVersionKind())
				err := m.client.Get(ctx, client.ObjectKeyFromObject(objs[i]), live)
				switch {
				case err == nil:
					answers[i] = &liveAnswer{obj: live}
				case apierrors.IsNotFound(err):
					answers[i] = &liveAnswer{err: err}
				}
				return nil
			})
		}
	}
	_ = g.Wait() // every goroutine returns nil: what could not be read is left out
	out := make(map[objKey]liveAnswer, len(objs))
	for i, a := range answers {
		if a != nil {
			out[keyOf(objs[i])] = *a
		}
	}
	return out
}

// list reads every object of gvk in namespace (all of them for a
// cluster-scoped kind), page by page, by name.
func (m *Manager) list(ctx context.Context, gvk schema.GroupVersionKind, namespace string) (map[string]*unstructured.Unstructured, error) {
	out := map[string]*unstructured.Unstructured{}
	page := &unstructured.UnstructuredList{}
	page.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	next := ""
	for {
		opts := []client.ListOption{client.Limit(listPage), client.Continue(next)}
		if namespace != "" {
			opts = append(opts, client.InNamespace(namespace))
		}
		if err := m.client.List(ctx, page, opts...); err != nil {
			return nil, fmt.Errorf("listing %s in %q: %w", gvk.Kind, namespace, err)
		}
		for i := range page.Items {
			o := &page.Items[i]
			o.SetGroupVersionKind(gvk)
			out[o.GetName()] = o
		}
		if next = page.GetContinue(); next == "" {
			return out, nil
		}
		page = &unstructured.UnstructuredList{}
		page.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	}
}
