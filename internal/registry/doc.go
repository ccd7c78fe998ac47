// Package registry lists the tags of an Amazon ECR repository and parses ECR
// image references.
package registry
