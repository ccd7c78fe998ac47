package commitmsg

import (
	"strings"

	"github.com/sluice-gitops/sluice/internal/setters"
)

// dockerHub is the registry of references that name none, as Docker (and
// go-containerregistry, which Flux's ImageRef wraps) defaults it.
const dockerHub = "index.docker.io"

// ImageRef is an updated image as pre-v1 Flux templates see it: it prints as
// the reference written into the files and has Flux's ImageRef methods.
type ImageRef struct {
	image  setters.Image
	policy NamespacedName
}

// String returns the reference as written, e.g. "helloworld:v1.0.1".
func (r ImageRef) String() string {
	return r.image.String()
}

// Identifier returns the digest when there is one, else the tag.
func (r ImageRef) Identifier() string {
	if r.image.Digest != "" {
		return r.image.Digest
	}
	return r.image.Tag
}

// Registry returns the registry host, "index.docker.io" when the name has none.
func (r ImageRef) Registry() string {
	reg, _ := r.split()
	return reg
}

// Repository returns the repository path, with Docker Hub's implied
// "library/" for single-name images.
func (r ImageRef) Repository() string {
	_, repo := r.split()
	return repo
}

// Name returns the fully qualified reference, e.g.
// "index.docker.io/library/helloworld:v1.0.1" (name@digest when pinned).
func (r ImageRef) Name() string {
	reg, repo := r.split()
	if r.image.Digest != "" {
		return reg + "/" + repo + "@" + r.image.Digest
	}
	return reg + "/" + repo + ":" + r.image.Tag
}

// Policy returns the ImagePolicy that selected the image.
func (r ImageRef) Policy() NamespacedName {
	return r.policy
}

// split separates registry and repository as Docker does: the first path
// element is a registry when it has a dot or a port, or is localhost.
func (r ImageRef) split() (registry, repository string) {
	first, rest, ok := strings.Cut(r.image.Name, "/")
	if ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		return first, rest
	}
	if !ok {
		return dockerHub, "library/" + r.image.Name
	}
	return dockerHub, r.image.Name
}
