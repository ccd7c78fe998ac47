package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxcd/cli-utils/pkg/object"
	"github.com/fluxcd/pkg/ssa"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// HealthCheck names an object whose health is awaited.
type HealthCheck struct {
	Group, Kind, Namespace, Name string
}

// ErrInvocationDeadline marks a health check that the invocation's own
// deadline (the Lambda function's timeout) cut shorter than the
// Kustomization's timeout asked for: not the workload's verdict.
var ErrInvocationDeadline = errors.New("the invocation's deadline came before the Kustomization's timeout")

// Wait waits until objs and checks are healthy (kstatus Current), or fails
// naming what is not when timeout passes or ctx ends, whichever is first: a
// Lambda's own deadline bounds every wait, and when it is the shorter the
// error wraps ErrInvocationDeadline and says so.
func (m *Manager) Wait(ctx context.Context, objs []*unstructured.Unstructured, checks []HealthCheck, timeout time.Duration) error {
	set := object.UnstructuredSetToObjMetadataSet(objs)
	for _, c := range checks {
		set = append(set, object.ObjMetadata{Namespace: c.Namespace, Name: c.Name, GroupKind: schemaGroupKind(c.Group, c.Kind)})
	}
	if len(set) == 0 {
		return nil
	}
	wait, cut := timeout, false
	if dl, ok := ctx.Deadline(); ok {
		// Leave time to record the failure before Lambda stops the function.
		if left := time.Until(dl) - 2*time.Second; left < timeout {
			wait, cut = max(left, time.Second), true
		}
	}
	interval := min(time.Second, wait/4)
	err := m.rm.WaitForSetWithContext(ctx, set, ssa.WaitOptions{Interval: interval, Timeout: wait, FailFast: true})
	if err == nil {
		return nil
	}
	// The poller may stop on its own request's deadline rather than report
	// what it waited for: say which objects are not healthy.
	why := err.Error()
	if unhealthy := m.unhealthy(set); len(unhealthy) > 0 {
		why = strings.Join(unhealthy, "; ")
	} else if !cut {
		return fmt.Errorf("health check: %w", err)
	}
	if cut {
		return fmt.Errorf("health check stopped after %s, short of its %s timeout: %w (raise the function's timeout or lower spec.timeout); not healthy yet: %s",
			wait.Round(time.Second), timeout, ErrInvocationDeadline, why)
	}
	return fmt.Errorf("health check failed after %s: %s", timeout, why)
}

// unhealthy lists the objects of set that are not Current, with their status.
func (m *Manager) unhealthy(set object.ObjMetadataSet) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var out []string
	for _, id := range set {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(id.GroupKind.WithVersion(""))
		mapping, err := m.client.RESTMapper().RESTMapping(id.GroupKind)
		if err != nil {
			out = append(out, fmt.Sprintf("%s/%s/%s: %v", id.GroupKind.Kind, id.Namespace, id.Name, err))
			continue
		}
		u.SetGroupVersionKind(mapping.GroupVersionKind)
		name := fmt.Sprintf("%s/%s/%s", id.GroupKind.Kind, id.Namespace, id.Name)
		if err := m.client.Get(ctx, client.ObjectKey{Namespace: id.Namespace, Name: id.Name}, u); err != nil {
			out = append(out, name+": "+err.Error())
			continue
		}
		res, err := status.Compute(u)
		if err != nil {
			out = append(out, name+": "+err.Error())
			continue
		}
		if res.Status != status.CurrentStatus {
			out = append(out, fmt.Sprintf("%s is %s: %s", name, res.Status, res.Message))
		}
	}
	return out
}

func schemaGroupKind(group, kind string) schema.GroupKind {
	return schema.GroupKind{Group: group, Kind: kind}
}
