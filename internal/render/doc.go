// Package render builds a Flux Kustomization into Kubernetes objects: an
// in-process kustomize build of its path with the Flux build options Sluice
// supports, then Flux's post-build variable substitution and common metadata.
// It is pure: it reads the working tree it is given and nothing else.
package render
