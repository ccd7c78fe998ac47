package kube

import (
	"context"
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// observed holds what ssa's Diff read of one object and discards: the live
// object with its managed fields, and the dry-run result. Diff needs both to
// see fields a takeover would remove, and keeping them costs no request.
type observed struct {
	live, dryRun *unstructured.Unstructured
}

type observedKey struct{}

func withObserved(ctx context.Context, o *observed) context.Context {
	return context.WithValue(ctx, observedKey{}, o)
}

// readAhead holds answers the API server gave before ssa asks for them: the
// live objects of a stage, read by kind and namespace (see readLive), and
// the dry-runs of its objects, made for the whole stage before any of it is
// applied. Each answer serves once, so a later read (ssa waiting for a
// recreated object to go) reaches the server.
type readAhead struct {
	mu     sync.Mutex
	live   map[objKey]liveAnswer
	dryRun map[objKey]*unstructured.Unstructured
}

// liveAnswer is a live object, or nil with the error a GET of it returned
// (a NotFound).
type liveAnswer struct {
	obj *unstructured.Unstructured
	err error
}

type objKey struct {
	gvk             string
	namespace, name string
}

func keyOf(obj client.Object) objKey {
	return objKey{obj.GetObjectKind().GroupVersionKind().String(), obj.GetNamespace(), obj.GetName()}
}

func (r *readAhead) takeLive(k objKey) (liveAnswer, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.live[k]
	delete(r.live, k)
	return a, ok
}

func (r *readAhead) takeDryRun(k objKey) *unstructured.Unstructured {
	r.mu.Lock()
	defer r.mu.Unlock()
	u := r.dryRun[k]
	delete(r.dryRun, k)
	return u
}

type readAheadKey struct{}

func withReadAhead(ctx context.Context, r *readAhead) context.Context {
	return context.WithValue(ctx, readAheadKey{}, r)
}

// observingClient serves ssa, for calls whose context carries a readAhead,
// the answers read ahead, and records, for calls whose context carries an
// observed, the objects a Get and a server-side apply returned.
type observingClient struct{ client.Client }

// Get implements client.Client.
func (c observingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.get(ctx, key, obj, opts...)
	if o, ok := ctx.Value(observedKey{}).(*observed); ok && err == nil {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			o.live = u.DeepCopy()
		}
	}
	return err
}

func (c observingClient) get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	r, ok := ctx.Value(readAheadKey{}).(*readAhead)
	u, isU := obj.(*unstructured.Unstructured)
	if !ok || !isU || len(opts) > 0 {
		return c.Client.Get(ctx, key, obj, opts...)
	}
	probe := &unstructured.Unstructured{}
	probe.SetGroupVersionKind(u.GroupVersionKind())
	probe.SetNamespace(key.Namespace)
	probe.SetName(key.Name)
	a, ok := r.takeLive(keyOf(probe))
	if !ok {
		return c.Client.Get(ctx, key, obj, opts...)
	}
	if a.err != nil {
		return a.err
	}
	u.Object = a.obj.DeepCopy().Object
	return nil
}

// Patch implements client.Client.
func (c observingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.patch(ctx, obj, patch, opts...)
	if o, ok := ctx.Value(observedKey{}).(*observed); ok && err == nil && patch.Type() == types.ApplyPatchType {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			o.dryRun = u.DeepCopy()
		}
	}
	return err
}

func (c observingClient) patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	r, ok := ctx.Value(readAheadKey{}).(*readAhead)
	u, isU := obj.(*unstructured.Unstructured)
	if ok && isU && patch.Type() == types.ApplyPatchType && isDryRun(opts) {
		if d := r.takeDryRun(keyOf(u)); d != nil {
			u.Object = d.DeepCopy().Object
			return nil
		}
	}
	return c.Client.Patch(ctx, obj, patch, opts...)
}

func isDryRun(opts []client.PatchOption) bool {
	po := &client.PatchOptions{}
	po.ApplyOptions(opts)
	return slices.Contains(po.DryRun, metav1.DryRunAll)
}
