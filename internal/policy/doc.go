// Package policy picks the latest image tag a Flux ImagePolicy allows: semver
// ranges, alphabetical and numerical order, and filterTags, with the semantics of
// Flux's image-reflector-controller.
package policy
