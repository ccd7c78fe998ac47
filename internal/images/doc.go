// Package images resolves Flux ImagePolicies against Amazon ECR as the
// registry is now, and finds which policies an image update would change in a
// checkout of the config repository: the part of image automation that the
// image-update and drift functions share.
package images
