package kube

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// SubstituteData returns the data of the ConfigMap or Secret (kind)
// namespace/name, Secret values decoded, as Flux's postBuild.substituteFrom
// reads them (a ConfigMap's binaryData is not read); found is false when the
// object does not exist.
func (m *Manager) SubstituteData(ctx context.Context, kind, namespace, name string) (map[string]string, bool, error) {
	key := client.ObjectKey{Namespace: namespace, Name: name}
	var err error
	data := map[string]string{}
	switch kind {
	case "ConfigMap":
		var cm corev1.ConfigMap
		if err = m.client.Get(ctx, key, &cm); err == nil {
			for k, v := range cm.Data {
				data[k] = v
			}
		}
	case "Secret":
		var s corev1.Secret
		if err = m.client.Get(ctx, key, &s); err == nil {
			for k, v := range s.Data {
				data[k] = string(v)
			}
		}
	default:
		return nil, false, fmt.Errorf("substitution variables come from a ConfigMap or a Secret, not a %s", kind)
	}
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading %s %s/%s: %w", kind, namespace, name, err)
	}
	return data, true, nil
}
