package kube

import (
	"context"

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

// observingClient records, for calls whose context carries an observed, the
// objects a Get and a server-side apply returned.
type observingClient struct{ client.Client }

// Get implements client.Client.
func (c observingClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	err := c.Client.Get(ctx, key, obj, opts...)
	if o, ok := ctx.Value(observedKey{}).(*observed); ok && err == nil {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			o.live = u.DeepCopy()
		}
	}
	return err
}

// Patch implements client.Client.
func (c observingClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	err := c.Client.Patch(ctx, obj, patch, opts...)
	if o, ok := ctx.Value(observedKey{}).(*observed); ok && err == nil && patch.Type() == types.ApplyPatchType {
		if u, ok := obj.(*unstructured.Unstructured); ok {
			o.dryRun = u.DeepCopy()
		}
	}
	return err
}
