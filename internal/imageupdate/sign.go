package imageupdate

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/sluice-gitops/sluice/internal/gitrepo"
	"github.com/sluice-gitops/sluice/internal/images"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// Secrets reads a secret's value by Secrets Manager id; *secrets.Manager
// has it.
type Secrets interface {
	GetSecret(ctx context.Context, id string) (string, error)
}

var _ Secrets = (*secrets.Manager)(nil)

// Flux's keys in a signing key's secret.
const (
	signingKeyGPG        = "git.asc"
	signingPassphraseGPG = "passphrase"
)

// signingKey reads the OpenPGP key a's spec.git.commit.signingKey names:
// the Secrets Manager secret sluice/<ns>/<name>, a JSON object with Flux's
// keys git.asc and, for an encrypted key, passphrase. Errors name the
// secret and the key, never a value.
func (u *Updater) signingKey(ctx context.Context, a images.Automation) (*openpgp.Entity, error) {
	id := secrets.FluxSecretID(a.Namespace, a.SigningKey.SecretRef)
	if u.Secrets == nil {
		return nil, fmt.Errorf("spec.git.commit.signingKey: secret %s cannot be read: no Secrets Manager client", id)
	}
	v, err := u.Secrets.GetSecret(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("spec.git.commit.signingKey: reading secret %s: %w", id, err)
	}
	var keys map[string]string
	if json.Unmarshal([]byte(strings.TrimSpace(v)), &keys) != nil {
		return nil, fmt.Errorf("spec.git.commit.signingKey: secret %s is not a JSON object of strings with Flux's keys (%s, %s)", id, signingKeyGPG, signingPassphraseGPG)
	}
	armored, ok := keys[signingKeyGPG]
	if !ok {
		return nil, fmt.Errorf("spec.git.commit.signingKey: secret %s has no %q key", id, signingKeyGPG)
	}
	key, err := gitrepo.OpenPGPKey([]byte(armored), []byte(keys[signingPassphraseGPG]))
	if err != nil {
		return nil, fmt.Errorf("spec.git.commit.signingKey: secret %s: %w", id, err)
	}
	return key, nil
}
