// Package decrypt decrypts what a Kustomization's spec.decryption (provider
// sops) asks for, with the SOPS project's own code, as Flux's
// kustomize-controller does: age keys read from Secrets Manager, AWS KMS
// asked with the function's IAM role.
package decrypt
