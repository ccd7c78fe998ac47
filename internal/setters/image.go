package setters

import (
	"fmt"
	"strings"
)

// Image is the image a policy selected: Flux's ImagePolicy status.latestRef.
type Image struct {
	// Name is the image without tag or digest, e.g.
	// 111122223333.dkr.ecr.ap-northeast-1.amazonaws.com/mamezou-tech/task-service.
	Name string
	// Tag is the selected tag, e.g. 1.1.1.
	Tag string
	// Digest is the manifest digest (sha256:...), when known.
	Digest string
}

// String returns the full reference, name:tag[@digest], which is what a full
// `{"$imagepolicy": "<ns>:<name>"}` marker sets.
func (i Image) String() string {
	s := i.Name + ":" + i.Tag
	if i.Digest != "" {
		s += "@" + i.Digest
	}
	return s
}

// ParseImage splits a name:tag[@digest] reference. A reference without a tag
// is an error: a policy always selects a tag.
func ParseImage(ref string) (Image, error) {
	rest, digest, _ := strings.Cut(ref, "@")
	slash := strings.LastIndex(rest, "/")
	colon := strings.LastIndex(rest, ":")
	if colon <= slash {
		return Image{}, fmt.Errorf("image reference %q has no tag", ref)
	}
	img := Image{Name: rest[:colon], Tag: rest[colon+1:], Digest: digest}
	if err := img.validate(); err != nil {
		return Image{}, fmt.Errorf("image reference %q: %w", ref, err)
	}
	return img, nil
}

// validate rejects images that cannot be written into a manifest as one token.
func (i Image) validate() error {
	switch {
	case i.Name == "":
		return fmt.Errorf("empty name")
	case i.Tag == "":
		return fmt.Errorf("empty tag")
	case strings.ContainsAny(i.String(), " \t\r\n#"):
		return fmt.Errorf("contains whitespace or '#'")
	}
	return nil
}
