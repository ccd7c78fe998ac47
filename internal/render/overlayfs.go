package render

import (
	"bytes"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// overlayFS is a file system that shows one file, the kustomization Flux's
// options produce, at path, and otherwise the file system it wraps. Flux's
// kustomize-controller writes that file into the tree it builds (and keeps
// the original aside); serving it from memory leaves the caller's tree as it
// was, so builds of the same tree cannot see each other's options and need no
// copy of the tree. kustomize reads kustomization files only through Exists,
// IsDir and ReadFile.
type overlayFS struct {
	filesys.FileSystem
	path string
	data []byte
}

func (o overlayFS) is(path string) bool {
	abs, err := filepath.Abs(path)
	return err == nil && abs == o.path
}

// Exists reports true for the overlaid file.
func (o overlayFS) Exists(path string) bool {
	return o.is(path) || o.FileSystem.Exists(path)
}

// IsDir reports false for the overlaid file.
func (o overlayFS) IsDir(path string) bool {
	return !o.is(path) && o.FileSystem.IsDir(path)
}

// ReadFile returns the overlaid content for the overlaid file.
func (o overlayFS) ReadFile(path string) ([]byte, error) {
	if o.is(path) {
		return bytes.Clone(o.data), nil
	}
	return o.FileSystem.ReadFile(path)
}
