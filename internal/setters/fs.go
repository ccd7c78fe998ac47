package setters

import (
	"io/fs"
	"os"
)

// FS is the tree Update reads and writes: an fs.FS plus a way to replace a
// file's content. Root gives one on disk; tests may use their own.
type FS interface {
	fs.FS
	// WriteFile replaces the content of the existing file name.
	WriteFile(name string, data []byte) error
}

// Root returns the tree of root. Reads and writes both go through it, so
// that no symbolic link in the repository, the folder of root's own path
// included when the caller opened it through a Root, leads outside it.
func Root(root *os.Root) FS {
	return rootFS{FS: root.FS(), root: root}
}

type rootFS struct {
	fs.FS
	root *os.Root
}

// WriteFile replaces the content of name inside the root; it keeps its mode.
func (r rootFS) WriteFile(name string, data []byte) error {
	f, err := r.root.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
