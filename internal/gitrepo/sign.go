package gitrepo

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp"
)

// CommitOption changes how CommitAll commits.
type CommitOption func(*commitOptions)

type commitOptions struct {
	signKey *openpgp.Entity
}

// SignWith signs the commit with key, an OpenPGP key with its private key
// decrypted (OpenPGPKey makes one), as Flux's image automation signs.
func SignWith(key *openpgp.Entity) CommitOption {
	return func(o *commitOptions) { o.signKey = key }
}

// OpenPGPKey reads the one key of armored, an ASCII-armored OpenPGP private
// key ring (Flux's git.asc), decrypting it with passphrase when it is
// encrypted. As in Flux, a ring of several keys is an error: which one signs
// would be a guess.
func OpenPGPKey(armored, passphrase []byte) (*openpgp.Entity, error) {
	ring, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
	if err != nil {
		return nil, fmt.Errorf("reading the OpenPGP signing key: %w", err)
	}
	switch {
	case len(ring) == 0:
		return nil, errors.New("the OpenPGP key ring holds no key")
	case len(ring) > 1:
		return nil, fmt.Errorf("the OpenPGP key ring holds %d keys; which one signs cannot be told", len(ring))
	}
	key := ring[0]
	if key.PrivateKey == nil {
		return nil, errors.New("the OpenPGP key has no private key")
	}
	if key.PrivateKey.Encrypted {
		if len(passphrase) == 0 {
			return nil, errors.New("the OpenPGP signing key is encrypted and no passphrase was given")
		}
		if err := key.DecryptPrivateKeys(passphrase); err != nil {
			return nil, fmt.Errorf("decrypting the OpenPGP signing key: %w", err)
		}
	}
	return key, nil
}
