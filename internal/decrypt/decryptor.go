package decrypt

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	"github.com/getsops/sops/v3/cmd/sops/common"
	"github.com/getsops/sops/v3/cmd/sops/formats"
	"github.com/getsops/sops/v3/config"
	"github.com/getsops/sops/v3/keyservice"

	"github.com/sluice-gitops/sluice/internal/render"
)

// Decryptor decrypts one build's SOPS data with one Kustomization's keys.
type Decryptor struct {
	keys []keyservice.KeyServiceClient
}

var _ render.Decryptor = (*Decryptor)(nil)

// markers tell, by a byte string only SOPS writes, that data is a SOPS file
// and in which format (Flux's marker bytes). A binary file is encrypted in
// a JSON envelope, which the JSON store reads.
var markers = []struct {
	format formats.Format
	marker []byte
}{
	{formats.Yaml, []byte("mac: ENC[")},
	{formats.Json, []byte(`"mac": "ENC[`)},
	{formats.Dotenv, []byte("sops_mac=ENC[")},
	{formats.Ini, []byte("[sops]")},
}

func marker(f formats.Format) []byte {
	if f == formats.Binary {
		f = formats.Json
	}
	for _, m := range markers {
		if m.format == f {
			return m.marker
		}
	}
	return nil
}

// formatFor is the format a file or Secret key named name holds, as Flux
// reads it: by extension, and .dockerconfigjson is JSON.
func formatFor(name string) formats.Format {
	if strings.HasSuffix(name, ".dockerconfigjson") {
		return formats.Json
	}
	return formats.FormatForPath(name)
}

// DecryptFile decrypts a file a secretGenerator or patch reads, in the
// format name gives, or returns ok false when it is not SOPS-encrypted in
// that format.
func (d *Decryptor) DecryptFile(path, name string, env bool, data []byte) ([]byte, bool, error) {
	f := formatFor(name)
	if env && f == formats.Binary {
		f = formats.Dotenv // as Flux: an envs entry is dotenv by default
	}
	if !bytes.Contains(data, marker(f)) {
		return nil, false, nil
	}
	plain, err := d.decrypt(data, f, f)
	return plain, err == nil, err
}

// DecryptObject decrypts an object with a sops field, JSON to JSON.
func (d *Decryptor) DecryptObject(data []byte) ([]byte, error) {
	return d.decrypt(data, formats.Json, formats.Json)
}

// DecryptValue decrypts a Secret value that holds a SOPS file of any
// format, into the format key names.
func (d *Decryptor) DecryptValue(key string, value []byte) ([]byte, bool, error) {
	for _, m := range markers {
		if bytes.Contains(value, m.marker) {
			plain, err := d.decrypt(value, m.format, formatFor(key))
			return plain, err == nil, err
		}
	}
	return nil, false, nil
}

// decrypt loads a SOPS file, gets its data key from the keys, decrypts the
// tree and writes it in the out format. As Flux, it does not check the MAC:
// kustomize adds labels and annotations to encrypted objects, which would
// fail it.
func (d *Decryptor) decrypt(data []byte, in, out formats.Format) (plain []byte, err error) {
	defer func() {
		// SOPS panics on some malformed input, as Flux found.
		if r := recover(); r != nil {
			plain, err = nil, errors.New("SOPS failed on malformed input")
		}
	}()
	tree, err := common.StoreForFormat(in, config.NewStoresConfig()).LoadEncryptedFile(data)
	if err != nil {
		return nil, fmt.Errorf("reading the SOPS file: %w", redact(userError(err)))
	}
	key, err := tree.Metadata.GetDataKeyWithKeyServices(d.keys, sops.DefaultDecryptionOrder)
	if err != nil {
		return nil, fmt.Errorf("getting the data key: %w", userError(err))
	}
	if _, err := tree.Decrypt(key, aes.NewCipher()); err != nil {
		return nil, fmt.Errorf("decrypting the values: %w", redact(err))
	}
	plain, err = common.StoreForFormat(out, config.NewStoresConfig()).EmitPlainFile(tree.Branches)
	if err != nil {
		// The error may quote the plaintext tree.
		return nil, errors.New("writing the decrypted values in the file's format failed")
	}
	return plain, nil
}

// userError is SOPS's readable form of err, which says why each key
// failed, on one line for logs and statuses.
func userError(err error) error {
	var ue sops.UserError
	if !errors.As(err, &ue) {
		return err
	}
	msg, _, _ := strings.Cut(ue.UserError(), "Recovery failed")
	var words []string
	for _, w := range strings.Fields(msg) {
		if w != "|" {
			words = append(words, w)
		}
	}
	return errors.New(strings.Join(words, " "))
}

// redact removes the value SOPS quotes when a value is not in its
// encrypted form: in a tampered file it may be plaintext.
func redact(err error) error {
	const prefix, suffix = "Input string ", " does not match sops' data format"
	msg := err.Error()
	i, j := strings.Index(msg, prefix), strings.Index(msg, suffix)
	if i < 0 || j < i {
		return err
	}
	return errors.New(msg[:i] + prefix + "<redacted>" + msg[j:])
}
