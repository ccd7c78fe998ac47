// Package fluxconfig reads the Flux objects Sluice acts on (GitRepository,
// Kustomization, ImageRepository, ImagePolicy, ImageUpdateAutomation) from a
// folder of the config repository, at every API version Flux has served, into
// one model.
package fluxconfig
