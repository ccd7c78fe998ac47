// Package behind tells the drift function which ImagePolicies the config
// branch is behind on. It is apart from package images so that the
// image-update function, which links images, links none of the Kubernetes
// and kustomize code that desired.Snapshot brings.
package behind
