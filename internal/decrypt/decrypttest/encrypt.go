// Package decrypttest encrypts files with SOPS's own code, as `sops
// --encrypt` does, for the tests of what decrypts them.
package decrypttest

import (
	"fmt"
	"time"

	"filippo.io/age"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"
	"github.com/getsops/sops/v3/kms"
	"github.com/getsops/sops/v3/version"
)

// Keys are the master keys a file is encrypted for.
type Keys struct {
	// AgeRecipients are age public keys (age1...).
	AgeRecipients []string
	// KMSKeyARNs are AWS KMS key ARNs; SOPS asks KMS with the environment's
	// AWS configuration (AWS_ENDPOINT_URL_KMS in tests).
	KMSKeyARNs []string
	// EncryptedRegex limits encryption to the keys it matches, as
	// .sops.yaml's encrypted_regex; empty encrypts every value.
	EncryptedRegex string
}

// NewAgeKey returns a fresh age identity ("AGE-SECRET-KEY-1...") and its
// recipient ("age1...").
func NewAgeKey() (identity, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return id.String(), id.Recipient().String(), nil
}

// Encrypt encrypts plain, in format ("yaml", "json", "dotenv" or
// "binary"), for keys, and returns the SOPS file.
func Encrypt(plain []byte, format string, keys Keys) ([]byte, error) {
	store := common.StoreForFormat(formats.FormatFromString(format), config.NewStoresConfig())
	branches, err := store.LoadPlainFile(plain)
	if err != nil {
		return nil, fmt.Errorf("reading the plain %s file: %w", format, err)
	}
	group, err := keys.group()
	if err != nil {
		return nil, err
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:      []sops.KeyGroup{group},
		EncryptedRegex: keys.EncryptedRegex,
		Version:        version.Version,
	}}
	dataKey, errs := tree.GenerateDataKeyWithKeyServices([]keyservice.KeyServiceClient{keyservice.NewLocalClient()})
	if len(errs) > 0 {
		return nil, fmt.Errorf("encrypting the data key: %v", errs)
	}
	cipher := aes.NewCipher()
	mac, err := tree.Encrypt(dataKey, cipher)
	if err != nil {
		return nil, fmt.Errorf("encrypting the values: %w", err)
	}
	tree.Metadata.LastModified = time.Now().UTC()
	tree.Metadata.MessageAuthenticationCode, err = cipher.Encrypt(mac, dataKey, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		return nil, fmt.Errorf("encrypting the MAC: %w", err)
	}
	return store.EmitEncryptedFile(tree)
}

func (k Keys) group() (sops.KeyGroup, error) {
	var group sops.KeyGroup
	for _, r := range k.AgeRecipients {
		key, err := sopsage.MasterKeyFromRecipient(r)
		if err != nil {
			return nil, err
		}
		group = append(group, key)
	}
	for _, arn := range k.KMSKeyARNs {
		group = append(group, kms.NewMasterKeyFromArn(arn, nil, ""))
	}
	if len(group) == 0 {
		return nil, fmt.Errorf("no key to encrypt for")
	}
	return group, nil
}
