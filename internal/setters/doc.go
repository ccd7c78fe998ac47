// Package setters rewrites Flux `{"$imagepolicy": "<ns>:<name>"}` setter markers
// in YAML files to the images that policies selected, changing only the marked
// scalars' bytes, and reports what changed.
package setters
