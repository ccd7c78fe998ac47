package desired

import (
	"context"
	"errors"

	"github.com/sluice-gitops/sluice/internal/fluxconfig"
	"github.com/sluice-gitops/sluice/internal/render"
)

// Keys makes the Decryptor of a Kustomization's spec.decryption: SOPS with
// the age keys of the secret secretRef names in namespace ns (none when it
// is empty) and AWS KMS. internal/decrypt implements it; desired does not
// import it, so that what renders without decrypting links no SOPS.
type Keys interface {
	For(ctx context.Context, ns, secretRef string) (render.Decryptor, error)
}

// ErrNoKeys means a Kustomization sets spec.decryption and the function was
// given no keys to decrypt with.
var ErrNoKeys = errors.New("spec.decryption is set, and this function decrypts nothing")

// decryptor is the Decryptor of k's build, or nil when k decrypts nothing.
func (s *Snapshot) decryptor(ctx context.Context, k fluxconfig.Kustomization) (render.Decryptor, error) {
	if k.Decryption == nil {
		return nil, nil
	}
	if s.keys == nil {
		return nil, ErrNoKeys
	}
	return s.keys.For(ctx, k.Namespace, k.Decryption.SecretRef)
}
