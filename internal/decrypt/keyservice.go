package decrypt

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/kms"
)

// ErrNoAgeKey means a file is encrypted for age and the Kustomization's
// spec.decryption.secretRef gives no age identity.
var ErrNoAgeKey = errors.New("no age identity: spec.decryption.secretRef names no secret with a *.agekey key")

// keyServer serves SOPS's data key requests with the Kustomization's keys
// only: its age identities, and AWS KMS with the function's credentials.
// SOPS's own local server would also read identities and credentials from
// the process's environment and files, which are not the Kustomization's.
type keyServer struct {
	ctx   context.Context
	ages  age.ParsedIdentities
	creds aws.CredentialsProvider
}

var _ keyservice.KeyServiceServer = (*keyServer)(nil)

// Decrypt decrypts a data key with an age identity or AWS KMS.
func (s *keyServer) Decrypt(_ context.Context, req *keyservice.DecryptRequest) (*keyservice.DecryptResponse, error) {
	var (
		plain []byte
		err   error
	)
	switch k := req.GetKey().GetKeyType().(type) {
	case *keyservice.Key_AgeKey:
		if len(s.ages) == 0 {
			return nil, ErrNoAgeKey
		}
		key := age.MasterKey{Recipient: k.AgeKey.Recipient, EncryptedKey: string(req.Ciphertext)}
		s.ages.ApplyToMasterKey(&key)
		plain, err = key.Decrypt()
	case *keyservice.Key_KmsKey:
		// The key's aws_profile names a profile of the encrypting user's
		// machine: the function asks with its own role.
		key := kms.MasterKey{Arn: k.KmsKey.Arn, Role: k.KmsKey.Role, EncryptedKey: string(req.Ciphertext), EncryptionContext: map[string]*string{}}
		for name, v := range k.KmsKey.Context {
			key.EncryptionContext[name] = aws.String(v)
		}
		if s.creds != nil {
			kms.NewCredentialsProvider(s.creds).ApplyToMasterKey(&key)
		}
		plain, err = key.DecryptContext(s.ctx)
	default:
		return nil, fmt.Errorf("%s keys are not supported by Sluice; use age or AWS KMS", keyKind(req.GetKey()))
	}
	if err != nil {
		return nil, err
	}
	return &keyservice.DecryptResponse{Plaintext: plain}, nil
}

// Encrypt is not served: Sluice only decrypts.
func (s *keyServer) Encrypt(context.Context, *keyservice.EncryptRequest) (*keyservice.EncryptResponse, error) {
	return nil, errors.New("Sluice does not encrypt")
}

// keyKind names a key's kind in messages.
func keyKind(k *keyservice.Key) string {
	switch k.GetKeyType().(type) {
	case *keyservice.Key_PgpKey:
		return "PGP"
	case *keyservice.Key_GcpKmsKey:
		return "GCP KMS"
	case *keyservice.Key_AzureKeyvaultKey:
		return "Azure Key Vault"
	case *keyservice.Key_VaultKey:
		return "HashiCorp Vault"
	case *keyservice.Key_HckmsKey:
		return "HuaweiCloud KMS"
	}
	return "unknown"
}
