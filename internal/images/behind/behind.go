package behind

import (
	"context"

	"github.com/sluice-gitops/sluice/internal/desired"
	"github.com/sluice-gitops/sluice/internal/images"
)

// Checker finds the policies behind in a desired.Snapshot; it is the drift
// handler's Images.
type Checker struct {
	resolver *images.Resolver
}

// New returns a Checker that resolves policies with r.
func New(r *images.Resolver) *Checker { return &Checker{resolver: r} }

// Behind returns the "<ns>/<name>" of the ImagePolicies whose selected image
// differs from what the setter markers in snap hold (images.Resolver.Behind),
// reading snap's clone without writing to it.
func (c *Checker) Behind(ctx context.Context, snap *desired.Snapshot) ([]string, error) {
	return c.resolver.Behind(ctx, snap.Dir(), snap.Config, snap.Repository.URL, snap.Repository.Branch)
}
