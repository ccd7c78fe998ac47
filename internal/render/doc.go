// Package render builds a Flux Kustomization into Kubernetes objects: an
// in-process kustomize build of its path with the Flux build options Sluice
// supports, then Flux's post-build variable substitution and common metadata.
// It is pure: it reads the working tree it is given and nothing else. No load
// of a build leaves the tree: reads go through a file system confined to it
// (confinedFS), kustomize's own HTTP fetches are refused at
// http.DefaultTransport, which the package wraps when it is loaded
// (netGuard), and kustomizations that name Git repositories are refused.
package render
