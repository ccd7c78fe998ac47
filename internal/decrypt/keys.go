package decrypt

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/logging"

	"github.com/sluice-gitops/sluice/internal/render"
	"github.com/sluice-gitops/sluice/internal/secrets"
)

// AgeKeyExt ends the names of the secret's keys that hold age identities,
// as in Flux.
const AgeKeyExt = ".agekey"

func init() {
	// SOPS's loggers quote file content (a comment it takes for plaintext,
	// say), and plaintext must never reach a log; what went wrong is in
	// the error Sluice returns.
	for _, l := range logging.Loggers {
		l.SetOutput(io.Discard)
	}
}

// Secrets reads the secret a Flux secretRef names.
type Secrets interface {
	GetFluxSecretData(ctx context.Context, ns, name string) (map[string]string, error)
}

var _ Secrets = (*secrets.Manager)(nil)

// Keys makes the Decryptor of each Kustomization.
type Keys struct {
	secrets Secrets
	creds   aws.CredentialsProvider
}

// New returns Keys that read age identities through secrets and ask AWS KMS
// with creds (the function's role); nil creds means the default AWS
// credential chain, which in Lambda is the function's role too.
func New(secrets Secrets, creds aws.CredentialsProvider) *Keys {
	return &Keys{secrets: secrets, creds: creds}
}

// For returns the Decryptor of a Kustomization in namespace ns whose
// spec.decryption.secretRef is secretRef (empty: no age keys, KMS only).
// ctx bounds the KMS calls of the build it serves.
func (k *Keys) For(ctx context.Context, ns, secretRef string) (render.Decryptor, error) {
	var ids age.ParsedIdentities
	if secretRef != "" {
		data, err := k.secrets.GetFluxSecretData(ctx, ns, secretRef)
		if err != nil {
			return nil, fmt.Errorf("reading spec.decryption.secretRef %s: %w", secretRef, err)
		}
		names := make([]string, 0, len(data))
		for name := range data {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if filepath.Ext(name) != AgeKeyExt {
				continue
			}
			// age's parse errors quote no key material.
			if err := ids.Import(data[name]); err != nil {
				return nil, fmt.Errorf("importing %q of %s (spec.decryption.secretRef): %w", name, secrets.FluxSecretID(ns, secretRef), err)
			}
		}
	}
	server := &keyServer{ctx: ctx, ages: ids, creds: k.creds}
	return &Decryptor{keys: []keyservice.KeyServiceClient{keyservice.NewCustomLocalClient(server)}}, nil
}
