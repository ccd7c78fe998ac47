package render

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Decryptor decrypts SOPS-encrypted data for one build. render decides what
// is decrypted, by Flux's kustomize-controller's rules (the files that
// secretGenerators and patches read, objects with a sops field, and Secret
// values that hold an encrypted file); the Decryptor knows SOPS and the keys.
// Its errors must never carry plaintext: they end up in logs and statuses.
type Decryptor interface {
	// DecryptFile returns the plaintext of the file at path (relative to
	// the clone, for messages), in the format that name's extension gives
	// (for an envs entry, dotenv unless it says otherwise); ok is false when
	// data is not SOPS-encrypted.
	DecryptFile(path, name string, env bool, data []byte) (plain []byte, ok bool, err error)
	// DecryptObject returns the plaintext JSON of an object, given as JSON,
	// that has a sops field.
	DecryptObject(data []byte) ([]byte, error)
	// DecryptValue returns the plaintext of a Secret's data value that holds
	// a SOPS-encrypted file, in the format key's extension gives; ok is
	// false when it holds none.
	DecryptValue(key string, value []byte) (plain []byte, ok bool, err error)
}

const (
	// decryptKey is the annotation by which an object opts out of
	// decryption, with the value "disabled" (in any case), as in Flux.
	decryptKey = "kustomize.toolkit.fluxcd.io/decrypt"
	// maxEncryptedFile is the largest file Flux decrypts.
	maxEncryptedFile = 5 << 20
)

// ErrEncryptedWithoutDecryption means a Secret in the build is still
// SOPS-encrypted after the build (the Kustomization has no spec.decryption,
// or the Secret's sops field has no MAC): applying it as it is would store
// ciphertext, so the build fails, as in Flux.
var ErrEncryptedWithoutDecryption = errors.New("is SOPS-encrypted; set spec.decryption (provider: sops) for it to be decrypted and applied")

func decryptDisabled(annotations map[string]string) bool {
	return strings.EqualFold(annotations[decryptKey], "disabled")
}

// encryptedSecret reports whether obj is a v1 Secret with a sops field that
// is to be decrypted, Flux's test before it refuses to apply one.
func encryptedSecret(obj *unstructured.Unstructured) bool {
	_, has := obj.Object["sops"]
	return has && obj.GetKind() == "Secret" && obj.GetAPIVersion() == "v1" && !decryptDisabled(obj.GetAnnotations())
}

// checkEncrypted refuses a Secret that is still encrypted.
func checkEncrypted(objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		if encryptedSecret(o) {
			return fmt.Errorf("Secret %s/%s %w", o.GetNamespace(), o.GetName(), ErrEncryptedWithoutDecryption)
		}
	}
	return nil
}

// decryptSources decrypts, as Flux does before it builds, every file that a
// secretGenerator (files and envs) or a patch (path) of the kustomization
// kus at dir, or of any kustomization its resources and components lead to,
// reads. It returns the plaintext by absolute path, to be served in place
// of the files: the working tree is never written.
func decryptSources(fsys filesys.FileSystem, root, dir string, kus kustypes.Kustomization, dec Decryptor) (map[string][]byte, error) {
	s := &sourceDecryption{fsys: fsys, root: root, dec: dec, plain: map[string][]byte{}, visited: map[string]bool{dir: true}}
	if err := s.kustomization(dir, kus); err != nil {
		return nil, fmt.Errorf("decrypting sources: %w", err)
	}
	return s.plain, nil
}

type sourceDecryption struct {
	fsys    filesys.FileSystem
	root    string
	dec     Decryptor
	plain   map[string][]byte
	visited map[string]bool
}

func (s *sourceDecryption) kustomization(dir string, kus kustypes.Kustomization) error {
	for _, gen := range kus.SecretGenerator {
		for _, src := range gen.FileSources {
			// "[key=]path": the key, else the file's name, gives the format.
			key, path, found := strings.Cut(src, "=")
			if !found {
				path = key
			}
			if err := s.file(dir, path, key, false); err != nil {
				return err
			}
		}
		for _, env := range gen.EnvSources {
			if err := s.file(dir, env, env, true); err != nil {
				return err
			}
		}
	}
	for _, p := range kus.Patches {
		if p.Path != "" && !isRemote(p.Path) {
			if err := s.file(dir, p.Path, p.Path, false); err != nil {
				return err
			}
		}
	}
	for _, ref := range append(append([]string{}, kus.Resources...), kus.Components...) {
		if err := s.descend(dir, ref); err != nil {
			return err
		}
	}
	return nil
}

// descend visits the kustomization of the folder ref leads to. A ref that
// is a file, a URL or a folder without a kustomization holds no generator,
// as in Flux's walk.
func (s *sourceDecryption) descend(dir, ref string) error {
	if isRemote(ref) {
		return nil
	}
	sub := s.abs(dir, ref)
	if s.visited[sub] || !s.fsys.IsDir(sub) {
		return nil
	}
	s.visited[sub] = true
	file, data, err := findKustomizationFile(s.fsys, sub)
	if err != nil || file == "" {
		return err
	}
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(data, &kus); err != nil {
		return fmt.Errorf("parsing %s: %w", relTo(s.root, file), err)
	}
	return s.kustomization(sub, kus)
}

// file decrypts the file at ref, relative to dir, when it is encrypted.
func (s *sourceDecryption) file(dir, ref, name string, env bool) error {
	path := s.abs(dir, ref)
	if _, done := s.plain[path]; done {
		return nil
	}
	rel := relTo(s.root, path)
	data, err := s.fsys.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", rel, err)
	}
	if len(data) > maxEncryptedFile {
		return fmt.Errorf("%s is %d bytes, more than the %d a file to decrypt may have", rel, len(data), maxEncryptedFile)
	}
	plain, ok, err := s.dec.DecryptFile(rel, name, env, data)
	if err != nil {
		return fmt.Errorf("decrypting %s: %w", rel, err)
	}
	if ok {
		s.plain[path] = plain
	}
	return nil
}

// abs is ref, relative to dir, as an absolute path; an absolute ref is
// taken from the root of the clone, as Flux takes it.
func (s *sourceDecryption) abs(dir, ref string) string {
	if filepath.IsAbs(ref) {
		return filepath.Join(s.root, ref)
	}
	return filepath.Join(dir, ref)
}

// toDecrypt reports whether a built object may hold ciphertext that Flux
// decrypts: it has a sops field, or it is a Secret (whose values may be
// encrypted files a generator read), and does not opt out.
func toDecrypt(kind string, hasSOPS bool, annotations map[string]string) bool {
	return (hasSOPS || kind == "Secret") && !decryptDisabled(annotations)
}

// decryptDocument decrypts one built object, given as JSON: the whole
// object when it has a sops field with a MAC, else each Secret data value
// that holds an encrypted file. It returns the object as JSON, or as YAML
// when asYAML (variables are substituted in the YAML text, after
// decryption, as in Flux).
func decryptDocument(dec Decryptor, data []byte, asYAML bool) ([]byte, error) {
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return nil, err
	}
	sops, _ := obj["sops"].(map[string]any)
	if mac, _ := sops["mac"].(string); mac != "" {
		plain, err := dec.DecryptObject(data)
		if err != nil {
			return nil, err
		}
		data = plain
	} else if values, ok := obj["data"].(map[string]any); ok && obj["kind"] == "Secret" {
		changed := false
		for key, v := range values {
			s, _ := v.(string)
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				// As Flux: a value that is not base64 is the user's error,
				// which the API server reports.
				continue
			}
			plain, ok, err := dec.DecryptValue(key, raw)
			if err != nil {
				return nil, fmt.Errorf("data key %q: %w", key, err)
			}
			if ok {
				values[key] = base64.StdEncoding.EncodeToString(plain)
				changed = true
			}
		}
		if changed {
			var err error
			if data, err = json.Marshal(obj); err != nil {
				return nil, err
			}
		}
	}
	if asYAML {
		return yaml.JSONToYAML(data)
	}
	return data, nil
}
