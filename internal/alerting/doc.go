// Package alerting sends Sluice's events, in Flux's event shape, to the
// Providers that Flux Alerts select, as Flux's notification-controller
// would: the same payloads, filters and metadata, with no controller.
package alerting
