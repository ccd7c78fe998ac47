// Package lambdarun runs a function's handler under AWS Lambda, or, outside
// Lambda, once on an event read from a file or standard input; and sets up
// logging the same way in both.
package lambdarun
