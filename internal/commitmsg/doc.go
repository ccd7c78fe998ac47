// Package commitmsg renders an ImageUpdateAutomation's commit message template
// with the data Flux gives it: .AutomationObject, .Changed, .Values, and the
// older .Updated that templates written for Flux's v1beta1 API still use.
package commitmsg
