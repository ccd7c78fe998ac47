package setters

import (
	"fmt"
	"io/fs"
	"os"
)

// FS is the tree Update reads and writes: an fs.FS plus a way to replace a
// file's content. Dir gives one on disk; tests may use their own.
type FS interface {
	fs.FS
	// WriteFile replaces the content of the existing file name.
	WriteFile(name string, data []byte) error
}

// Dir returns the directory tree rooted at dir, such as a clone's update path.
func Dir(dir string) FS {
	return dirFS{FS: os.DirFS(dir), dir: dir}
}

type dirFS struct {
	fs.FS
	dir string
}

// WriteFile writes through an os.Root, so that no path or symbolic link in
// the repository can make Update write outside dir; the file keeps its mode.
func (d dirFS) WriteFile(name string, data []byte) error {
	root, err := os.OpenRoot(d.dir)
	if err != nil {
		return fmt.Errorf("opening %s: %w", d.dir, err)
	}
	defer root.Close()
	f, err := root.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
