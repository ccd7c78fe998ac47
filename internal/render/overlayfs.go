package render

import (
	"bytes"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayFS is a file system that shows some files, by absolute path, with
// the content render gives them, and otherwise the file system it wraps:
// the kustomization Flux's options produce, and the plaintext of the
// SOPS-encrypted files generators read. Flux's kustomize-controller writes
// both into the tree it builds; serving them from memory leaves the
// caller's tree as it was, so builds of the same tree cannot see each
// other's options, plaintext never touches the disk, and no copy of the
// tree is needed. kustomize reads files only through Exists, IsDir and
// ReadFile.
type overlayFS struct {
	filesys.FileSystem
	files map[string][]byte
}

func (o overlayFS) get(path string) ([]byte, bool) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, false
	}
	data, ok := o.files[abs]
	return data, ok
}

// Exists reports true for an overlaid file.
func (o overlayFS) Exists(path string) bool {
	_, ok := o.get(path)
	return ok || o.FileSystem.Exists(path)
}

// IsDir reports false for an overlaid file.
func (o overlayFS) IsDir(path string) bool {
	_, ok := o.get(path)
	return !ok && o.FileSystem.IsDir(path)
}

// ReadFile returns the overlaid content for an overlaid file.
func (o overlayFS) ReadFile(path string) ([]byte, error) {
	if data, ok := o.get(path); ok {
		return bytes.Clone(data), nil
	}
	return o.FileSystem.ReadFile(path)
}
