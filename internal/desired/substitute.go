package desired

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/kube"
	"github.com/sluice-gitops/sluice/internal/render"
)

// Variables reads the ConfigMaps and Secrets that postBuild.substituteFrom
// names, from the cluster, as Flux's kustomize-controller does.
type Variables interface {
	// SubstituteData returns the data of the ConfigMap or Secret (kind)
	// namespace/name, Secret values decoded; found is false when the object
	// does not exist.
	SubstituteData(ctx context.Context, kind, namespace, name string) (data map[string]string, found bool, err error)
}

var _ Variables = (*kube.Manager)(nil)

// ErrSubstituteFromMissing means a ConfigMap or Secret that
// postBuild.substituteFrom names, without optional: true, does not exist.
var ErrSubstituteFromMissing = errors.New("not found (mark the reference optional: true to go on without it)")

// SubstituteFrom reads, in order, the objects of k's postBuild.substituteFrom
// from k's namespace. An optional object that does not exist is skipped;
// any other that does not exist fails, so nothing is applied with its
// variables left empty.
func SubstituteFrom(ctx context.Context, k fluxconfig.Kustomization, vars Variables) ([]render.Variables, error) {
	var out []render.Variables
	for i, ref := range k.SubstituteFrom {
		field := fmt.Sprintf("postBuild.substituteFrom[%d]", i)
		if vars == nil {
			return nil, fmt.Errorf("%s: %s %s/%s: no cluster to read it from", field, ref.Kind, k.Namespace, ref.Name)
		}
		data, found, err := vars.SubstituteData(ctx, ref.Kind, k.Namespace, ref.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		if !found {
			if ref.Optional {
				continue
			}
			return nil, fmt.Errorf("%s: %s %s/%s %w", field, ref.Kind, k.Namespace, ref.Name, ErrSubstituteFromMissing)
		}
		out = append(out, render.Variables{Source: ref.Kind + " " + k.Namespace + "/" + ref.Name, Values: data})
	}
	return out, nil
}
