// Package awstest serves the AWS APIs Sluice calls at the wire-protocol level, on loopback, for tests and the demo.
package awstest
